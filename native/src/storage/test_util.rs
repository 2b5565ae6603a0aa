//! Test helpers: builds valid uncompressed v2 batches without the record
//! layer's builder, so storage tests depend only on the header format.

use crate::record::header::{compute_crc, CRC_POS, HEADER_SIZE};

fn varint(out: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

/// A batch at `base_offset` with one record per value; record `i` has
/// timestamp `timestamps[i]`.
pub fn batch(base_offset: i64, timestamps: &[i64], value_len: usize, epoch: i32) -> Vec<u8> {
    let first_ts = timestamps[0];
    let max_ts = *timestamps.iter().max().unwrap();
    let mut records = Vec::new();
    for (i, ts) in timestamps.iter().enumerate() {
        let mut body = vec![0u8];
        varint(&mut body, ts - first_ts);
        varint(&mut body, i as i64);
        varint(&mut body, -1);
        varint(&mut body, value_len as i64);
        body.extend(std::iter::repeat_n(b'v', value_len));
        varint(&mut body, 0);
        varint(&mut records, body.len() as i64);
        records.extend(body);
    }
    let mut b = Vec::with_capacity(HEADER_SIZE + records.len());
    b.extend(base_offset.to_be_bytes());
    b.extend(((HEADER_SIZE - 12 + records.len()) as i32).to_be_bytes());
    b.extend(epoch.to_be_bytes());
    b.push(2);
    b.extend([0u8; 4]);
    b.extend(0i16.to_be_bytes());
    b.extend((timestamps.len() as i32 - 1).to_be_bytes());
    b.extend(first_ts.to_be_bytes());
    b.extend(max_ts.to_be_bytes());
    b.extend((-1i64).to_be_bytes());
    b.extend((-1i16).to_be_bytes());
    b.extend((-1i32).to_be_bytes());
    b.extend((timestamps.len() as i32).to_be_bytes());
    b.extend(records);
    let crc = compute_crc(&b);
    b[CRC_POS..CRC_POS + 4].copy_from_slice(&crc.to_be_bytes());
    b
}
