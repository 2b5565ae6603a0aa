//! Tests of `columns.rs` (a sibling file keeps both short).

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
    assert_eq!(c.headers.offsets, vec![0, 1, 1, 2, 2]);
    assert_eq!(c.headers.record(0), vec![(&b"a"[..], None)]);
    assert_eq!(c.headers.record(1), vec![]);
    assert_eq!(c.headers.key_data, b"aa");

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

/// A tiny deterministic generator, so the tests need no extra crate.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
    fn bytes(&mut self, max: u64) -> Vec<u8> {
        let n = self.next(max + 1);
        (0..n).map(|_| self.next(256) as u8).collect()
    }
}

type OwnedHeaders = Vec<(Vec<u8>, Option<Vec<u8>>)>;

#[test]
fn headers_match_the_record_iterator_for_every_codec() {
    let mut rng = Lcg(7);
    let codecs = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];
    for round in 0..20 {
        let mut buf = Vec::new();
        let mut expected: Vec<OwnedHeaders> = Vec::new();
        let mut base = 0;
        for codec in codecs {
            let mut b = BatchBuilder::new(BatchOptions {
                base_offset: base,
                compression: codec,
                ..Default::default()
            });
            let records = 1 + rng.next(8) as i64;
            for i in 0..records {
                // zero headers often, sometimes many, null values sometimes
                let count = match rng.next(4) {
                    0 | 1 => 0,
                    2 => 1 + rng.next(3),
                    _ => 20 + rng.next(60),
                };
                let owned: OwnedHeaders = (0..count)
                    .map(|_| {
                        let key = rng.bytes(12);
                        let value = (rng.next(3) != 0).then(|| rng.bytes(40));
                        (key, value)
                    })
                    .collect();
                let hdrs: Vec<Header> = owned
                    .iter()
                    .map(|(k, v)| Header {
                        key: k,
                        value: v.as_deref(),
                    })
                    .collect();
                b.add(i, Some(b"k"), Some(b"v"), &hdrs).unwrap();
                expected.push(owned);
            }
            base += records;
            buf.extend(b.build().unwrap());
        }
        let c = decode_columns(&buf, &ColumnOptions::default()).unwrap();
        assert_eq!(c.len(), expected.len(), "round {round}");
        for (i, want) in expected.iter().enumerate() {
            let got = c.headers.record(i);
            let want: Vec<(&[u8], Option<&[u8]>)> = want
                .iter()
                .map(|(k, v)| (k.as_slice(), v.as_deref()))
                .collect();
            assert_eq!(got, want, "round {round} record {i}");
            assert_eq!(c.header_counts[i] as usize, want.len());
        }
        let total: usize = expected.iter().map(Vec::len).sum();
        assert_eq!(c.headers.len(), total);
        assert_eq!(
            c.headers.key_offsets.len(),
            if total > 0 { total + 1 } else { 0 }
        );
        if total > 0 {
            assert_eq!(c.headers.offsets.len(), c.len() + 1);
        }
    }
}

#[test]
fn no_headers_leave_empty_header_columns() {
    let mut b = BatchBuilder::new(BatchOptions::default());
    for i in 0..3 {
        b.add(i, None, Some(b"v"), &[]).unwrap();
    }
    let c = decode_columns(&b.build().unwrap(), &ColumnOptions::default()).unwrap();
    assert!(!c.headers.any() && c.headers.is_empty());
    assert!(c.headers.offsets.is_empty() && c.headers.key_data.is_empty());
    assert!(c.headers.key_offsets.is_empty() && c.headers.values.offsets.is_empty());
    assert_eq!(c.headers.record(2), vec![]);
}

#[test]
fn empty_header_keys_and_values_are_not_null() {
    let mut b = BatchBuilder::new(BatchOptions::default());
    let hdrs = [
        Header {
            key: b"",
            value: Some(b""),
        },
        Header {
            key: b"x",
            value: None,
        },
    ];
    b.add(0, None, None, &hdrs).unwrap();
    let c = decode_columns(&b.build().unwrap(), &ColumnOptions::default()).unwrap();
    assert_eq!(
        c.headers.record(0),
        vec![(&b""[..], Some(&b""[..])), (&b"x"[..], None)]
    );
    assert_eq!(c.headers.values.valid, vec![1, 0]);
}

#[test]
fn header_ranges_start_at_the_first_record_with_headers() {
    let mut buf = Vec::new();
    for (base, with) in [(0, false), (2, true), (4, false)] {
        let mut b = BatchBuilder::new(BatchOptions {
            base_offset: base,
            ..Default::default()
        });
        let h = [Header {
            key: b"t",
            value: Some(b"1"),
        }];
        b.add(0, None, None, &[]).unwrap();
        b.add(1, None, None, if with { &h } else { &[] }).unwrap();
        buf.extend(b.build().unwrap());
    }
    let c = decode_columns(&buf, &ColumnOptions::default()).unwrap();
    assert_eq!(c.headers.offsets, vec![0, 0, 0, 0, 1, 1, 1]);
    assert_eq!(c.headers.record(3), vec![(&b"t"[..], Some(&b"1"[..]))]);
}
