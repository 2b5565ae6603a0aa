//! Tests of [`super::validate_and_assign`].

use super::*;
use crate::record::builder::{BatchBuilder, BatchOptions};
use crate::record::header::{compute_crc, CRC_POS, MAX_TIMESTAMP_POS};

fn batch(opts: BatchOptions, timestamps: &[i64]) -> Vec<u8> {
    let mut b = BatchBuilder::new(opts);
    for (i, ts) in timestamps.iter().enumerate() {
        let key = format!("k{i}");
        b.add(*ts, Some(key.as_bytes()), Some(b"value"), &[])
            .unwrap();
    }
    b.build().unwrap()
}

fn plain(timestamps: &[i64]) -> Vec<u8> {
    batch(BatchOptions::default(), timestamps)
}

fn fix_crc(b: &mut [u8]) {
    let crc = compute_crc(b);
    b[CRC_POS..CRC_POS + 4].copy_from_slice(&crc.to_be_bytes());
}

fn err_of(buf: &[u8], opts: &AppendOptions) -> RecordError {
    let mut copy = buf.to_vec();
    let e = validate_and_assign(&mut copy, 0, opts).unwrap_err();
    assert_eq!(copy, buf, "buffer changed on error");
    e
}

#[test]
fn assigns_offsets_and_epoch_across_batches() {
    let idem = BatchOptions {
        producer_id: 9,
        producer_epoch: 1,
        base_sequence: 10,
        ..Default::default()
    };
    let mut buf = [batch(idem, &[5, 8, 6]), plain(&[8, 2])].concat();
    let opts = AppendOptions {
        partition_leader_epoch: 3,
        ..Default::default()
    };
    let info = validate_and_assign(&mut buf, 1000, &opts).unwrap();
    assert_eq!(
        (info.first_offset, info.last_offset, info.record_count),
        (1000, 1004, 5)
    );
    assert_eq!(
        (info.max_timestamp, info.offset_of_max_timestamp),
        (8, 1002)
    );
    assert_eq!(info.valid_bytes, buf.len());
    let b0 = info.batches[0];
    assert_eq!((b0.base_offset, b0.last_offset), (1000, 1002));
    assert_eq!(
        (b0.producer_id, b0.base_sequence, b0.last_sequence),
        (9, 10, 12)
    );
    assert_eq!(info.batches[1].last_sequence, -1);
    let walked: Vec<_> = crate::record::BatchIter::new(&buf, Default::default())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(walked[1].header.base_offset, 1003);
    assert_eq!(walked[1].header.partition_leader_epoch, 3);
}

#[test]
fn stamps_log_append_time() {
    let mut buf = plain(&[5, 9]);
    let opts = AppendOptions {
        log_append_time_ms: Some(77),
        ..Default::default()
    };
    let info = validate_and_assign(&mut buf, 0, &opts).unwrap();
    assert_eq!((info.max_timestamp, info.offset_of_max_timestamp), (77, 0));
    assert_eq!(info.log_append_time, 77);
    let h = BatchHeader::parse(&buf).unwrap();
    assert!(h.is_log_append_time());
    assert_eq!(h.max_timestamp, 77);
    verify_crc(&buf).unwrap();
}

#[test]
fn errors_leave_the_buffer_untouched_and_name_the_batch() {
    let good = plain(&[1]);
    let mut bad = plain(&[1, 2]);
    let n = bad.len();
    bad[n - 1] ^= 1;
    let e = err_of(&[good.clone(), bad].concat(), &AppendOptions::default());
    assert!(matches!(e.root(), RecordError::CrcMismatch { .. }));
    assert_eq!(
        e,
        RecordError::InBatch {
            index: 1,
            position: good.len(),
            source: Box::new(e.root().clone())
        }
    );
    let e = err_of(&good[..good.len() - 1], &AppendOptions::default());
    assert!(matches!(e.root(), RecordError::Truncated { .. }));
    assert!(matches!(
        err_of(&[], &Default::default()),
        RecordError::InvalidRecord(_)
    ));
}

