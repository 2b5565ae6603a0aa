//! Conversions at the storage boundary: errors to Python exceptions,
//! config keyword arguments, bytes filled without the GIL, and the data-dir
//! checkpoint functions.

use std::io;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use pyo3::exceptions::PyValueError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::py::errors::{
    record_err, InvalidRecordError, OffsetOutOfRangeError, StorageError as PyStorageError,
};
use crate::storage::checkpoint::{read_offsets, write_offsets};
use crate::storage::{LogConfig, StorageError};

/// Copies at least this big run without the GIL.
const DETACH_BYTES: usize = 64 * 1024;

pub fn storage_err(e: StorageError) -> PyErr {
    let msg = e.to_string();
    match e {
        StorageError::OffsetOutOfRange { .. } => OffsetOutOfRangeError::new_err(msg),
        StorageError::Record(r) => record_err(r),
        StorageError::InvalidAppend(_) => InvalidRecordError::new_err(msg),
        StorageError::InvalidArgument(_) => PyValueError::new_err(msg),
        _ => PyStorageError::new_err(msg),
    }
}

pub fn io_err(path: &str, e: io::Error) -> PyErr {
    PyStorageError::new_err(format!("I/O error on {path}: {e}"))
}

pub fn wall_clock_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A new `bytes` of `len` filled by `fill` (without the GIL when big), with
/// no zero-fill pass first.
pub fn read_into_bytes<'py>(
    py: Python<'py>,
    len: usize,
    fill: impl FnOnce(&mut [u8]) -> PyResult<()> + Send,
) -> PyResult<Bound<'py, PyBytes>> {
    // SAFETY: a fresh bytes object of `len` bytes, not yet visible to any
    // other code, is initialized in full before it is returned.
    unsafe {
        let ptr = ffi::PyBytes_FromStringAndSize(std::ptr::null(), len as ffi::Py_ssize_t);
        let obj = Bound::from_owned_ptr_or_err(py, ptr)?;
        let data = std::slice::from_raw_parts_mut(ffi::PyBytes_AsString(ptr).cast::<u8>(), len);
        if len >= DETACH_BYTES {
            py.detach(|| fill(data))?;
        } else {
            fill(data)?;
        }
        Ok(obj.cast_into_unchecked())
    }
}

pub fn poisoned(dir: &str) -> StorageError {
    StorageError::Io {
        path: PathBuf::from(dir),
        source: io::Error::other("log lock poisoned by an earlier panic"),
    }
}

/// Overrides on top of the default config (Kafka's defaults).
#[derive(Default, Clone, Copy)]
pub struct ConfigArgs {
    pub segment_bytes: Option<u64>,
    pub segment_ms: Option<i64>,
    pub segment_index_bytes: Option<u64>,
    pub index_interval_bytes: Option<u64>,
    pub retention_bytes: Option<i64>,
    pub retention_ms: Option<i64>,
    pub flush_messages: Option<i64>,
    pub flush_ms: Option<i64>,
}

impl ConfigArgs {
    pub fn apply(self, mut c: LogConfig) -> PyResult<LogConfig> {
        c.segment_bytes = self.segment_bytes.unwrap_or(c.segment_bytes);
        c.segment_ms = self.segment_ms.unwrap_or(c.segment_ms);
        c.segment_index_bytes = self.segment_index_bytes.unwrap_or(c.segment_index_bytes);
        c.index_interval_bytes = self.index_interval_bytes.unwrap_or(c.index_interval_bytes);
        c.retention_bytes = self.retention_bytes.unwrap_or(c.retention_bytes);
        c.retention_ms = self.retention_ms.unwrap_or(c.retention_ms);
        c.flush_messages = self.flush_messages.unwrap_or(c.flush_messages);
        c.flush_ms = self.flush_ms.unwrap_or(c.flush_ms);
        c.validate().map_err(storage_err)?;
        Ok(c)
    }
}

/// `[(topic, partition, offset)]` of a data-dir checkpoint file (empty if
/// missing); `StorageError` naming the file if malformed.
#[pyfunction]
pub fn read_offset_checkpoint(py: Python<'_>, path: PathBuf) -> PyResult<Vec<(String, i32, i64)>> {
    py.detach(|| read_offsets(&path)).map_err(storage_err)
}

/// Writes a data-dir checkpoint file atomically (temp, fsync, rename, fsync dir).
#[pyfunction]
pub fn write_offset_checkpoint(
    py: Python<'_>,
    path: PathBuf,
    entries: Vec<(String, i32, i64)>,
) -> PyResult<()> {
    py.detach(|| write_offsets(&path, &entries))
        .map_err(storage_err)
}
