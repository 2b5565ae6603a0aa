//! Zigzag varints: Kafka's `varint` (i32, at most 5 bytes) and `varlong`
//! (i64, at most 10 bytes), the protobuf encoding records use for every
//! length, delta and count.
//!
//! Decoding is strict: a value that needs more than 32 (64) bits is an
//! error, not a silent truncation, so every encoder that follows the
//! format round-trips and garbage is caught early.

use super::RecordError;

pub const MAX_VARINT_LEN: usize = 5;
pub const MAX_VARLONG_LEN: usize = 10;

#[inline]
fn zigzag32(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}
#[inline]
fn unzigzag32(u: u32) -> i32 {
    ((u >> 1) as i32) ^ -((u & 1) as i32)
}
#[inline]
fn zigzag64(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}
#[inline]
fn unzigzag64(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

/// Reads an unsigned LEB128 value of at most `max_len` bytes whose last
/// byte may carry at most `last_bits` significant bits.
#[inline]
fn read_unsigned(
    buf: &[u8],
    max_len: usize,
    last_bits: u32,
    what: &str,
) -> Result<(u64, usize), RecordError> {
    let mut value = 0u64;
    for i in 0..max_len {
        let Some(&b) = buf.get(i) else {
            return Err(RecordError::Corrupt(format!("{what} truncated")));
        };
        if i == max_len - 1 && u32::from(b) >> last_bits != 0 {
            return Err(RecordError::Corrupt(format!(
                "{what} longer than {max_len} bytes or overflows"
            )));
        }
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    unreachable!("the last byte either ends the value or is rejected")
}

/// Decodes a zigzag varint at the start of `buf`: `(value, bytes used)`.
#[inline]
pub fn read_varint(buf: &[u8]) -> Result<(i32, usize), RecordError> {
    if let Some(&b) = buf.first() {
        if b & 0x80 == 0 {
            return Ok((unzigzag32(u32::from(b)), 1));
        }
    }
    let (u, n) = read_unsigned(buf, MAX_VARINT_LEN, 4, "varint")?;
    Ok((unzigzag32(u as u32), n))
}

/// Decodes a zigzag varlong at the start of `buf`: `(value, bytes used)`.
#[inline]
pub fn read_varlong(buf: &[u8]) -> Result<(i64, usize), RecordError> {
    if let Some(&b) = buf.first() {
        if b & 0x80 == 0 {
            return Ok((unzigzag64(u64::from(b)), 1));
        }
    }
    let (u, n) = read_unsigned(buf, MAX_VARLONG_LEN, 1, "varlong")?;
    Ok((unzigzag64(u), n))
}

#[inline]
fn write_unsigned(out: &mut Vec<u8>, mut u: u64) {
    while u >= 0x80 {
        out.push((u as u8) | 0x80);
        u >>= 7;
    }
    out.push(u as u8);
}

#[inline]
fn unsigned_size(u: u64) -> usize {
    // 1 byte per started group of 7 bits; 0 still takes one byte.
    let bits = 64 - (u | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

pub fn write_varint(out: &mut Vec<u8>, v: i32) {
    write_unsigned(out, u64::from(zigzag32(v)));
}

pub fn write_varlong(out: &mut Vec<u8>, v: i64) {
    write_unsigned(out, zigzag64(v));
}

/// Encoded size of `v` as a varint.
pub fn varint_size(v: i32) -> usize {
    unsigned_size(u64::from(zigzag32(v)))
}

/// Encoded size of `v` as a varlong.
pub fn varlong_size(v: i64) -> usize {
    unsigned_size(zigzag64(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_encodings() {
        // Values from the protobuf zigzag table.
        for (v, bytes) in [
            (0, vec![0x00]),
            (-1, vec![0x01]),
            (1, vec![0x02]),
            (-64, vec![0x7f]),
            (64, vec![0x80, 0x01]),
            (i32::MAX, vec![0xfe, 0xff, 0xff, 0xff, 0x0f]),
            (i32::MIN, vec![0xff, 0xff, 0xff, 0xff, 0x0f]),
        ] {
            let mut out = Vec::new();
            write_varint(&mut out, v);
            assert_eq!(out, bytes, "{v}");
            assert_eq!(varint_size(v), bytes.len());
            assert_eq!(read_varint(&bytes).unwrap(), (v, bytes.len()));
        }
    }

    #[test]
    fn varlong_round_trip_edges() {
        for v in [
            0,
            -1,
            1,
            63,
            -65,
            i64::from(i32::MAX) + 1,
            i64::MAX,
            i64::MIN,
        ] {
            let mut out = Vec::new();
            write_varlong(&mut out, v);
            assert_eq!(out.len(), varlong_size(v));
            assert!(out.len() <= MAX_VARLONG_LEN);
            assert_eq!(read_varlong(&out).unwrap(), (v, out.len()));
        }
    }

    #[test]
    fn rejects_truncated_too_long_and_overflow() {
        assert!(read_varint(&[]).is_err());
        assert!(read_varint(&[0x80]).is_err());
        assert!(read_varint(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x00]).is_err());
        // Fifth byte with bits above 32.
        assert!(read_varint(&[0xff, 0xff, 0xff, 0xff, 0x1f]).is_err());
        assert!(read_varlong(&[0xff; 10]).is_err());
        let mut max = vec![0xff; 9];
        max.push(0x01);
        assert_eq!(read_varlong(&max).unwrap(), (i64::MIN, 10));
        max[9] = 0x02;
        assert!(read_varlong(&max).is_err());
    }

    #[test]
    fn reads_only_its_own_bytes() {
        assert_eq!(read_varint(&[0x96, 0x01, 0xff]).unwrap(), (75, 2));
    }
}
