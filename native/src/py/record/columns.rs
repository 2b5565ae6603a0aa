//! `decode_columns`: record batches to flat columns in one call (see
//! `crate::record::columns`), returned as `NativeBuffer`s numpy wraps
//! without copying.

use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::buffer::{bytes_of, NativeBuffer, Storage};
use super::{maybe_detach, walk};
use crate::py::errors::record_err;
use crate::record::compression::DEFAULT_MAX_DECOMPRESSED;
use crate::record::{decode_columns as decode, ColumnOptions};

/// Decodes every record into columns: a dict of `NativeBuffer`s plus the
/// record count under `"count"`. Headers come flattened: record `i` owns
/// headers `header_offsets[i]..header_offsets[i + 1]` of the `header_key_*`
/// (never null) and `header_value_*` (nullable) binary columns. When no
/// record has a header the `header_*` entries are left out (header-less
/// decoding then costs nothing more than before).
#[pyfunction]
#[pyo3(signature = (buf, *, verify_crc=true, allow_partial_tail=false, skip_control=true,
    max_decompressed_bytes=DEFAULT_MAX_DECOMPRESSED))]
pub fn decode_columns<'py>(
    py: Python<'py>,
    buf: PyBuffer<u8>,
    verify_crc: bool,
    allow_partial_tail: bool,
    skip_control: bool,
    max_decompressed_bytes: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let data = bytes_of(&buf)?;
    let opts = ColumnOptions {
        walk: walk(verify_crc, allow_partial_tail),
        skip_control,
        max_decompressed: max_decompressed_bytes,
    };
    let c = maybe_detach(py, data.len(), || decode(data, &opts)).map_err(record_err)?;
    let out = PyDict::new(py);
    out.set_item("count", c.len())?;
    let h = c.headers;
    let with_headers = h.any();
    let columns = [
        ("offsets", Storage::I64(c.offsets)),
        ("timestamps", Storage::I64(c.timestamps)),
        ("header_counts", Storage::I32(c.header_counts)),
        ("key_offsets", Storage::I64(c.keys.offsets)),
        ("key_data", Storage::U8(c.keys.data)),
        ("key_valid", Storage::U8(c.keys.valid)),
        ("value_offsets", Storage::I64(c.values.offsets)),
        ("value_data", Storage::U8(c.values.data)),
        ("value_valid", Storage::U8(c.values.valid)),
    ];
    let headers = [
        ("header_offsets", Storage::I64(h.offsets)),
        ("header_key_offsets", Storage::I64(h.key_offsets)),
        ("header_key_data", Storage::U8(h.key_data)),
        ("header_value_offsets", Storage::I64(h.values.offsets)),
        ("header_value_data", Storage::U8(h.values.data)),
        ("header_value_valid", Storage::U8(h.values.valid)),
    ];
    let wanted = columns
        .into_iter()
        .chain(headers.into_iter().filter(|_| with_headers));
    for (name, storage) in wanted {
        out.set_item(name, Bound::new(py, NativeBuffer::new(storage))?)?;
    }
    Ok(out)
}
