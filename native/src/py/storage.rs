//! Python wrappers over `crate::storage`: `PartitionLog` (safe to call from
//! several threads: a read-write lock inside; fast calls try the lock with
//! the GIL held and release the GIL only when they must wait; fsync,
//! recovery, retention and big copies always run without the GIL), its
//! result classes, and the data-dir checkpoint helpers.

use std::path::PathBuf;
use std::sync::{RwLock, TryLockError};

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::storage::{FlushPlan, Log, LogConfig, StorageError};

mod convert;
mod results;
use convert::{
    io_err, poisoned, read_into_bytes, read_offset_checkpoint, storage_err, wall_clock_ms,
    write_offset_checkpoint, ConfigArgs,
};
use results::{PyLogAppendInfo, PyLogSlice, PyRecoveryReport, PyRetentionResult};

/// One partition's log directory, in Kafka's on-disk format.
#[pyclass(frozen, name = "PartitionLog", module = "pystream._native")]
pub struct PyPartitionLog {
    log: RwLock<Log>,
    dir: String,
}

impl PyPartitionLog {
    /// Runs `f` under the read lock; waits for it without the GIL.
    fn with_read<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&Log) -> Result<R, StorageError> + Send,
    ) -> PyResult<R> {
        let r = match self.log.try_read() {
            Ok(g) => f(&g),
            Err(TryLockError::WouldBlock) => py.detach(|| {
                self.log
                    .read()
                    .map_err(|_| poisoned(&self.dir))
                    .and_then(|g| f(&g))
            }),
            Err(TryLockError::Poisoned(_)) => Err(poisoned(&self.dir)),
        };
        r.map_err(storage_err)
    }

    /// Runs `f` under the write lock; waits for it without the GIL.
    fn with_write<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Log) -> Result<R, StorageError> + Send,
    ) -> PyResult<R> {
        let r = match self.log.try_write() {
            Ok(mut g) => f(&mut g),
            Err(TryLockError::WouldBlock) => py.detach(|| {
                self.log
                    .write()
                    .map_err(|_| poisoned(&self.dir))
                    .and_then(|mut g| f(&mut g))
            }),
            Err(TryLockError::Poisoned(_)) => Err(poisoned(&self.dir)),
        };
        r.map_err(storage_err)
    }

    /// Long work: the GIL is released before taking the lock.
    fn with_write_detached<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Log) -> Result<R, StorageError> + Send,
    ) -> PyResult<R> {
        py.detach(|| {
            self.log
                .write()
                .map_err(|_| poisoned(&self.dir))
                .and_then(|mut g| f(&mut g))
        })
        .map_err(storage_err)
    }

    /// Plans under the lock, fsyncs without the lock or the GIL, records.
    fn flush_to(&self, py: Python<'_>, up_to: Option<i64>) -> PyResult<()> {
        let plan: FlushPlan = self.with_read(py, |l| l.flush_plan(up_to))?;
        py.detach(|| plan.execute()).map_err(storage_err)?;
        self.with_write(py, |l| {
            l.complete_flush(&plan, wall_clock_ms());
            Ok(())
        })
    }
}

