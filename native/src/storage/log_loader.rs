//! Opening a partition directory (Kafka's `LogLoader`): finds the segment
//! files, removes leftovers of interrupted operations, and recovers from
//! the recovery point. Segments wholly below it are trusted after index
//! sanity checks; the one holding it is re-validated from the recovery
//! point; later ones whole. A cut tail removes every later segment, as in
//! Kafka. Nothing below the recovery point is lost unless it is itself
//! unreadable. The report says what was dropped and rebuilt.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use super::config::LogConfig;
use super::error::{IoContext, Result, StorageError};
use super::leader_epoch::LeaderEpochCache;
use super::log::Log;
use super::segment::{LogSegment, INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX};
use super::segment_recovery::SegmentRecovery;
use super::segments::Segments;

/// Bytes cut from a segment during recovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    pub file: PathBuf,
    pub position: u64,
    pub bytes: u64,
    pub reason: String,
}

/// What opening a log found and did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RecoveryReport {
    pub recovery_point: i64,
    pub segments_validated: usize,
    pub bytes_validated: u64,
    pub dropped: Vec<Dropped>,
    /// Segments removed because an earlier one was cut: `(file, bytes)`.
    pub deleted_segments: Vec<(PathBuf, u64)>,
    /// `(index file, reason)`.
    pub rebuilt_indexes: Vec<(PathBuf, String)>,
    /// Leftovers of interrupted operations and orphan index files.
    pub removed_files: Vec<PathBuf>,
    pub warnings: Vec<String>,
}

/// Segment base offsets found in `dir` (with whether both indexes exist);
/// leftovers are removed and recorded.
fn scan(dir: &Path, report: &mut RecoveryReport) -> Result<BTreeMap<i64, bool>> {
    let mut logs = BTreeSet::new();
    let mut indexes: BTreeMap<i64, Vec<PathBuf>> = BTreeMap::new();
    for entry in fs::read_dir(dir).at(dir)? {
        let entry = entry.at(dir)?;
        let path = entry.path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        if [".deleted", ".cleaned", ".swap", ".tmp"]
            .iter()
            .any(|s| name.ends_with(s))
        {
            fs::remove_file(&path).at(&path)?;
            report.removed_files.push(path);
            continue;
        }
        let Some(suffix) = [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX]
            .into_iter()
            .find(|s| name.ends_with(s))
        else {
            continue; // not ours: snapshots, partition.metadata, checkpoints
        };
        let stem = &name[..name.len() - suffix.len()];
        let not_segment = |reason: &str| StorageError::NotASegment {
            path: path.clone(),
            reason: reason.to_string(),
        };
        if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
            return Err(not_segment("the name is not a 20-digit base offset"));
        }
        let base: i64 = stem
            .parse()
            .map_err(|_| not_segment("base offset out of range"))?;
        if !entry.file_type().at(&path)?.is_file() {
            return Err(not_segment("not a regular file"));
        }
        if suffix == LOG_SUFFIX {
            logs.insert(base);
        } else {
            indexes.entry(base).or_default().push(path);
        }
    }
    for (base, paths) in &indexes {
        if !logs.contains(base) {
            for p in paths {
                fs::remove_file(p).at(p)?;
                report.removed_files.push(p.clone());
            }
        }
    }
    Ok(logs
        .into_iter()
        .map(|b| (b, indexes.get(&b).is_some_and(|v| v.len() == 2)))
        .collect())
}

impl Log {
    /// Opens (creating if needed) the log in `dir` and recovers it from
    /// `recovery_point`. `log_start_offset` comes from the data dir's
    /// checkpoint (0 if unknown).
    pub fn open(
        dir: &Path,
        config: LogConfig,
        recovery_point: i64,
        log_start_offset: i64,
        now_ms: i64,
    ) -> Result<(Log, RecoveryReport)> {
        config.validate()?;
        fs::create_dir_all(dir).at(dir)?;
        let mut report = RecoveryReport {
            recovery_point,
            ..Default::default()
        };
        let found = scan(dir, &mut report)?;
        let bases: Vec<i64> = found.keys().copied().collect();
        let mut segments = Segments::default();
        let mut cut_at: Option<usize> = None;
        let mut recovered = Vec::new();
        for (i, (&base, &has_index)) in found.iter().enumerate() {
            if cut_at.is_some() {
                let path = dir.join(super::segment::file_name(base, LOG_SUFFIX));
                let mut seg = LogSegment::open_files(dir, base, &config, false, now_ms)?;
                report.deleted_segments.push((path, seg.size()));
                seg.delete()?;
                continue;
            }
            let active = i + 1 == bases.len();
            let mut seg = LogSegment::open_files(dir, base, &config, active, now_ms)?;
            let next = bases.get(i + 1).copied();
            let outcome: Option<SegmentRecovery> = if next.is_some_and(|n| n <= recovery_point) {
                seg.load_trusted(has_index, &config, active)?
            } else if base <= recovery_point {
                Some(seg.recover_after(recovery_point, has_index, &config, active)?)
            } else {
                Some(seg.recover_from(0, &config, active)?)
            };
            if let Some(r) = outcome {
                report.segments_validated += 1;
                report.bytes_validated += r.validated_bytes;
                if let Some(reason) = r.index_rebuilt {
                    report
                        .rebuilt_indexes
                        .push((seg.offset_index().file().path().to_path_buf(), reason));
                }
                if let Some((position, bytes, reason)) = r.truncation {
                    report.dropped.push(Dropped {
                        file: seg.log_path().to_path_buf(),
                        position,
                        bytes,
                        reason,
                    });
                    // Below the recovery point a cut is local damage; above
                    // it, later segments follow unvalidated bytes.
                    if next.is_none_or(|n| n > recovery_point) {
                        cut_at = Some(i);
                    }
                }
                recovered.push(base);
            }
            segments.insert(seg);
        }
        if segments.is_empty() {
            let base = log_start_offset.max(0);
            segments.insert(LogSegment::create(dir, base, &config, now_ms)?);
        } else if cut_at.is_some_and(|i| i + 1 < bases.len()) {
            segments.active_mut().on_become_active(&config)?;
        }
        for seg in segments.iter_mut() {
            seg.map_for_reads(config.segment_bytes)?;
        }
        let (epochs, warning) = LeaderEpochCache::load(dir)?;
        report.warnings.extend(warning);
        let first_base = segments.first().map_or(0, |s| s.base_offset());
        let mut log = Log {
            dir: dir.to_path_buf(),
            config,
            segments,
            log_start_offset: log_start_offset.max(first_base),
            recovery_point: 0,
            unflushed_messages: 0,
            last_flush_ms: now_ms,
            dir_dirty: true,
            truncations: 0,
            epochs,
            closed: false,
        };
        let leo = log.log_end_offset();
        log.log_start_offset = log.log_start_offset.min(leo);
        log.epochs.truncate_from_end(leo)?;
        log.epochs.truncate_from_start(log.log_start_offset)?;
        // Make what was re-validated durable, so the next start skips it.
        log.recovery_point = recovery_point.min(leo).max(first_base.min(leo));
        if !recovered.is_empty() || !report.dropped.is_empty() {
            log.flush(None, now_ms)?;
        }
        log.recovery_point = leo;
        Ok((log, report))
    }
}
