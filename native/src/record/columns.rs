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

use super::batches::{record_offset, record_timestamp, BatchIter, BatchRecords, WalkOptions};
use super::compression::DEFAULT_MAX_DECOMPRESSED;
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    pub offsets: Vec<i64>,
    pub timestamps: Vec<i64>,
    pub keys: BinaryColumn,
    pub values: BinaryColumn,
    pub header_counts: Vec<i32>,
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
        // Values are most of a record; reserving the section size (an upper
        // bound) saves the regrowth copies of big payloads.
        c.values.data.reserve(records.section_len());
        for r in records.iter() {
            let r = r.map_err(|e| e.in_batch(batch.index, batch.position))?;
            c.offsets.push(record_offset(&batch.header, &r));
            c.timestamps.push(record_timestamp(&batch.header, &r));
            c.keys.push(r.key);
            c.values.push(r.value);
            c.header_counts.push(r.header_count as i32);
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::builder::{BatchBuilder, BatchOptions};
    use crate::record::compression::Compression;
    use crate::record::records::Header;

    #[test]
    fn columns_of_mixed_batches() {
        let mut buf = Vec::new();
        for (base, codec) in [(0, Compression::None), (2, Compression::Zstd)] {
            let mut b = BatchBuilder::new(BatchOptions {
                base_offset: base,
                compression: codec,
                ..Default::default()
            });
            let hdr = [Header {
                key: b"a",
                value: None,
            }];
            b.add(5 + base, Some(b"k"), None, &hdr).unwrap();
            b.add(7 + base, None, Some(b"value"), &[]).unwrap();
            buf.extend(b.build().unwrap());
        }
        let mut ctl = BatchBuilder::new(BatchOptions {
            base_offset: 4,
            is_control: true,
            ..Default::default()
        });
        ctl.add(0, Some(b"\0\0\0\0"), Some(b"\0\0\0\0\0\0"), &[])
            .unwrap();
        buf.extend(ctl.build().unwrap());

        let c = decode_columns(&buf, &ColumnOptions::default()).unwrap();
        assert_eq!(c.offsets, vec![0, 1, 2, 3]);
        assert_eq!(c.timestamps, vec![5, 7, 7, 9]);
        assert_eq!(c.header_counts, vec![1, 0, 1, 0]);
        assert_eq!(c.keys.offsets, vec![0, 1, 1, 2, 2]);
        assert_eq!(c.keys.valid, vec![1, 0, 1, 0]);
        assert_eq!(c.values.get(1), Some(&b"value"[..]));
        assert_eq!(c.values.get(0), None);

        let all = ColumnOptions {
            skip_control: false,
            ..Default::default()
        };
        assert_eq!(decode_columns(&buf, &all).unwrap().len(), 5);
    }

    #[test]
    fn errors_name_the_batch() {
        let mut b = BatchBuilder::new(BatchOptions::default());
        b.add(0, None, Some(b"v"), &[]).unwrap();
        let one = b.build().unwrap();
        let mut buf = [one.clone(), one].concat();
        let n = buf.len();
        buf[n - 1] ^= 1;
        let err = decode_columns(&buf, &ColumnOptions::default()).unwrap_err();
        assert!(err.to_string().starts_with("batch 1 at byte"), "{err}");
    }
}
