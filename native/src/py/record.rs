//! Python wrappers over `crate::record`: coarse calls (one per payload or
//! batch run, never per record), the GIL released around big buffers.

use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyList, PyString};

use crate::py::errors::record_err;
use crate::record::batches::{record_offset, record_timestamp};
use crate::record::builder::BatchBuilder;
use crate::record::compression::DEFAULT_MAX_DECOMPRESSED;
use crate::record::validate::DEFAULT_MAX_BATCH_BYTES;
use crate::record::{
    validate_and_assign as validate, AppendOptions, BatchIter, BatchRecords, WalkOptions,
};

pub(super) mod buffer;
mod builder;
mod classes;
mod columns;

use buffer::{bytes_of, bytes_of_mut, NativeBuffer, DETACH_BYTES};
use builder::{add_record, batch_options, finish, HeaderArg, PyRecordBatchBuilder};
use classes::{PyAppendInfo, PyBatchAppendInfo, PyRecordBatchInfo};

/// Runs `f` with the GIL released when `len` is big enough to be worth it.
pub(super) fn maybe_detach<T: Send>(py: Python<'_>, len: usize, f: impl FnOnce() -> T + Send) -> T {
    if len >= DETACH_BYTES {
        py.detach(f)
    } else {
        f()
    }
}

/// CRC32C (Castagnoli) of a buffer, hardware accelerated where available.
#[pyfunction(name = "crc32c")]
fn py_crc32c(py: Python<'_>, buf: PyBuffer<u8>) -> PyResult<u32> {
    let data = bytes_of(&buf)?;
    Ok(maybe_detach(py, data.len(), || ::crc32c::crc32c(data)))
}

/// Validates a produce payload and assigns offsets in place (see
/// `crate::record::validate`). All or nothing: on error `buf` is unchanged.
#[pyfunction]
#[pyo3(signature = (buf, next_offset, *, log_append_time_ms=None, partition_leader_epoch=-1,
    max_batch_bytes=DEFAULT_MAX_BATCH_BYTES, full=false, require_key=false, allow_control=false,
    max_decompressed_bytes=DEFAULT_MAX_DECOMPRESSED))]
#[allow(clippy::too_many_arguments)]
fn validate_and_assign(
    py: Python<'_>,
    buf: PyBuffer<u8>,
    next_offset: i64,
    log_append_time_ms: Option<i64>,
    partition_leader_epoch: i32,
    max_batch_bytes: usize,
    full: bool,
    require_key: bool,
    allow_control: bool,
    max_decompressed_bytes: usize,
) -> PyResult<PyAppendInfo> {
    let opts = AppendOptions {
        log_append_time_ms,
        partition_leader_epoch,
        max_batch_bytes,
        full,
        require_key,
        allow_control,
        max_decompressed: max_decompressed_bytes,
    };
    let data = bytes_of_mut(&buf)?;
    let info =
        maybe_detach(py, data.len(), || validate(data, next_offset, &opts)).map_err(record_err)?;
    PyAppendInfo::new(py, &info)
}

fn walk(verify_crc: bool, allow_partial_tail: bool) -> WalkOptions {
    WalkOptions {
        verify_crc,
        allow_partial_tail,
    }
}

/// The headers of every batch in `buf`, without touching records.
#[pyfunction]
#[pyo3(signature = (buf, *, verify_crc=true, allow_partial_tail=false))]
fn read_batch_infos(
    buf: PyBuffer<u8>,
    verify_crc: bool,
    allow_partial_tail: bool,
) -> PyResult<Vec<PyRecordBatchInfo>> {
    let data = bytes_of(&buf)?;
    BatchIter::new(data, walk(verify_crc, allow_partial_tail))
        .map(|b| {
            b.map(|b| PyRecordBatchInfo::from_ref(&b))
                .map_err(record_err)
        })
        .collect()
}

