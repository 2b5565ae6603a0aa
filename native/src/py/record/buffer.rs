//! Byte views in and out of Rust without copies.
//!
//! In: any C-contiguous buffer (bytes, bytearray, memoryview, mmap, numpy)
//! borrowed through the buffer protocol; the export keeps the memory alive
//! and a bytearray from resizing while Rust holds it, so the GIL can be
//! released around long work.
//!
//! Out: [`NativeBuffer`] owns a Rust vector and exports it read-only
//! through the buffer protocol, so `numpy.frombuffer` wraps it in place.

use std::ffi::c_int;

use pyo3::buffer::{Element, PyBuffer};
use pyo3::exceptions::{PyBufferError, PyTypeError};
use pyo3::ffi;
use pyo3::prelude::*;

/// Buffers at least this big are processed with the GIL released.
pub const DETACH_BYTES: usize = 64 * 1024;

/// The elements (usually bytes) of a contiguous buffer, borrowed for as
/// long as `buf` lives.
pub fn bytes_of<T: Element>(buf: &PyBuffer<T>) -> PyResult<&[T]> {
    let ptr = buf
        .as_slice_ptr()
        .ok_or_else(|| PyTypeError::new_err("expected a C-contiguous byte buffer"))?;
    // SAFETY: the export pins the memory (and its size) until `buf` is
    // dropped; the returned slice cannot outlive `buf`.
    Ok(unsafe { ptr.as_ref() })
}

/// The bytes of a writable contiguous buffer (e.g. a bytearray).
#[allow(clippy::mut_from_ref)] // the exclusive access is the export's, not `&self`'s
pub fn bytes_of_mut(buf: &PyBuffer<u8>) -> PyResult<&mut [u8]> {
    if buf.readonly() {
        return Err(PyTypeError::new_err(
            "expected a writable buffer (bytearray), got a read-only one",
        ));
    }
    let mut ptr = buf
        .as_slice_ptr()
        .ok_or_else(|| PyTypeError::new_err("expected a C-contiguous byte buffer"))?;
    // SAFETY: as in `bytes_of`; the buffer is writable, and the caller
    // holds no other Rust reference into it.
    Ok(unsafe { ptr.as_mut() })
}

/// Storage of a [`NativeBuffer`]: the element type decides numpy's dtype.
pub enum Storage {
    U8(Vec<u8>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    U64(Vec<u64>),
    F64(Vec<f64>),
}

impl Storage {
    fn bytes(&self) -> &[u8] {
        let (ptr, len): (*const u8, usize) = match self {
            Storage::U8(v) => (v.as_ptr(), v.len()),
            Storage::I32(v) => (v.as_ptr().cast(), v.len() * 4),
            Storage::I64(v) => (v.as_ptr().cast(), v.len() * 8),
            Storage::U64(v) => (v.as_ptr().cast(), v.len() * 8),
            Storage::F64(v) => (v.as_ptr().cast(), v.len() * 8),
        };
        // SAFETY: plain integers and floats have no padding or invalid byte patterns;
        // the pointer and byte length describe the vector's initialised part.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }

    fn dtype(&self) -> &'static str {
        match self {
            Storage::U8(_) => "uint8",
            Storage::I32(_) => "int32",
            Storage::I64(_) => "int64",
            Storage::U64(_) => "uint64",
            Storage::F64(_) => "float64",
        }
    }
}

/// A read-only, native-endian array owned by Rust. `dtype` names its numpy
/// element type; `numpy.frombuffer(buf, dtype=buf.dtype)` is zero-copy.
#[pyclass(frozen, module = "pystream._native")]
pub struct NativeBuffer {
    data: Storage,
}

impl NativeBuffer {
    pub fn new(data: Storage) -> Self {
        NativeBuffer { data }
    }
}

#[pymethods]
impl NativeBuffer {
    #[getter]
    fn dtype(&self) -> &'static str {
        self.data.dtype()
    }

    fn __len__(&self) -> usize {
        self.data.bytes().len()
    }

    fn __repr__(&self) -> String {
        format!(
            "NativeBuffer(dtype={}, nbytes={})",
            self.data.dtype(),
            self.data.bytes().len()
        )
    }

    /// # Safety
    /// Called by CPython with a valid `view`.
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut ffi::Py_buffer,
        flags: c_int,
    ) -> PyResult<()> {
        if flags & ffi::PyBUF_WRITABLE == ffi::PyBUF_WRITABLE {
            return Err(PyBufferError::new_err("NativeBuffer is read-only"));
        }
        let bytes = slf.get().data.bytes();
        // SAFETY: `view` comes from CPython; FillInfo takes a new reference
        // to `slf`, which keeps the (immutable) vector alive for the view.
        let rc = unsafe {
            ffi::PyBuffer_FillInfo(
                view,
                slf.as_ptr(),
                bytes.as_ptr() as *mut std::ffi::c_void,
                bytes.len() as ffi::Py_ssize_t,
                1,
                flags,
            )
        };
        if rc != 0 {
            return Err(PyErr::fetch(slf.py()));
        }
        Ok(())
    }
}
