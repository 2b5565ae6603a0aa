//! A memory-mapped file of fixed-width entries: the machinery the offset
//! index and the time index share (Kafka's `AbstractIndex`).
//!
//! Invariants: the valid entries are `0..entries`; every byte after them up
//! to the end of the file is zero, so a crash never leaves stale entries that
//! look valid. The active segment's files are preallocated to
//! `segment.index.bytes` and trimmed to the valid entries on roll and close.
//! Not thread-safe by itself: the owning log serializes writers.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::{Advice, MmapMut};

use super::error::{IoContext, Result, StorageError};

/// Searches start in the last 8 KiB of entries, where appends and most
/// lookups land, so hot pages stay resident (Kafka's "warm" section).
const WARM_BYTES: usize = 8192;

pub struct IndexFile {
    path: PathBuf,
    file: Arc<File>,
    /// `None` while the file is empty (a zero-length map is not allowed).
    mmap: Option<MmapMut>,
    entry_size: usize,
    entries: usize,
}

impl IndexFile {
    /// Opens or creates `path`. Existing bytes are taken as
    /// `len / entry_size` candidate entries; the typed index then sanitizes
    /// them. `preallocate` grows the file to `max_bytes` (active segment).
    pub fn open(path: &Path, entry_size: usize, max_bytes: u64, preallocate: bool) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .at(path)?;
        let len = file.metadata().at(path)?.len() as usize;
        let mut idx = IndexFile {
            path: path.to_path_buf(),
            file: Arc::new(file),
            mmap: None,
            entry_size,
            entries: len / entry_size,
        };
        if !len.is_multiple_of(entry_size) {
            // A torn tail entry: drop it (and zero it on disk).
            idx.set_file_len(len - len % entry_size)?;
        }
        if preallocate {
            idx.resize(max_bytes as usize)?;
        } else {
            idx.remap()?;
        }
        Ok(idx)
    }

    fn set_file_len(&mut self, len: usize) -> Result<()> {
        self.mmap = None;
        self.file.set_len(len as u64).at(&self.path)
    }

    fn remap(&mut self) -> Result<()> {
        self.mmap = None;
        let len = self.file.metadata().at(&self.path)?.len();
        if len > 0 {
            // SAFETY: the file is private to this partition directory and
            // only resized by this struct after dropping the map.
            let map = unsafe { MmapMut::map_mut(&*self.file) }.at(&self.path)?;
            // Faults on the preallocated (sparse) tail would otherwise read
            // ahead and zero-fill megabytes of holes: about 100 us per
            // fault, a third of a 1 MiB append. Searches touch few pages.
            map.advise(Advice::Random).at(&self.path)?;
            self.mmap = Some(map);
        }
        Ok(())
    }

    /// Resizes the file to `len` bytes rounded down to whole entries, never
    /// below the valid entries.
    pub fn resize(&mut self, len: usize) -> Result<()> {
        let len = (len - len % self.entry_size).max(self.entries * self.entry_size);
        if len as u64 != self.file.metadata().at(&self.path)?.len() || self.mmap.is_none() {
            self.set_file_len(len)?;
            self.remap()?;
        }
        Ok(())
    }

    /// Shrinks the file to exactly the valid entries (on roll and close).
    pub fn trim_to_valid(&mut self) -> Result<()> {
        self.resize(self.entries * self.entry_size)
    }

    pub fn entries(&self) -> usize {
        self.entries
    }

    pub fn capacity(&self) -> usize {
        self.mmap.as_ref().map_or(0, |m| m.len() / self.entry_size)
    }

    pub fn entry(&self, i: usize) -> &[u8] {
        let s = i * self.entry_size;
        &self.mmap.as_ref().expect("entry of an empty index")[s..s + self.entry_size]
    }

    pub fn push(&mut self, entry: &[u8]) -> Result<()> {
        if self.entries >= self.capacity() {
            return Err(StorageError::InvalidAppend(format!(
                "index {} is full ({} entries)",
                self.path.display(),
                self.entries
            )));
        }
        let s = self.entries * self.entry_size;
        self.mmap.as_mut().expect("capacity > 0")[s..s + self.entry_size].copy_from_slice(entry);
        self.entries += 1;
        Ok(())
    }

    /// Keeps the first `n` entries and zeroes the rest.
    pub fn truncate_entries(&mut self, n: usize) {
        if n >= self.entries {
            return;
        }
        if let Some(m) = self.mmap.as_mut() {
            m[n * self.entry_size..self.entries * self.entry_size].fill(0);
        }
        self.entries = n;
    }

    /// Index of the last entry whose key is `<= target`, if any. `key` must
    /// be non-decreasing over the valid entries.
    pub fn largest_lower_bound(&self, target: i64, key: impl Fn(&[u8]) -> i64) -> Option<usize> {
        let n = self.entries;
        if n == 0 || key(self.entry(0)) > target {
            return None;
        }
        let warm = (WARM_BYTES / self.entry_size).max(1);
        let first_hot = n.saturating_sub(warm + 1);
        let (mut lo, mut hi) = if key(self.entry(first_hot)) <= target {
            (first_hot, n - 1)
        } else {
            (0, first_hot)
        };
        // Invariant: key(lo) <= target; answer in [lo, hi].
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if key(self.entry(mid)) <= target {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        Some(lo)
    }

    pub fn file(&self) -> Arc<File> {
        Arc::clone(&self.file)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Unmaps and removes the file.
    pub fn delete(&mut self) -> Result<()> {
        self.mmap = None;
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e).at(&self.path),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_search_truncate_trim() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.index");
        let mut f = IndexFile::open(&p, 8, 800, true).unwrap();
        assert_eq!(f.capacity(), 100);
        for i in 0..50i64 {
            f.push(&(i * 10).to_be_bytes()).unwrap();
        }
        let key = |e: &[u8]| i64::from_be_bytes(e.try_into().unwrap());
        assert_eq!(f.largest_lower_bound(-1, key), None);
        assert_eq!(f.largest_lower_bound(0, key), Some(0));
        assert_eq!(f.largest_lower_bound(255, key), Some(25));
        assert_eq!(f.largest_lower_bound(10_000, key), Some(49));
        f.truncate_entries(30);
        assert_eq!(f.largest_lower_bound(10_000, key), Some(29));
        f.trim_to_valid().unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().len(), 240);
        drop(f);
        let f = IndexFile::open(&p, 8, 800, false).unwrap();
        assert_eq!(f.entries(), 30);
    }

    #[test]
    fn torn_entry_is_dropped_and_empty_file_maps() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("y.index");
        std::fs::write(&p, [1u8; 13]).unwrap();
        let f = IndexFile::open(&p, 8, 800, false).unwrap();
        assert_eq!(f.entries(), 1);
        std::fs::write(&p, []).unwrap();
        let f = IndexFile::open(&p, 8, 800, false).unwrap();
        assert_eq!((f.entries(), f.capacity()), (0, 0));
    }
}
