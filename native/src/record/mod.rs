//! Kafka RecordBatch v2 (magic 2): everything that understands record bytes.
//!
//! No PyO3 here. Per-record loops live in this layer, never in Python.

pub mod error;
pub mod header;

pub use error::RecordError;
pub use header::BatchHeader;
