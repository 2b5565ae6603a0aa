//! Columnar decode for the stream processor: one call turns a run of
//! batches into flat columns (Arrow "large binary" layout for keys and
//! values) that numpy wraps without copying.
//!
//! Per record: `offsets` i64, `timestamps` i64, `header_counts` i32; keys
//! and values each as `*_offsets` (i64, n+1 entries, start of each item in
//! `*_data`), `*_data` bytes and `*_valid` (one byte per record, 1 = not
//! null; a byte mask rather than Arrow's bitmap because numpy reads it as
//! a bool array directly; `np.packbits(.., bitorder="little")` gives the
//! bitmap). Null items occupy no bytes. Control batches (transaction
//! markers) are skipped unless asked for, as consumers do.
//!
//! Headers are Arrow's list<struct<key, value>> flattened: per record a
//! range `headers.offsets[i]..headers.offsets[i + 1]` (n+1 entries) into
//! one flat header array whose keys and values are binary columns like the
//! above (keys never null, values nullable as Kafka allows). They are
//! filled in the same pass over the records. Nothing is allocated before
//! the first header, and when no record has one every header vector stays
//! empty, so header-less batches cost one branch per record.

use super::batches::{record_offset, record_timestamp, BatchIter, BatchRecords, WalkOptions};
use super::compression::DEFAULT_MAX_DECOMPRESSED;
use super::records::Record;
use super::RecordError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnOptions {
    pub walk: WalkOptions,
    pub skip_control: bool,
    pub max_decompressed: usize,
}

impl Default for ColumnOptions {
    fn default() -> Self {
        ColumnOptions {
            walk: WalkOptions::default(),
            skip_control: true,
            max_decompressed: DEFAULT_MAX_DECOMPRESSED,
        }
    }
}

/// A nullable binary column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryColumn {
    pub offsets: Vec<i64>,
    pub data: Vec<u8>,
    pub valid: Vec<u8>,
}

impl BinaryColumn {
    fn new() -> Self {
        BinaryColumn {
            offsets: vec![0],
            data: Vec::new(),
            valid: Vec::new(),
        }
    }
    fn reserve(&mut self, n: usize) {
        self.offsets.reserve(n);
        self.valid.reserve(n);
    }
    #[inline]
    fn push(&mut self, item: Option<&[u8]>) {
        if let Some(b) = item {
            self.data.extend_from_slice(b);
        }
        self.valid.push(item.is_some() as u8);
        self.offsets.push(self.data.len() as i64);
    }
    /// Item `i`, for tests and tools.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        (self.valid[i] != 0)
            .then(|| &self.data[self.offsets[i] as usize..self.offsets[i + 1] as usize])
    }
}

/// Every record's headers: record `i` owns headers
/// `offsets[i]..offsets[i + 1]`; header `j` has key
/// `key_data[key_offsets[j]..key_offsets[j + 1]]` (never null) and value
/// `values.get(j)`. Every vector stays empty (unallocated) while no record
/// has a header, so batches without headers pay one branch per record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderColumns {
    pub offsets: Vec<i64>,
    pub key_offsets: Vec<i64>,
    pub key_data: Vec<u8>,
    pub values: BinaryColumn,
}

impl HeaderColumns {
    fn new() -> Self {
        HeaderColumns {
            offsets: Vec::new(),
            key_offsets: Vec::new(),
            key_data: Vec::new(),
            values: BinaryColumn {
                offsets: Vec::new(),
                data: Vec::new(),
                valid: Vec::new(),
            },
        }
    }
    /// Appends the headers of record `index` (records come in order).
    #[inline]
    fn push(&mut self, index: usize, r: &Record<'_>) {
        if self.offsets.is_empty() {
            if r.header_count == 0 {
                return;
            }
            // the first header: every earlier record had none
            self.offsets.resize(index + 1, 0);
            self.key_offsets.push(0);
            self.values.offsets.push(0);
        }
        for h in r.headers() {
            self.key_data.extend_from_slice(h.key);
            self.key_offsets.push(self.key_data.len() as i64);
            self.values.push(h.value);
        }
        self.offsets.push(self.values.valid.len() as i64);
    }
    /// Whether any record has a header (else `offsets` is empty).
    pub fn any(&self) -> bool {
        !self.offsets.is_empty()
    }
    /// Headers in total.
    pub fn len(&self) -> usize {
        self.values.valid.len()
    }
    pub fn is_empty(&self) -> bool {
        self.values.valid.is_empty()
    }
    /// The headers of record `i` as (key, value) pairs, for tests and tools.
    pub fn record(&self, i: usize) -> Vec<(&[u8], Option<&[u8]>)> {
        if self.offsets.is_empty() {
            return Vec::new();
        }
        let (a, b) = (self.offsets[i] as usize, self.offsets[i + 1] as usize);
        let key = |j: usize| {
            &self.key_data[self.key_offsets[j] as usize..self.key_offsets[j + 1] as usize]
        };
        (a..b).map(|j| (key(j), self.values.get(j))).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    pub offsets: Vec<i64>,
    pub timestamps: Vec<i64>,
    pub keys: BinaryColumn,
    pub values: BinaryColumn,
    pub header_counts: Vec<i32>,
    pub headers: HeaderColumns,
}

impl Columns {
    pub fn len(&self) -> usize {
        self.offsets.len()
    }
    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }
}

/// Decodes every record of every batch in `buf` into columns.
pub fn decode_columns(buf: &[u8], opts: &ColumnOptions) -> Result<Columns, RecordError> {
    let mut c = Columns {
        offsets: Vec::new(),
        timestamps: Vec::new(),
        keys: BinaryColumn::new(),
        values: BinaryColumn::new(),
        header_counts: Vec::new(),
        headers: HeaderColumns::new(),
    };
    for batch in BatchIter::new(buf, opts.walk) {
        let batch = batch?;
        if opts.skip_control && batch.header.is_control() {
            continue;
        }
        let records = BatchRecords::read(&batch, opts.max_decompressed)?;
        let n = records.count();
        c.offsets.reserve(n);
        c.timestamps.reserve(n);
        c.header_counts.reserve(n);
        c.keys.reserve(n);
        c.values.reserve(n);
        if c.headers.any() {
            c.headers.offsets.reserve(n);
        }
        // Values are most of a record; reserving the section size (an upper
        // bound) saves the regrowth copies of big payloads.
        c.values.data.reserve(records.section_len());
        for r in records.iter() {
            let r = r.map_err(|e| e.in_batch(batch.index, batch.position))?;
            c.offsets.push(record_offset(&batch.header, &r));
            c.timestamps.push(record_timestamp(&batch.header, &r));
            c.keys.push(r.key);
            c.values.push(r.value);
            c.headers.push(c.header_counts.len(), &r);
            c.header_counts.push(r.header_count as i32);
        }
    }
    Ok(c)
}

#[cfg(test)]
#[path = "columns_tests.rs"]
mod tests;