/// Every record of every batch: a list of `(offset, timestamp, key, value,
/// headers, batch)` tuples, `batch` a shared `RecordBatchInfo`. For tools
/// and tests; the broker and the stream processor never iterate records.
#[pyfunction]
#[pyo3(signature = (buf, *, verify_crc=true, allow_partial_tail=false,
    max_decompressed_bytes=DEFAULT_MAX_DECOMPRESSED))]
fn iter_records<'py>(
    py: Python<'py>,
    buf: PyBuffer<u8>,
    verify_crc: bool,
    allow_partial_tail: bool,
    max_decompressed_bytes: usize,
) -> PyResult<Bound<'py, PyList>> {
    let data = bytes_of(&buf)?;
    let out = PyList::empty(py);
    for batch in BatchIter::new(data, walk(verify_crc, allow_partial_tail)) {
        let batch = batch.map_err(record_err)?;
        let info = Bound::new(py, PyRecordBatchInfo::from_ref(&batch))?;
        let records = BatchRecords::read(&batch, max_decompressed_bytes).map_err(record_err)?;
        for r in records.iter() {
            let r = r.map_err(|e| record_err(e.in_batch(batch.index, batch.position)))?;
            let headers = PyList::empty(py);
            for h in r.headers() {
                let key = PyString::new(py, &String::from_utf8_lossy(h.key));
                headers.append((key, h.value.map(|v| PyBytes::new(py, v))))?;
            }
            let item = (
                record_offset(&batch.header, &r),
                record_timestamp(&batch.header, &r),
                r.key.map(|k| PyBytes::new(py, k)),
                r.value.map(|v| PyBytes::new(py, v)),
                headers,
                info.clone(),
            );
            out.append(item)?;
        }
    }
    Ok(out)
}

/// Builds one batch from `(key, value, timestamp, headers)` tuples in a
/// single call (`headers` a list of `(str | bytes, bytes | None)`, or None).
#[pyfunction]
#[pyo3(signature = (records, *, base_offset=0, compression=0, compression_level=None,
    producer_id=-1, producer_epoch=-1, base_sequence=-1, partition_leader_epoch=-1,
    is_transactional=false, is_control=false, log_append_time=false))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn build_batch<'py>(
    py: Python<'py>,
    records: Vec<(
        Option<PyBackedBytes>,
        Option<PyBackedBytes>,
        i64,
        Option<Vec<HeaderArg>>,
    )>,
    base_offset: i64,
    compression: u8,
    compression_level: Option<i32>,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
    partition_leader_epoch: i32,
    is_transactional: bool,
    is_control: bool,
    log_append_time: bool,
) -> PyResult<Bound<'py, PyBytes>> {
    let opts = batch_options(
        base_offset,
        compression,
        compression_level,
        producer_id,
        producer_epoch,
        base_sequence,
        partition_leader_epoch,
        is_transactional,
        is_control,
        log_append_time,
    )?;
    let mut b = BatchBuilder::new(opts);
    for (key, value, timestamp, headers) in &records {
        add_record(
            &mut b,
            key.as_deref(),
            value.as_deref(),
            *timestamp,
            headers.as_deref().unwrap_or(&[]),
        )?;
    }
    finish(py, b)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeBuffer>()?;
    m.add_class::<PyRecordBatchInfo>()?;
    m.add_class::<PyBatchAppendInfo>()?;
    m.add_class::<PyAppendInfo>()?;
    m.add_class::<PyRecordBatchBuilder>()?;
    m.add_function(wrap_pyfunction!(py_crc32c, m)?)?;
    m.add_function(wrap_pyfunction!(validate_and_assign, m)?)?;
    m.add_function(wrap_pyfunction!(read_batch_infos, m)?)?;
    m.add_function(wrap_pyfunction!(iter_records, m)?)?;
    m.add_function(wrap_pyfunction!(build_batch, m)?)?;
    m.add_function(wrap_pyfunction!(columns::decode_columns, m)?)?;
    m.add("DEFAULT_MAX_BATCH_BYTES", DEFAULT_MAX_BATCH_BYTES)?;
    m.add("DEFAULT_MAX_DECOMPRESSED_BYTES", DEFAULT_MAX_DECOMPRESSED)?;
    Ok(())
}
