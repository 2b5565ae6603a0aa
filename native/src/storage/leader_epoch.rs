//! The leader epoch cache of one partition (Kafka's
//! `LeaderEpochFileCache`): `(epoch, start offset)` pairs with strictly
//! increasing epochs and offsets, persisted to `leader-epoch-checkpoint` on
//! every change. Replication asks it for the end offset of an epoch.
//! Not thread-safe: owned by the log.

use std::path::{Path, PathBuf};

use super::checkpoint::{read_epochs, write_epochs, LEADER_EPOCH_FILE};
use super::error::{Result, StorageError};

/// Kafka's UNDEFINED_EPOCH / UNDEFINED_EPOCH_OFFSET.
pub const UNDEFINED: i64 = -1;

pub struct LeaderEpochCache {
    path: PathBuf,
    entries: Vec<(i32, i64)>,
}

impl LeaderEpochCache {
    /// Loads the partition's checkpoint. A malformed file is reported in the
    /// second value and the cache starts empty (as if no epoch was known).
    pub fn load(dir: &Path) -> Result<(Self, Option<String>)> {
        let path = dir.join(LEADER_EPOCH_FILE);
        let (entries, warning) = match read_epochs(&path) {
            Ok(e) => (e, None),
            Err(e @ StorageError::Checkpoint { .. }) => (Vec::new(), Some(e.to_string())),
            Err(e) => return Err(e),
        };
        let monotonic = entries
            .windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1);
        if !monotonic {
            let warning = Some(format!("{}: epochs out of order, ignored", path.display()));
            return Ok((
                LeaderEpochCache {
                    path,
                    entries: Vec::new(),
                },
                warning,
            ));
        }
        Ok((LeaderEpochCache { path, entries }, warning))
    }

    pub fn entries(&self) -> &[(i32, i64)] {
        &self.entries
    }

    pub fn latest_epoch(&self) -> Option<i32> {
        self.entries.last().map(|e| e.0)
    }

    fn flush(&self) -> Result<()> {
        write_epochs(&self.path, &self.entries)
    }

    /// Records that `epoch` starts at `start_offset`, dropping entries it
    /// contradicts (epoch or offset not below it). No-op if already known.
    pub fn assign(&mut self, epoch: i32, start_offset: i64) -> Result<bool> {
        if epoch < 0 || start_offset < 0 {
            return Err(StorageError::InvalidArgument(format!(
                "leader epoch {epoch} at offset {start_offset}"
            )));
        }
        if let Some(&(e, o)) = self.entries.last() {
            if e == epoch && o <= start_offset {
                return Ok(false);
            }
        }
        self.entries.retain(|&(e, o)| e < epoch && o < start_offset);
        self.entries.push((epoch, start_offset));
        self.flush()?;
        Ok(true)
    }

    /// Kafka's `endOffsetFor`: `(epoch, end offset)` where the end offset
    /// is the start of the next higher epoch (or the log end offset for the
    /// latest epoch), and the epoch is the largest known `<= requested`.
    pub fn end_offset_for(&self, requested: i32, log_end_offset: i64) -> (i32, i64) {
        if requested < 0 {
            return (UNDEFINED as i32, UNDEFINED);
        }
        if self.latest_epoch() == Some(requested) {
            return (requested, log_end_offset);
        }
        let Some(&(_, higher_start)) = self.entries.iter().find(|e| e.0 > requested) else {
            return (UNDEFINED as i32, UNDEFINED);
        };
        match self.entries.iter().rev().find(|e| e.0 <= requested) {
            Some(&(floor, _)) => (floor, higher_start),
            None => (requested, higher_start),
        }
    }

    /// Drops epochs starting at or after `end_offset` (log truncated there).
    pub fn truncate_from_end(&mut self, end_offset: i64) -> Result<()> {
        if self.entries.last().is_some_and(|e| e.1 >= end_offset) {
            self.entries.retain(|e| e.1 < end_offset);
            self.flush()?;
        }
        Ok(())
    }

    /// Drops epochs wholly below `start_offset`; the one holding it now
    /// starts there (log start offset moved).
    pub fn truncate_from_start(&mut self, start_offset: i64) -> Result<()> {
        let below = self
            .entries
            .iter()
            .take_while(|e| e.1 <= start_offset)
            .count();
        if below == 0 || (below == 1 && self.entries[0].1 == start_offset) {
            return Ok(());
        }
        let epoch = self.entries[below - 1].0;
        self.entries.drain(..below);
        self.entries.insert(0, (epoch, start_offset));
        self.flush()
    }

    pub fn clear(&mut self) -> Result<()> {
        self.entries.clear();
        self.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_semantics() {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, w) = LeaderEpochCache::load(dir.path()).unwrap();
        assert!(w.is_none());
        c.assign(0, 0).unwrap();
        c.assign(2, 10).unwrap();
        c.assign(4, 25).unwrap();
        assert!(!c.assign(4, 30).unwrap());
        assert_eq!(c.end_offset_for(4, 40), (4, 40));
        assert_eq!(c.end_offset_for(3, 40), (2, 25));
        assert_eq!(c.end_offset_for(2, 40), (2, 25));
        assert_eq!(c.end_offset_for(5, 40), (-1, -1));
        c.truncate_from_start(12).unwrap();
        assert_eq!(c.entries(), &[(2, 12), (4, 25)]);
        assert_eq!(c.end_offset_for(1, 40), (1, 12));
        c.truncate_from_end(25).unwrap();
        assert_eq!(c.entries(), &[(2, 12)]);
        c.assign(7, 11).unwrap(); // offset below an existing entry: it goes
        assert_eq!(c.entries(), &[(7, 11)]);
        let (c2, _) = LeaderEpochCache::load(dir.path()).unwrap();
        assert_eq!(c2.entries(), &[(7, 11)]);
    }
}