#[test]
fn header_rules() {
    let small = AppendOptions {
        max_batch_bytes: 100,
        ..Default::default()
    };
    let big = plain(&[0; 10]);
    assert!(matches!(
        err_of(&big, &small).root(),
        RecordError::TooLarge { .. }
    ));

    let control = batch(
        BatchOptions {
            is_control: true,
            ..Default::default()
        },
        &[0],
    );
    assert!(matches!(
        err_of(&control, &Default::default()).root(),
        RecordError::InvalidRecord(_)
    ));
    let allow = AppendOptions {
        allow_control: true,
        ..Default::default()
    };
    validate_and_assign(&mut control.clone(), 0, &allow).unwrap();

    let txn_no_pid = batch(
        BatchOptions {
            is_transactional: true,
            ..Default::default()
        },
        &[0],
    );
    assert!(matches!(
        err_of(&txn_no_pid, &Default::default()).root(),
        RecordError::InvalidRecord(_)
    ));
    let pid_no_seq = batch(
        BatchOptions {
            producer_id: 1,
            ..Default::default()
        },
        &[0],
    );
    assert!(matches!(
        err_of(&pid_no_seq, &Default::default()).root(),
        RecordError::InvalidRecord(_)
    ));

    let mut lod = plain(&[0, 0]);
    lod[LAST_OFFSET_DELTA..LAST_OFFSET_DELTA + 4].copy_from_slice(&5i32.to_be_bytes());
    fix_crc(&mut lod);
    assert!(matches!(
        err_of(&lod, &Default::default()).root(),
        RecordError::InvalidRecord(_)
    ));

    let mut codec = plain(&[0]);
    codec[22] |= 0x07;
    fix_crc(&mut codec);
    assert_eq!(
        err_of(&codec, &Default::default()).root(),
        &RecordError::UnsupportedCompression(7)
    );
}

const LAST_OFFSET_DELTA: usize = crate::record::header::LAST_OFFSET_DELTA_POS;

#[test]
fn full_validation_checks_offset_deltas_and_fixes_max_timestamp() {
    // First record: length(1) attributes(1) timestampDelta(1) offsetDelta.
    let mut skewed = plain(&[3, 4]);
    skewed[HEADER_SIZE + 3] = 2; // zigzag 1: record 0 claims delta 1
    fix_crc(&mut skewed);
    validate_and_assign(&mut skewed.clone(), 0, &Default::default()).unwrap();
    let full = AppendOptions {
        full: true,
        ..Default::default()
    };
    let e = err_of(&skewed, &full);
    assert!(e.to_string().contains("offset delta"), "{e}");

    let mut wrong_max = plain(&[3, 9, 4]);
    wrong_max[MAX_TIMESTAMP_POS..MAX_TIMESTAMP_POS + 8].copy_from_slice(&100i64.to_be_bytes());
    fix_crc(&mut wrong_max);
    let info = validate_and_assign(&mut wrong_max, 10, &full).unwrap();
    assert_eq!((info.max_timestamp, info.offset_of_max_timestamp), (9, 11));
    assert_eq!(BatchHeader::parse(&wrong_max).unwrap().max_timestamp, 9);
    verify_crc(&wrong_max).unwrap();
}

#[test]
fn full_validation_decompresses_with_a_cap_and_checks_keys() {
    let zstd = batch(
        BatchOptions {
            compression: Compression::Zstd,
            ..Default::default()
        },
        &[1, 2, 3],
    );
    let full = AppendOptions {
        full: true,
        ..Default::default()
    };
    validate_and_assign(&mut zstd.clone(), 0, &full).unwrap();
    let tiny = AppendOptions {
        max_decompressed: 10,
        ..full
    };
    assert!(matches!(
        err_of(&zstd, &tiny).root(),
        RecordError::Compression(_)
    ));

    let mut b = BatchBuilder::new(BatchOptions::default());
    b.add(0, None, Some(b"v"), &[]).unwrap();
    let keyless = b.build().unwrap();
    let compacted = AppendOptions {
        require_key: true,
        ..Default::default()
    };
    assert!(err_of(&keyless, &compacted).to_string().contains("no key"));
}
