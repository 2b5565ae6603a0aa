//! Durability of a log: flush plans (built under the log's lock, fsynced
//! without it), the recovery point they move, and close.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use super::checkpoint::sync_dir;
use super::error::{IoContext, Result};
use super::log::Log;

/// Files to fsync to move the recovery point to `up_to`. Built under the
/// log's lock, executed without it.
#[derive(Debug, Default)]
pub struct FlushPlan {
    pub files: Vec<(Arc<File>, PathBuf)>,
    pub dir: Option<PathBuf>,
    pub up_to: i64,
    pub messages: i64,
    pub truncations: u64,
}

impl FlushPlan {
    pub fn execute(&self) -> Result<()> {
        for (f, path) in &self.files {
            f.sync_data().at(path)?;
        }
        if let Some(d) = &self.dir {
            sync_dir(d)?;
        }
        Ok(())
    }
}

impl Log {
    /// What to fsync so that everything below `up_to` (default: the log
    /// end offset) is durable.
    pub fn flush_plan(&self, up_to: Option<i64>) -> Result<FlushPlan> {
        self.check_open()?;
        let leo = self.log_end_offset();
        let up_to = up_to.unwrap_or(leo).min(leo);
        let mut plan = FlushPlan {
            up_to,
            messages: if up_to == leo {
                self.unflushed_messages
            } else {
                0
            },
            dir: self.dir_dirty.then(|| self.dir.clone()),
            truncations: self.truncations,
            ..Default::default()
        };
        if up_to <= self.recovery_point && !self.dir_dirty {
            return Ok(plan);
        }
        for seg in self.segments.from_floor(self.recovery_point) {
            if seg.base_offset() >= up_to && seg.base_offset() > self.recovery_point {
                break;
            }
            for f in seg.files() {
                plan.files.push((f, seg.log_path().to_path_buf()));
            }
        }
        Ok(plan)
    }

    /// Records a finished plan: moves the recovery point.
    pub fn complete_flush(&mut self, plan: &FlushPlan, now_ms: i64) {
        if plan.truncations == self.truncations {
            let up_to = plan.up_to.min(self.log_end_offset());
            self.recovery_point = self.recovery_point.max(up_to);
            self.unflushed_messages = (self.unflushed_messages - plan.messages).max(0);
        }
        if plan.dir.is_some() {
            self.dir_dirty = false;
        }
        self.last_flush_ms = now_ms;
    }

    /// fsyncs everything below `up_to` (default: all) and moves the
    /// recovery point.
    pub fn flush(&mut self, up_to: Option<i64>, now_ms: i64) -> Result<()> {
        let plan = self.flush_plan(up_to)?;
        plan.execute()?;
        self.complete_flush(&plan, now_ms);
        Ok(())
    }

    /// Trims the active segment's indexes, fsyncs everything, and refuses
    /// further calls. Idempotent.
    pub fn close(&mut self, now_ms: i64) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        self.flush(None, now_ms)?;
        let active = self.segments.active_mut();
        active.on_become_inactive()?;
        for f in active.files() {
            f.sync_all().at(&self.dir)?;
        }
        self.closed = true;
        Ok(())
    }
}
