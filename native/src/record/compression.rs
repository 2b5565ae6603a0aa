//! The five Kafka compression codecs (attributes bits 0..2), with bounded
//! decompression.
//!
//! Wire formats, as Kafka's clients write them:
//! - gzip (1): an RFC 1952 stream (members may be concatenated);
//! - snappy (2): see [`super::snappy`] (xerial framing or raw);
//! - lz4 (3): the LZ4 frame format (KIP-57), independent 64 KiB blocks;
//! - zstd (4): zstd frames.
//!
//! Every decoder stops at `max_size` decompressed bytes and errors out past
//! it, so a small batch cannot expand into unbounded memory (a zip bomb).

use std::io::{Read, Write};

use super::{snappy, RecordError};

/// Decompressed size cap when the caller has no better figure: 64 MiB,
/// 64 times Kafka's default `message.max.bytes`.
pub const DEFAULT_MAX_DECOMPRESSED: usize = 64 << 20;

/// Compression codec of a batch (`attributes & 0x07`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Compression {
    None = 0,
    Gzip = 1,
    Snappy = 2,
    Lz4 = 3,
    Zstd = 4,
}

impl Compression {
    pub fn from_id(id: u8) -> Result<Compression, RecordError> {
        Ok(match id {
            0 => Compression::None,
            1 => Compression::Gzip,
            2 => Compression::Snappy,
            3 => Compression::Lz4,
            4 => Compression::Zstd,
            other => return Err(RecordError::UnsupportedCompression(other)),
        })
    }

    pub fn id(self) -> u8 {
        self as u8
    }

    /// Kafka's `compression.type` name.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }
}

fn codec_err(codec: Compression, e: impl std::fmt::Display) -> RecordError {
    RecordError::Compression(format!("{}: {e}", codec.name()))
}

/// Reads `r` to the end, refusing more than `max_size` bytes.
fn read_bounded<R: Read>(
    r: R,
    codec: Compression,
    max_size: usize,
    size_hint: usize,
) -> Result<Vec<u8>, RecordError> {
    let mut out = Vec::with_capacity(size_hint.min(max_size));
    let limit = (max_size as u64).saturating_add(1);
    r.take(limit)
        .read_to_end(&mut out)
        .map_err(|e| codec_err(codec, e))?;
    if out.len() > max_size {
        return Err(too_big(codec, max_size));
    }
    Ok(out)
}

pub(super) fn too_big(codec: Compression, max_size: usize) -> RecordError {
    RecordError::Compression(format!(
        "{}: decompressed data exceeds the limit of {max_size} bytes",
        codec.name()
    ))
}

/// Decompresses a batch's records section. `Compression::None` is a copy;
/// callers avoid that by borrowing instead (see [`super::records`]).
pub fn decompress(
    codec: Compression,
    data: &[u8],
    max_size: usize,
) -> Result<Vec<u8>, RecordError> {
    // Typical ratios of record data are 2..5; start there and let it grow.
    let hint = data.len().saturating_mul(4);
    match codec {
        Compression::None => {
            if data.len() > max_size {
                return Err(too_big(codec, max_size));
            }
            Ok(data.to_vec())
        }
        Compression::Gzip => read_bounded(
            flate2::read::MultiGzDecoder::new(data),
            codec,
            max_size,
            hint,
        ),
        Compression::Snappy => snappy::decompress(data, max_size),
        Compression::Lz4 => read_bounded(
            lz4_flex::frame::FrameDecoder::new(data),
            codec,
            max_size,
            hint,
        ),
        Compression::Zstd => {
            let dec =
                zstd::stream::read::Decoder::with_buffer(data).map_err(|e| codec_err(codec, e))?;
            read_bounded(dec, codec, max_size, hint)
        }
    }
}

/// Compresses a records section the way Kafka's Java client does.
/// `level` is codec specific (gzip 1..9, zstd -7..22); `None` picks
/// Kafka's defaults (gzip 6, zstd 3). Snappy and lz4 have no levels here.
pub fn compress(
    codec: Compression,
    data: &[u8],
    level: Option<i32>,
) -> Result<Vec<u8>, RecordError> {
    match codec {
        Compression::None => Ok(data.to_vec()),
        Compression::Gzip => {
            let level = level.unwrap_or(6);
            if !(1..=9).contains(&level) {
                return Err(RecordError::InvalidRecord(format!(
                    "gzip level {level} outside 1..9"
                )));
            }
            let mut enc = flate2::write::GzEncoder::new(
                Vec::with_capacity(data.len() / 2 + 64),
                flate2::Compression::new(level as u32),
            );
            enc.write_all(data).map_err(|e| codec_err(codec, e))?;
            enc.finish().map_err(|e| codec_err(codec, e))
        }
        Compression::Snappy => Ok(snappy::compress_xerial(data)),
        Compression::Lz4 => {
            use lz4_flex::frame::{BlockMode, BlockSize, FrameEncoder, FrameInfo};
            let info = FrameInfo::new()
                .block_size(BlockSize::Max64KB)
                .block_mode(BlockMode::Independent);
            let mut enc =
                FrameEncoder::with_frame_info(info, Vec::with_capacity(data.len() / 2 + 64));
            enc.write_all(data).map_err(|e| codec_err(codec, e))?;
            enc.finish().map_err(|e| codec_err(codec, e))
        }
        Compression::Zstd => {
            let level = level.unwrap_or(3);
            let range = zstd::compression_level_range();
            if !range.contains(&level) {
                return Err(RecordError::InvalidRecord(format!(
                    "zstd level {level} outside {range:?}"
                )));
            }
            zstd::bulk::compress(data, level).map_err(|e| codec_err(codec, e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    fn sample() -> Vec<u8> {
        (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect()
    }

    #[test]
    fn round_trip_every_codec() {
        let data = sample();
        for codec in ALL {
            let c = compress(codec, &data, None).unwrap();
            assert_eq!(
                decompress(codec, &c, data.len()).unwrap(),
                data,
                "{codec:?}"
            );
        }
    }

    #[test]
    fn bomb_is_refused_at_the_cap() {
        let zeros = vec![0u8; 4 << 20];
        for codec in ALL {
            let c = compress(codec, &zeros, None).unwrap();
            let err = decompress(codec, &c, 1 << 20).unwrap_err();
            assert!(err.to_string().contains("exceeds"), "{codec:?}: {err}");
            // Exactly at the cap is fine.
            assert_eq!(
                decompress(codec, &c, zeros.len()).unwrap().len(),
                zeros.len()
            );
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let junk: Vec<u8> = (0..300u32).map(|i| (i * 7919 % 256) as u8).collect();
        for codec in &ALL[1..] {
            assert!(decompress(*codec, &junk, 1 << 20).is_err(), "{codec:?}");
        }
    }

    #[test]
    fn ids_and_names() {
        for codec in ALL {
            assert_eq!(Compression::from_id(codec.id()).unwrap(), codec);
        }
        assert_eq!(
            Compression::from_id(5),
            Err(RecordError::UnsupportedCompression(5))
        );
        assert_eq!(Compression::Lz4.name(), "lz4");
    }
}
