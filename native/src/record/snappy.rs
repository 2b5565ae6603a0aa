//! Snappy as Kafka clients put it in a batch.
//!
//! The Java client writes the "xerial" stream framing of snappy-java: a
//! 16-byte header (`\x82SNAPPY\0`, version 1, compatible version 1, both
//! big-endian i32) followed by blocks of `[i32 compressed length][raw
//! snappy block]`, each block holding at most 32 KiB of input. librdkafka
//! writes one raw snappy block with no framing and reads both. We do the
//! same: read both (the magic decides), write xerial like the Java client.

use super::compression::{too_big, Compression};
use super::RecordError;

const XERIAL_MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
const XERIAL_HEADER_LEN: usize = 16;
/// snappy-java's default block size.
const XERIAL_BLOCK_SIZE: usize = 32 * 1024;

fn snappy_err(e: impl std::fmt::Display) -> RecordError {
    RecordError::Compression(format!("snappy: {e}"))
}

pub fn is_xerial(data: &[u8]) -> bool {
    data.len() >= XERIAL_HEADER_LEN && data[..8] == XERIAL_MAGIC
}

/// Decompresses xerial-framed or raw snappy, at most `max_size` bytes out.
pub fn decompress(data: &[u8], max_size: usize) -> Result<Vec<u8>, RecordError> {
    let mut out = Vec::new();
    let mut dec = snap::raw::Decoder::new();
    if !is_xerial(data) {
        append_block(&mut dec, data, &mut out, max_size)?;
        return Ok(out);
    }
    let mut rest = &data[XERIAL_HEADER_LEN..];
    while !rest.is_empty() {
        if rest.len() < 4 {
            return Err(snappy_err("truncated xerial block length"));
        }
        let len = i32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
        rest = &rest[4..];
        if len < 0 || len as usize > rest.len() {
            return Err(snappy_err(format!(
                "xerial block length {len} with {} bytes left",
                rest.len()
            )));
        }
        let (block, tail) = rest.split_at(len as usize);
        append_block(&mut dec, block, &mut out, max_size)?;
        rest = tail;
    }
    Ok(out)
}

/// Appends one raw snappy block to `out`, checking its declared size
/// against the budget before allocating for it.
fn append_block(
    dec: &mut snap::raw::Decoder,
    block: &[u8],
    out: &mut Vec<u8>,
    max_size: usize,
) -> Result<(), RecordError> {
    let n = snap::raw::decompress_len(block).map_err(snappy_err)?;
    let start = out.len();
    if n > max_size - start {
        return Err(too_big(Compression::Snappy, max_size));
    }
    out.resize(start + n, 0);
    let written = dec
        .decompress(block, &mut out[start..])
        .map_err(snappy_err)?;
    out.truncate(start + written);
    Ok(())
}

/// Compresses with xerial framing (what Kafka's Java producer sends).
pub fn compress_xerial(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(XERIAL_HEADER_LEN + data.len() / 2 + 64);
    out.extend_from_slice(&XERIAL_MAGIC);
    out.extend_from_slice(&1i32.to_be_bytes());
    out.extend_from_slice(&1i32.to_be_bytes());
    let mut enc = snap::raw::Encoder::new();
    let mut scratch = vec![0u8; snap::raw::max_compress_len(XERIAL_BLOCK_SIZE)];
    for chunk in data.chunks(XERIAL_BLOCK_SIZE) {
        // Only fails when `scratch` is too small, which max_compress_len rules out.
        let n = enc
            .compress(chunk, &mut scratch)
            .expect("scratch sized by max_compress_len");
        out.extend_from_slice(&(n as i32).to_be_bytes());
        out.extend_from_slice(&scratch[..n]);
    }
    out
}

/// One raw snappy block, as librdkafka writes it.
pub fn compress_raw(data: &[u8]) -> Result<Vec<u8>, RecordError> {
    snap::raw::Encoder::new()
        .compress_vec(data)
        .map_err(snappy_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        (0..100_000u32).map(|i| (i % 97) as u8).collect()
    }

    #[test]
    fn xerial_has_header_and_blocks() {
        let data = sample();
        let c = compress_xerial(&data);
        assert!(is_xerial(&c));
        assert_eq!(&c[8..16], &[0, 0, 0, 1, 0, 0, 0, 1]);
        assert_eq!(decompress(&c, data.len()).unwrap(), data);
    }

    #[test]
    fn reads_raw_blocks_like_librdkafka_writes() {
        let data = sample();
        let c = compress_raw(&data).unwrap();
        assert!(!is_xerial(&c));
        assert_eq!(decompress(&c, data.len()).unwrap(), data);
        assert!(decompress(&c, data.len() - 1).is_err());
    }

    #[test]
    fn bad_xerial_block_lengths() {
        let mut c = compress_xerial(&sample());
        let mut short = c.clone();
        short.truncate(c.len() - 1);
        assert!(decompress(&short, 1 << 20).is_err());
        c[16..20].copy_from_slice(&(-1i32).to_be_bytes());
        assert!(decompress(&c, 1 << 20).is_err());
        c[16..20].copy_from_slice(&i32::MAX.to_be_bytes());
        assert!(decompress(&c, 1 << 20).is_err());
        let header_only = &compress_xerial(&[])[..];
        assert_eq!(decompress(header_only, 10).unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn declared_size_is_checked_before_allocating() {
        // A raw block claiming ~4 GiB of output in its length preamble.
        let bogus = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x00];
        let err = decompress(&bogus, 1 << 20).unwrap_err();
        assert!(err.to_string().contains("snappy"));
    }
}
