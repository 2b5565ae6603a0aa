//! The sparse time index of one segment (`.timeindex`): 12-byte big-endian
//! entries `(timestamp i64, relative offset u32)`, written beside offset
//! index entries when the segment's max timestamp grew. Entry `(t, o)`: `t`
//! is the largest timestamp in the segment up to the batch holding `o`, and
//! that batch carries it.
//!
//! Invariants: timestamps strictly increase, offsets never decrease. The last
//! slot is reserved for the entry written on roll, as in Kafka. Not
//! thread-safe.

use std::path::Path;

use super::error::{Result, StorageError};
use super::index_file::IndexFile;

pub const ENTRY_SIZE: usize = 12;

pub struct TimeIndex {
    file: IndexFile,
    base_offset: i64,
}

fn ts(e: &[u8]) -> i64 {
    i64::from_be_bytes(e[0..8].try_into().unwrap())
}
fn rel(e: &[u8]) -> i64 {
    u32::from_be_bytes(e[8..12].try_into().unwrap()) as i64
}

impl TimeIndex {
    pub fn open(path: &Path, base_offset: i64, max_bytes: u64, preallocate: bool) -> Result<Self> {
        Ok(TimeIndex {
            file: IndexFile::open(path, ENTRY_SIZE, max_bytes, preallocate)?,
            base_offset,
        })
    }

    pub fn entries(&self) -> usize {
        self.file.entries()
    }

    /// `(timestamp, offset)` of entry `i`.
    pub fn entry(&self, i: usize) -> (i64, i64) {
        let e = self.file.entry(i);
        (ts(e), self.base_offset + rel(e))
    }

    pub fn last_entry(&self) -> Option<(i64, i64)> {
        self.entries().checked_sub(1).map(|i| self.entry(i))
    }

    /// The entry with the largest timestamp `<= target`, or
    /// `(-1, base_offset)`: where a scan for `target` may start.
    pub fn lookup(&self, target: i64) -> (i64, i64) {
        match self.file.largest_lower_bound(target, ts) {
            Some(i) => self.entry(i),
            None => (-1, self.base_offset),
        }
    }

    pub fn is_full(&self) -> bool {
        self.entries() + 1 >= self.file.capacity()
    }

    /// Appends `(timestamp, offset)` if `timestamp` is above the last entry.
    /// `on_roll` may use the reserved last slot.
    pub fn maybe_append(&mut self, timestamp: i64, offset: i64, on_roll: bool) -> Result<()> {
        let relative = offset - self.base_offset;
        if let Some((last_ts, last_off)) = self.last_entry() {
            if offset < last_off {
                return Err(StorageError::InvalidAppend(format!(
                    "time index offset {offset} below last {last_off} in {}",
                    self.file.path().display()
                )));
            }
            if timestamp <= last_ts {
                return Ok(());
            }
        }
        if timestamp < 0 || !(0..=u32::MAX as i64).contains(&relative) {
            return Ok(());
        }
        if !on_roll && self.is_full() {
            return Err(StorageError::InvalidAppend(format!(
                "time index {} is full",
                self.file.path().display()
            )));
        }
        let mut e = [0u8; ENTRY_SIZE];
        e[0..8].copy_from_slice(&timestamp.to_be_bytes());
        e[8..12].copy_from_slice(&(relative as u32).to_be_bytes());
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

    /// Keeps the longest prefix with strictly increasing timestamps,
    /// non-decreasing offsets below `next_offset`. Returns how many non-zero
    /// entries were dropped (zeros are preallocated room).
    pub fn sanitize(&mut self, next_offset: i64) -> usize {
        let n = self.entries();
        let mut keep = 0;
        let mut prev: Option<(i64, i64)> = None;
        while keep < n {
            let (t, o) = self.entry(keep);
            let ok = o < next_offset.max(self.base_offset + 1)
                && prev.is_none_or(|(pt, po)| t > pt && o >= po);
            if !ok {
                break;
            }
            prev = Some((t, o));
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
    fn only_growing_timestamps_and_reserved_slot() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("00000000000000000000.timeindex");
        let mut idx = TimeIndex::open(&p, 0, 36, true).unwrap(); // 3 slots
        idx.maybe_append(100, 5, false).unwrap();
        idx.maybe_append(100, 6, false).unwrap(); // not greater: skipped
        idx.maybe_append(90, 7, false).unwrap();
        assert_eq!(idx.entries(), 1);
        idx.maybe_append(200, 9, false).unwrap();
        assert!(idx.is_full()); // the last slot is kept for the roll
        assert!(idx.maybe_append(300, 10, false).is_err());
        idx.maybe_append(300, 10, true).unwrap();
        assert_eq!(idx.lookup(250), (200, 9));
        assert_eq!(idx.lookup(50), (-1, 0));
        assert!(idx.maybe_append(400, 8, true).is_err()); // offset went back
        idx.truncate_to(9);
        assert_eq!(idx.last_entry(), Some((100, 5)));
    }
}
