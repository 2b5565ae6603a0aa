//! The sparse offset index of one segment (`.index`): 8-byte big-endian
//! entries `(relative offset u32, position u32)`, one per batch that starts
//! more than `index.interval.bytes` after the previous entry. The offset of
//! an entry is the last offset of the batch that starts at its position.
//!
//! Invariants: offsets and positions strictly increase. Not thread-safe.

use std::path::Path;

use super::error::{Result, StorageError};
use super::index_file::IndexFile;

pub const ENTRY_SIZE: usize = 8;

pub struct OffsetIndex {
    file: IndexFile,
    base_offset: i64,
}

fn rel(e: &[u8]) -> i64 {
    u32::from_be_bytes(e[0..4].try_into().unwrap()) as i64
}
fn pos(e: &[u8]) -> i64 {
    u32::from_be_bytes(e[4..8].try_into().unwrap()) as i64
}

impl OffsetIndex {
    pub fn open(path: &Path, base_offset: i64, max_bytes: u64, preallocate: bool) -> Result<Self> {
        Ok(OffsetIndex {
            file: IndexFile::open(path, ENTRY_SIZE, max_bytes, preallocate)?,
            base_offset,
        })
    }

    pub fn entries(&self) -> usize {
        self.file.entries()
    }

    /// `(offset, position)` of entry `i`.
    pub fn entry(&self, i: usize) -> (i64, u64) {
        let e = self.file.entry(i);
        (self.base_offset + rel(e), pos(e) as u64)
    }

    /// The last entry, or `(base_offset, 0)` when empty.
    pub fn last_entry(&self) -> (i64, u64) {
        match self.entries() {
            0 => (self.base_offset, 0),
            n => self.entry(n - 1),
        }
    }

    /// The entry with the largest offset `<= target`, or `(base_offset, 0)`.
    pub fn lookup(&self, target: i64) -> (i64, u64) {
        match self
            .file
            .largest_lower_bound(target - self.base_offset, rel)
        {
            Some(i) => self.entry(i),
            None => (self.base_offset, 0),
        }
    }

    /// The entry with the largest position `<= position`, or `(base, 0)`.
    pub fn lookup_position(&self, position: u64) -> (i64, u64) {
        match self.file.largest_lower_bound(position as i64, pos) {
            Some(i) => self.entry(i),
            None => (self.base_offset, 0),
        }
    }

    pub fn is_full(&self) -> bool {
        self.entries() >= self.file.capacity()
    }

    pub fn append(&mut self, offset: i64, position: u64) -> Result<()> {
        let relative = offset - self.base_offset;
        let (last_offset, last_pos) = self.last_entry();
        let n = self.entries();
        if relative < 0
            || relative > u32::MAX as i64
            || position > u32::MAX as u64
            || (n > 0 && (offset <= last_offset || position <= last_pos))
        {
            return Err(StorageError::InvalidAppend(format!(
                "index entry ({offset}, {position}) does not follow ({last_offset}, {last_pos}) in {}",
                self.file.path().display()
            )));
        }
        let mut e = [0u8; ENTRY_SIZE];
        e[0..4].copy_from_slice(&(relative as u32).to_be_bytes());
        e[4..8].copy_from_slice(&(position as u32).to_be_bytes());
        self.file.push(&e)
    }

    /// Removes every entry whose offset is `>= offset`.
    pub fn truncate_to(&mut self, offset: i64) {
        let keep = match self
            .file
            .largest_lower_bound(offset - self.base_offset - 1, rel)
        {
            Some(i) => i + 1,
            None => 0,
        };
        self.file.truncate_entries(keep);
    }

    pub fn reset(&mut self) {
        self.file.truncate_entries(0);
    }

    /// Keeps the longest prefix of entries that could be true: strictly
    /// increasing offsets and positions, positions inside the log. Returns
    /// how many non-zero entries were dropped (zeros are preallocated room).
    pub fn sanitize(&mut self, log_size: u64) -> usize {
        let n = self.entries();
        let mut keep = 0;
        let mut prev: Option<(i64, u64)> = None;
        while keep < n {
            let (o, p) = self.entry(keep);
            let ok = p < log_size && prev.is_none_or(|(po, pp)| o > po && p > pp);
            if !ok {
                break;
            }
            prev = Some((o, p));
            keep += 1;
        }
        let garbage = (keep..n)
            .filter(|&i| self.file.entry(i).iter().any(|&b| b != 0))
            .count();
        self.file.truncate_entries(keep);
        garbage
    }

    pub fn file(&self) -> &IndexFile {
        &self.file
    }

    pub fn file_mut(&mut self) -> &mut IndexFile {
        &mut self.file
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_truncate_and_sanitize() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("00000000000000000100.index");
        let mut idx = OffsetIndex::open(&p, 100, 80, true).unwrap();
        assert_eq!(idx.lookup(500), (100, 0));
        for (o, pos) in [(105, 400), (110, 900), (120, 1500)] {
            idx.append(o, pos).unwrap();
        }
        assert!(idx.append(120, 2000).is_err()); // offsets must grow
        assert!(idx.append(121, 1500).is_err()); // positions too
        assert_eq!(idx.lookup(104), (100, 0));
        assert_eq!(idx.lookup(112), (110, 900));
        assert_eq!(idx.lookup_position(1499), (110, 900));
        idx.truncate_to(110);
        assert_eq!(idx.last_entry(), (105, 400));
        idx.append(130, 1000).unwrap();
        // An entry past the end of a 900-byte log is dropped; the zero
        // tail of the preallocated file is not counted as garbage.
        assert_eq!(idx.sanitize(900), 1);
        assert_eq!(idx.entries(), 1);
    }
}
