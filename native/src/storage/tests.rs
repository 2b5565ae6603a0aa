//! End-to-end tests of the pure-Rust log (the Python suite covers the
//! on-disk format from outside).

use std::fs;

use super::test_util::batch;
use super::*;

fn small_config() -> LogConfig {
    LogConfig {
        segment_bytes: 4096,
        index_interval_bytes: 256,
        segment_index_bytes: 4096,
        ..LogConfig::default()
    }
}

/// Appends `n` batches of 3 records (100-byte values) from the log end.
fn fill(log: &mut Log, n: usize) {
    for _ in 0..n {
        let leo = log.log_end_offset();
        let ts = 1_000 + leo;
        log.append(&batch(leo, &[ts, ts + 1, ts + 2], 100, 0), Some(leo + 2), 0)
            .unwrap();
    }
}

#[test]
fn append_roll_read_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, _) = Log::open(dir.path(), small_config(), 0, 0, 0).unwrap();
    fill(&mut log, 40);
    assert_eq!(log.log_end_offset(), 120);
    assert!(log.segments().len() > 3);
    for off in 0..120 {
        let s = log.read(off, 1, None).unwrap().unwrap();
        let b = log
            .segments()
            .floor(off)
            .unwrap()
            .read_bytes(s.position, s.length)
            .unwrap();
        let base = i64::from_be_bytes(b[..8].try_into().unwrap());
        assert_eq!(base, off - off % 3);
        assert_eq!(s.first_offset, base);
    }
    assert!(log.read(120, 1000, None).unwrap().is_none());
    assert!(log.read(121, 1000, None).is_err());
    log.close(0).unwrap();
    let (log, report) = Log::open(dir.path(), small_config(), 120, 0, 0).unwrap();
    assert!(report.dropped.is_empty(), "{report:?}");
    assert_eq!(report.bytes_validated, 0);
    assert_eq!(log.log_end_offset(), 120);
}

#[test]
fn torn_tail_is_cut_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, _) = Log::open(dir.path(), small_config(), 0, 0, 0).unwrap();
    fill(&mut log, 5);
    let path = log.segments().active().log_path().to_path_buf();
    let size = log.segments().active().size();
    drop(log);
    let f = fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(size - 7).unwrap();
    let (log, report) = Log::open(dir.path(), small_config(), 0, 0, 0).unwrap();
    assert_eq!(log.log_end_offset(), 12);
    assert_eq!(report.dropped.len(), 1);
    assert_eq!(
        report.dropped[0].bytes,
        size - 7 - report.dropped[0].position
    );
}

#[test]
fn retention_truncate_and_delete_records() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, _) = Log::open(dir.path(), small_config(), 0, 0, 0).unwrap();
    fill(&mut log, 40);
    let n = log.segments().len();
    let r = log.delete_records(50, 0).unwrap();
    assert_eq!(r, 50);
    assert!(log.segments().len() < n);
    assert!(log.segments().first().unwrap().base_offset() <= 50);
    assert!(log.read(49, 10, None).is_err());
    log.truncate_to(100, 0).unwrap();
    assert_eq!(log.log_end_offset(), 100);
    let mut cfg = small_config();
    cfg.retention_bytes = 0;
    log.update_config(cfg).unwrap();
    let r = log.enforce_retention(0, None, true).unwrap();
    assert!(!r.deleted_segments.is_empty());
    assert_eq!(log.log_start_offset(), 100);
    assert_eq!(log.segments().len(), 1);
    fill(&mut log, 1);
    assert_eq!(log.log_end_offset(), 103);
}
