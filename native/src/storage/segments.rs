//! The segments of one log, by base offset (Kafka's `LogSegments`). The
//! last one is the active segment. Not thread-safe: owned by the log.

use std::collections::BTreeMap;
use std::ops::Bound;

use super::segment::LogSegment;

#[derive(Default)]
pub struct Segments {
    map: BTreeMap<i64, LogSegment>,
}

impl Segments {
    pub fn insert(&mut self, seg: LogSegment) {
        self.map.insert(seg.base_offset(), seg);
    }
    pub fn remove(&mut self, base: i64) -> Option<LogSegment> {
        self.map.remove(&base)
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    pub fn active(&self) -> &LogSegment {
        self.map
            .values()
            .next_back()
            .expect("a log always has a segment")
    }
    pub fn active_mut(&mut self) -> &mut LogSegment {
        self.map
            .values_mut()
            .next_back()
            .expect("a log always has a segment")
    }
    pub fn first(&self) -> Option<&LogSegment> {
        self.map.values().next()
    }
    pub fn get(&self, base: i64) -> Option<&LogSegment> {
        self.map.get(&base)
    }
    pub fn get_mut(&mut self, base: i64) -> Option<&mut LogSegment> {
        self.map.get_mut(&base)
    }
    /// The segment that would hold `offset`: the last with base `<= offset`.
    pub fn floor(&self, offset: i64) -> Option<&LogSegment> {
        self.map.range(..=offset).next_back().map(|(_, s)| s)
    }
    /// Segments from the one holding `offset` (or the first) onwards.
    pub fn from_floor(&self, offset: i64) -> impl Iterator<Item = &LogSegment> {
        let start = self.floor(offset).map_or(i64::MIN, |s| s.base_offset());
        self.map.range(start..).map(|(_, s)| s)
    }
    /// Base offset of the segment after `base`.
    pub fn next_base(&self, base: i64) -> Option<i64> {
        self.map
            .range((Bound::Excluded(base), Bound::Unbounded))
            .next()
            .map(|(b, _)| *b)
    }
    pub fn bases(&self) -> Vec<i64> {
        self.map.keys().copied().collect()
    }
    pub fn iter(&self) -> impl Iterator<Item = &LogSegment> {
        self.map.values()
    }
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut LogSegment> {
        self.map.values_mut()
    }
}