#[pymethods]
impl PyPartitionLog {
    /// Opens (creating if needed) the log in `path` and recovers it from
    /// `recovery_point`. Returns the log and what recovery did.
    #[staticmethod]
    #[pyo3(signature = (path, *, recovery_point=0, log_start_offset=0, segment_bytes=None,
        segment_ms=None, segment_index_bytes=None, index_interval_bytes=None,
        retention_bytes=None, retention_ms=None, flush_messages=None, flush_ms=None))]
    #[allow(clippy::too_many_arguments)]
    fn open(
        py: Python<'_>,
        path: PathBuf,
        recovery_point: i64,
        log_start_offset: i64,
        segment_bytes: Option<u64>,
        segment_ms: Option<i64>,
        segment_index_bytes: Option<u64>,
        index_interval_bytes: Option<u64>,
        retention_bytes: Option<i64>,
        retention_ms: Option<i64>,
        flush_messages: Option<i64>,
        flush_ms: Option<i64>,
    ) -> PyResult<(PyPartitionLog, PyRecoveryReport)> {
        let config = ConfigArgs {
            segment_bytes,
            segment_ms,
            segment_index_bytes,
            index_interval_bytes,
            retention_bytes,
            retention_ms,
            flush_messages,
            flush_ms,
        }
        .apply(LogConfig::default())?;
        let (log, report) = py
            .detach(|| {
                Log::open(
                    &path,
                    config,
                    recovery_point,
                    log_start_offset,
                    wall_clock_ms(),
                )
            })
            .map_err(storage_err)?;
        let me = PyPartitionLog {
            log: RwLock::new(log),
            dir: path.display().to_string(),
        };
        Ok((me, report.into()))
    }

    /// Changes the config; `None` keeps a setting.
    #[pyo3(signature = (*, segment_bytes=None, segment_ms=None, segment_index_bytes=None,
        index_interval_bytes=None, retention_bytes=None, retention_ms=None,
        flush_messages=None, flush_ms=None))]
    #[allow(clippy::too_many_arguments)]
    fn update_config(
        &self,
        py: Python<'_>,
        segment_bytes: Option<u64>,
        segment_ms: Option<i64>,
        segment_index_bytes: Option<u64>,
        index_interval_bytes: Option<u64>,
        retention_bytes: Option<i64>,
        retention_ms: Option<i64>,
        flush_messages: Option<i64>,
        flush_ms: Option<i64>,
    ) -> PyResult<()> {
        let args = ConfigArgs {
            segment_bytes,
            segment_ms,
            segment_index_bytes,
            index_interval_bytes,
            retention_bytes,
            retention_ms,
            flush_messages,
            flush_ms,
        };
        let current = self.with_read(py, |l| Ok(*l.config()))?;
        let config = args.apply(current)?;
        self.with_write(py, |l| l.update_config(config))
    }

    /// Appends whole, offset-assigned batches (bytes, bytearray or
    /// memoryview). `last_offset` is checked against the last batch; the
    /// timestamps are taken from the batch headers. Rolls and `flush.messages`
    /// fsync before returning (without the GIL), unless `flush=False`: then
    /// the caller flushes up to `flush_up_to` itself (the broker does it off
    /// its event loop, as Kafka flushes a rolled segment in the background).
    /// With `detach=True` the write itself runs without the GIL, so a
    /// caller on a worker thread does not hold up the event loop while the
    /// kernel throttles the write; the caller must not modify the buffer
    /// meanwhile (its export already pins it: a bytearray cannot be resized).
    #[pyo3(signature = (data, last_offset=None, max_timestamp=None, offset_of_max_timestamp=None,
        *, now_ms=None, flush=true, detach=false))]
    #[allow(clippy::too_many_arguments)]
    fn append(
        &self,
        py: Python<'_>,
        data: PyBuffer<u8>,
        last_offset: Option<i64>,
        max_timestamp: Option<i64>,
        offset_of_max_timestamp: Option<i64>,
        now_ms: Option<i64>,
        flush: bool,
        detach: bool,
    ) -> PyResult<PyLogAppendInfo> {
        let _ = (max_timestamp, offset_of_max_timestamp);
        let ptr = data
            .as_slice_ptr()
            .ok_or_else(|| PyTypeError::new_err("expected a C-contiguous byte buffer"))?;
        // SAFETY: the buffer export pins the memory until `data` drops, which
        // is after every use below.
        let bytes: &[u8] = unsafe { ptr.as_ref() };
        let now = now_ms.unwrap_or_else(wall_clock_ms);
        let info = if detach {
            self.with_write_detached(py, |l| l.append(bytes, last_offset, now))?
        } else {
            match self.log.try_write() {
                Ok(mut g) => g.append(bytes, last_offset, now).map_err(storage_err)?,
                Err(TryLockError::WouldBlock) => {
                    // Without the GIL another thread could resize a writable
                    // buffer: copy those first.
                    let owned = (!data.readonly()).then(|| bytes.to_vec());
                    let slice = owned.as_deref().unwrap_or(bytes);
                    self.with_write_detached(py, |l| l.append(slice, last_offset, now))?
                }
                Err(TryLockError::Poisoned(_)) => return Err(storage_err(poisoned(&self.dir))),
            }
        };
        if flush && info.flush_needed {
            self.flush_to(py, None)?;
        } else if flush && info.rolled {
            self.flush_to(py, Some(info.segment_base_offset))?;
        }
        Ok(PyLogAppendInfo::from(&info))
    }

    /// Whole batches from the one holding `start_offset`, as a slice of one
    /// segment file (for `sendfile`), or `None` when there is nothing yet.
    /// Raises `OffsetOutOfRangeError` outside `[log_start, log_end]`.
    #[pyo3(signature = (start_offset, max_bytes, max_offset=None))]
    fn read(
        &self,
        py: Python<'_>,
        start_offset: i64,
        max_bytes: u64,
        max_offset: Option<i64>,
    ) -> PyResult<Option<PyLogSlice>> {
        let slice = self.with_read(py, |l| l.read(start_offset, max_bytes, max_offset))?;
        Ok(slice.map(|s| PyLogSlice {
            path: s.path.display().to_string(),
            file: s.file,
            position: s.position,
            length: s.length,
            first_offset: s.first_offset,
        }))
    }

    /// Like `read`, but copies the batches into `bytes` (empty when none).
    #[pyo3(signature = (start_offset, max_bytes, max_offset=None))]
    fn read_bytes<'py>(
        &self,
        py: Python<'py>,
        start_offset: i64,
        max_bytes: u64,
        max_offset: Option<i64>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        use std::os::unix::fs::FileExt;
        let Some(s) = self.with_read(py, |l| l.read(start_offset, max_bytes, max_offset))? else {
            return Ok(PyBytes::new(py, b""));
        };
        read_into_bytes(py, s.length as usize, |buf| {
            s.file
                .read_exact_at(buf, s.position)
                .map_err(|e| io_err(&s.path.display().to_string(), e))
        })
    }

    /// `(segment base offset, position)` of the batch holding `offset`.
    fn lookup(&self, py: Python<'_>, offset: i64) -> PyResult<Option<(i64, u64)>> {
        self.with_read(py, |l| l.lookup(offset))
    }

    /// `(offset, timestamp)` of the first record with timestamp
    /// `>= timestamp` (ListOffsets), or `None` if there is none.
    fn offset_for_timestamp(&self, py: Python<'_>, timestamp: i64) -> PyResult<Option<(i64, i64)>> {
        if timestamp < 0 {
            return Err(PyValueError::new_err(
                "offset_for_timestamp takes a real timestamp; the facade handles -1/-2/-3",
            ));
        }
        self.with_read(py, |l| l.offset_for_timestamp(timestamp))
    }

    /// `(max timestamp, offset of the batch holding it)`, `(-1, -1)` if none.
    fn max_timestamp_and_offset(&self, py: Python<'_>) -> PyResult<(i64, i64)> {
        self.with_read(py, |l| Ok(l.max_timestamp_and_offset()))
    }

    /// Removes everything from the batch holding `offset`; True if anything went.
    fn truncate_to(&self, py: Python<'_>, offset: i64) -> PyResult<bool> {
        self.with_write_detached(py, |l| l.truncate_to(offset, wall_clock_ms()))
    }

    fn truncate_fully_and_start_at(&self, py: Python<'_>, offset: i64) -> PyResult<()> {
        self.with_write_detached(py, |l| {
            l.truncate_fully_and_start_at(offset, wall_clock_ms())
        })
    }

    /// Moves the log start offset up to `before_offset`; returns it.
    fn delete_records(&self, py: Python<'_>, before_offset: i64) -> PyResult<i64> {
        self.with_write_detached(py, |l| l.delete_records(before_offset, wall_clock_ms()))
    }

    /// One retention pass (`retention.ms`, `retention.bytes`, log start
    /// offset), deleting whole segments below `high_watermark`.
    #[pyo3(signature = (*, now_ms=None, high_watermark=None))]
    fn enforce_retention(
        &self,
        py: Python<'_>,
        now_ms: Option<i64>,
        high_watermark: Option<i64>,
    ) -> PyResult<PyRetentionResult> {
        let now = now_ms.unwrap_or_else(wall_clock_ms);
        let r = self.with_write_detached(py, |l| l.enforce_retention(now, high_watermark, true))?;
        Ok(r.into())
    }

    /// fsyncs everything below `up_to` (default: all) and moves the
    /// recovery point there.
    #[pyo3(signature = (up_to=None))]
    fn flush(&self, py: Python<'_>, up_to: Option<i64>) -> PyResult<()> {
        self.flush_to(py, up_to)
    }

    /// Starts a new segment at the log end offset; returns its base offset.
    #[pyo3(signature = (*, now_ms=None))]
    fn roll(&self, py: Python<'_>, now_ms: Option<i64>) -> PyResult<i64> {
        let now = now_ms.unwrap_or_else(wall_clock_ms);
        let base = self.with_write(py, |l| l.roll(None, now))?;
        self.flush_to(py, Some(base))?;
        Ok(base)
    }

    /// Flushes, trims the indexes, and refuses further calls. Idempotent.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.with_write_detached(py, |l| l.close(wall_clock_ms()))
    }

    /// Records that leader `epoch` starts at `start_offset`.
    fn assign_leader_epoch(&self, py: Python<'_>, epoch: i32, start_offset: i64) -> PyResult<bool> {
        self.with_write(py, |l| l.leader_epochs_mut().assign(epoch, start_offset))
    }

    /// `(epoch, end offset)` for OffsetsForLeaderEpoch; `(-1, -1)` if unknown.
    fn end_offset_for_leader_epoch(&self, py: Python<'_>, epoch: i32) -> PyResult<(i32, i64)> {
        self.with_read(py, |l| {
            Ok(l.leader_epochs().end_offset_for(epoch, l.log_end_offset()))
        })
    }

    #[getter]
    fn leader_epochs(&self, py: Python<'_>) -> PyResult<Vec<(i32, i64)>> {
        self.with_read(py, |l| Ok(l.leader_epochs().entries().to_vec()))
    }

    #[getter]
    fn latest_leader_epoch(&self, py: Python<'_>) -> PyResult<Option<i32>> {
        self.with_read(py, |l| Ok(l.leader_epochs().latest_epoch()))
    }

    #[getter]
    fn dir(&self) -> &str {
        &self.dir
    }

    #[getter]
    fn log_start_offset(&self, py: Python<'_>) -> PyResult<i64> {
        self.with_read(py, |l| Ok(l.log_start_offset()))
    }

    #[getter]
    fn log_end_offset(&self, py: Python<'_>) -> PyResult<i64> {
        self.with_read(py, |l| Ok(l.log_end_offset()))
    }

    #[getter]
    fn recovery_point(&self, py: Python<'_>) -> PyResult<i64> {
        self.with_read(py, |l| Ok(l.recovery_point()))
    }

    #[getter]
    fn size_in_bytes(&self, py: Python<'_>) -> PyResult<u64> {
        self.with_read(py, |l| Ok(l.size_in_bytes()))
    }

    #[getter]
    fn segment_base_offsets(&self, py: Python<'_>) -> PyResult<Vec<i64>> {
        self.with_read(py, |l| Ok(l.segments().bases()))
    }

    #[getter]
    fn unflushed_messages(&self, py: Python<'_>) -> PyResult<i64> {
        self.with_read(py, |l| Ok(l.unflushed_messages()))
    }

    #[getter]
    fn last_flush_ms(&self, py: Python<'_>) -> PyResult<i64> {
        self.with_read(py, |l| Ok(l.last_flush_ms()))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let (start, end) =
            self.with_read(py, |l| Ok((l.log_start_offset(), l.log_end_offset())))?;
        Ok(format!(
            "PartitionLog({:?}, log_start_offset={start}, log_end_offset={end})",
            self.dir
        ))
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyPartitionLog>()?;
    m.add_class::<PyLogSlice>()?;
    m.add_class::<PyRecoveryReport>()?;
    m.add_class::<PyLogAppendInfo>()?;
    m.add_class::<PyRetentionResult>()?;
    m.add_function(wrap_pyfunction!(read_offset_checkpoint, m)?)?;
    m.add_function(wrap_pyfunction!(write_offset_checkpoint, m)?)?;
    Ok(())
}
