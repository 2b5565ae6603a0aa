//! Kafka RecordBatch v2 (magic 2): everything that understands record bytes.
//!
//! No PyO3 here. Per-record loops live in this layer, never in Python.
//!
//! - [`header`]: the 61-byte batch header, CRC32C, in-place rewrites;
//! - [`varint`]: zigzag varints;
//! - [`records`]: decoding the records of one batch;
//! - [`compression`] (and [`snappy`]): the five codecs, bounded;
//! - [`batches`]: walking a run of batches, record offsets/timestamps;
//! - [`builder`]: building a batch;
//! - [`validate`] (and [`append_info`]): the append path's validation and
//!   offset assignment;
//! - [`columns`]: columnar decode for the stream processor.

pub mod append_info;
pub mod batches;
pub mod builder;
pub mod columns;
pub mod compression;
pub mod error;
pub mod header;
pub mod records;
pub mod snappy;
pub mod validate;
pub mod varint;

pub use append_info::{AppendInfo, BatchAppendInfo};
pub use batches::{BatchIter, BatchRecords, BatchRef, WalkOptions};
pub use builder::{BatchBuilder, BatchOptions};
pub use columns::{decode_columns, ColumnOptions, Columns};
pub use compression::Compression;
pub use error::RecordError;
pub use header::BatchHeader;
pub use records::{Header, Record};
pub use validate::{validate_and_assign, AppendOptions};
