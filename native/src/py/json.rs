//! `json_columns`: JSON object values to typed columns in one call (see
//! `crate::json`), returned as `NativeBuffer`s numpy wraps without copying.

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use super::record::buffer::{bytes_of, NativeBuffer, Storage};
use super::record::maybe_detach;
use crate::json::{decode, Field, Kind, Values};

/// A numpy dtype name (or "str"/"bytes") as a column kind.
fn kind_of(name: &str) -> PyResult<Kind> {
    Ok(match name {
        "bool" => Kind::Bool,
        "int8" => Kind::Int {
            min: i8::MIN.into(),
            max: i8::MAX.into(),
        },
        "int16" => Kind::Int {
            min: i16::MIN.into(),
            max: i16::MAX.into(),
        },
        "int32" => Kind::Int {
            min: i32::MIN.into(),
            max: i32::MAX.into(),
        },
        "int64" => Kind::Int {
            min: i64::MIN,
            max: i64::MAX,
        },
        "uint8" => Kind::UInt {
            max: u8::MAX.into(),
        },
        "uint16" => Kind::UInt {
            max: u16::MAX.into(),
        },
        "uint32" => Kind::UInt {
            max: u32::MAX.into(),
        },
        "uint64" => Kind::UInt { max: u64::MAX },
        "float16" | "float32" | "float64" => Kind::Float,
        "str" | "bytes" => Kind::Str,
        other => {
            return Err(PyValueError::new_err(format!(
                "no native JSON column kind for {other:?}"
            )))
        }
    })
}

fn buffer(py: Python<'_>, storage: Storage) -> PyResult<Py<PyAny>> {
    Ok(Bound::new(py, NativeBuffer::new(storage))?
        .into_any()
        .unbind())
}

/// Decodes `n` JSON object values (`offsets`: n + 1 int64 entries into
/// `data`; `valid`: None or n bytes, 0 = null value) into one column per
/// `(name, kind)` field. Returns `(columns, bad_rows)`: per field a tuple
/// `(values, valid or None, offsets or None)` (offsets for "str"/"bytes",
/// whose values are then the data bytes; integer columns come as int64 or
/// uint64, floats as float64), and the int64 indexes of the values that are
/// not one JSON object or that Python's `json` might read otherwise.
#[pyfunction]
#[pyo3(signature = (offsets, data, valid, fields))]
pub fn json_columns<'py>(
    py: Python<'py>,
    offsets: PyBuffer<i64>,
    data: PyBuffer<u8>,
    valid: Option<PyBuffer<u8>>,
    fields: Vec<(String, String)>,
) -> PyResult<Bound<'py, PyTuple>> {
    let fields = fields
        .into_iter()
        .map(|(name, kind)| {
            Ok(Field {
                kind: kind_of(&kind)?,
                name,
            })
        })
        .collect::<PyResult<Vec<_>>>()?;
    let offsets_slice = bytes_of(&offsets)?;
    let bytes = bytes_of(&data)?;
    let mask = valid.as_ref().map(bytes_of).transpose()?;
    let out = maybe_detach(py, bytes.len(), || {
        decode(offsets_slice, bytes, mask, &fields)
    })
    .map_err(|e| PyValueError::new_err(e.to_string()))?;
    let columns = PyList::empty(py);
    for column in out.columns {
        let valid = if column.nulls == 0 {
            py.None()
        } else {
            buffer(py, Storage::U8(column.valid))?
        };
        let (values, offsets) = match column.values {
            Values::Bool(v) => (buffer(py, Storage::U8(v))?, py.None()),
            Values::Int(v) => (buffer(py, Storage::I64(v))?, py.None()),
            Values::UInt(v) => (buffer(py, Storage::U64(v))?, py.None()),
            Values::Float(v) => (buffer(py, Storage::F64(v))?, py.None()),
            Values::Bytes { offsets, data } => (
                buffer(py, Storage::U8(data))?,
                buffer(py, Storage::I64(offsets))?,
            ),
        };
        columns.append((values, valid, offsets))?;
    }
    let bad: Vec<i64> = out.bad_rows.into_iter().map(|r| r as i64).collect();
    PyTuple::new(
        py,
        [
            columns.into_any(),
            Bound::new(py, NativeBuffer::new(Storage::I64(bad)))?.into_any(),
        ],
    )
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(json_columns, m)?)?;
    Ok(())
}
