//! Small result classes of the storage wrappers: the fetch slice, the
//! recovery report, append and retention results.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::storage::{AppendInfo, RecoveryReport, RetentionResult};

use super::convert::{io_err, read_into_bytes};

/// Whole batches of one segment file: `(fileno(), position, length)` for
/// `os.sendfile`, or `read()` for a copy. Keeps the file open while alive,
/// so the descriptor stays valid even if retention deletes the segment.
#[pyclass(frozen, name = "LogSlice", module = "pystream._native")]
pub struct PyLogSlice {
    pub file: Arc<File>,
    #[pyo3(get)]
    pub path: String,
    #[pyo3(get)]
    pub position: u64,
    #[pyo3(get)]
    pub length: u64,
    #[pyo3(get)]
    pub first_offset: i64,
}

#[pymethods]
impl PyLogSlice {
    fn fileno(&self) -> i32 {
        self.file.as_raw_fd()
    }

    /// The bytes of the slice (one copy, GIL released for big slices).
    fn read<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let file = Arc::clone(&self.file);
        let (pos, path) = (self.position, self.path.clone());
        read_into_bytes(py, self.length as usize, move |buf| {
            file.read_exact_at(buf, pos).map_err(|e| io_err(&path, e))
        })
    }

    fn __len__(&self) -> usize {
        self.length as usize
    }

    /// `fd, position, length = log_slice`.
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let t = (self.fileno(), self.position, self.length).into_pyobject(py)?;
        t.try_iter().map(|i| i.into_any())
    }

    fn __repr__(&self) -> String {
        format!(
            "LogSlice(path={:?}, position={}, length={}, first_offset={})",
            self.path, self.position, self.length, self.first_offset
        )
    }
}

/// What opening a partition log found and repaired.
#[pyclass(frozen, get_all, name = "RecoveryReport", module = "pystream._native")]
pub struct PyRecoveryReport {
    pub recovery_point: i64,
    pub segments_validated: usize,
    pub bytes_validated: u64,
    /// `(file, position, bytes, reason)` cut from segment tails.
    pub dropped: Vec<(String, u64, u64, String)>,
    /// `(file, bytes)` of segments removed after a cut.
    pub deleted_segments: Vec<(String, u64)>,
    /// `(index file, reason)`.
    pub rebuilt_indexes: Vec<(String, String)>,
    pub removed_files: Vec<String>,
    pub warnings: Vec<String>,
}

fn s(p: &std::path::Path) -> String {
    p.display().to_string()
}

impl From<RecoveryReport> for PyRecoveryReport {
    fn from(r: RecoveryReport) -> Self {
        PyRecoveryReport {
            recovery_point: r.recovery_point,
            segments_validated: r.segments_validated,
            bytes_validated: r.bytes_validated,
            dropped: r
                .dropped
                .into_iter()
                .map(|d| (s(&d.file), d.position, d.bytes, d.reason))
                .collect(),
            deleted_segments: r.deleted_segments.iter().map(|(p, b)| (s(p), *b)).collect(),
            rebuilt_indexes: r
                .rebuilt_indexes
                .into_iter()
                .map(|(p, why)| (s(&p), why))
                .collect(),
            removed_files: r.removed_files.iter().map(|p| s(p)).collect(),
            warnings: r.warnings,
        }
    }
}

#[pymethods]
impl PyRecoveryReport {
    /// True when nothing was dropped, deleted or rebuilt.
    #[getter]
    fn clean(&self) -> bool {
        self.dropped.is_empty()
            && self.deleted_segments.is_empty()
            && self.rebuilt_indexes.is_empty()
            && self.warnings.is_empty()
    }

    #[getter]
    fn dropped_bytes(&self) -> u64 {
        self.dropped.iter().map(|d| d.2).sum::<u64>()
            + self.deleted_segments.iter().map(|d| d.1).sum::<u64>()
    }

    fn __repr__(&self) -> String {
        format!(
            "RecoveryReport(segments_validated={}, bytes_validated={}, dropped={:?}, \
             deleted_segments={:?}, rebuilt_indexes={:?}, removed_files={:?}, warnings={:?})",
            self.segments_validated,
            self.bytes_validated,
            self.dropped,
            self.deleted_segments,
            self.rebuilt_indexes,
            self.removed_files,
            self.warnings
        )
    }
}

/// Offsets and placement of one append.
#[pyclass(frozen, get_all, name = "LogAppendInfo", module = "pystream._native")]
pub struct PyLogAppendInfo {
    pub first_offset: i64,
    pub last_offset: i64,
    pub max_timestamp: i64,
    pub offset_of_max_timestamp: i64,
    pub records: i64,
    pub segment_base_offset: i64,
    pub position: u64,
    pub rolled: bool,
    /// Where a caller that deferred the fsync (`append(..., flush=False)`)
    /// should flush up to: the rolled-out segments' end, or everything
    /// (`-1`) when `flush.messages` was reached; `None` when nothing is due.
    pub flush_up_to: Option<i64>,
}

impl From<&AppendInfo> for PyLogAppendInfo {
    fn from(a: &AppendInfo) -> Self {
        PyLogAppendInfo {
            first_offset: a.first_offset,
            last_offset: a.last_offset,
            max_timestamp: a.max_timestamp,
            offset_of_max_timestamp: a.offset_of_max_timestamp,
            records: a.records,
            segment_base_offset: a.segment_base_offset,
            position: a.position,
            rolled: a.rolled,
            flush_up_to: if a.flush_needed {
                Some(-1)
            } else if a.rolled {
                Some(a.segment_base_offset)
            } else {
                None
            },
        }
    }
}

#[pymethods]
impl PyLogAppendInfo {
    fn __repr__(&self) -> String {
        format!(
            "LogAppendInfo(first_offset={}, last_offset={}, records={}, rolled={})",
            self.first_offset, self.last_offset, self.records, self.rolled
        )
    }
}

/// What a retention pass deleted.
#[pyclass(frozen, get_all, name = "RetentionResult", module = "pystream._native")]
pub struct PyRetentionResult {
    pub deleted_segments: Vec<i64>,
    pub deleted_bytes: u64,
    pub log_start_offset: i64,
}

impl From<RetentionResult> for PyRetentionResult {
    fn from(r: RetentionResult) -> Self {
        PyRetentionResult {
            deleted_segments: r.deleted_segments,
            deleted_bytes: r.deleted_bytes,
            log_start_offset: r.log_start_offset,
        }
    }
}

#[pymethods]
impl PyRetentionResult {
    fn __repr__(&self) -> String {
        format!(
            "RetentionResult(deleted_segments={:?}, deleted_bytes={}, log_start_offset={})",
            self.deleted_segments, self.deleted_bytes, self.log_start_offset
        )
    }
}
