//! The PyO3 layer: the only code that touches Python. Thin wrappers that
//! convert arguments, release the GIL around long work, and map errors.
//! Exported as `pystream._native`; its stub is `pystream/_native.pyi`.

use pyo3::prelude::*;

mod errors;
mod json;
mod record;
mod storage;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    record::register(m)?;
    json::register(m)?;
    storage::register(m)?;
    Ok(())
}
