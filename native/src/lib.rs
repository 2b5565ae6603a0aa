//! pystream's native core.
//!
//! Pure-Rust layers, usable and tested without Python:
//! - [`record`]: Kafka RecordBatch v2 (header, CRC32C, varints, records,
//!   compression codecs, builder, validation and offset assignment);
//! - [`storage`]: the segmented partition log in Kafka's on-disk format;
//! - [`json`]: JSON object values to typed columns (the stream processor).
//!
//! `py` (feature `python`) is the only place that touches PyO3; it exports
//! the module `pystream._native`.

pub mod json;
pub mod record;
pub mod storage;

#[cfg(feature = "python")]
mod py;
