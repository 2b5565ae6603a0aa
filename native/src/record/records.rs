//! The records inside a batch: decoding them one by one.
//!
//! Record layout (v2), all varints zigzag:
//! ```text
//! length varint | attributes i8 | timestampDelta varlong | offsetDelta varint
//! keyLength varint (-1 = null) | key | valueLength varint (-1 = null) | value
//! headerCount varint | headers: keyLength varint, key, valueLength varint (-1 = null), value
//! ```
//! Every length is checked against the bytes actually left before it is
//! used, so nothing is allocated from a size an untrusted sender wrote;
//! records borrow from the buffer. A record must use exactly `length`
//! bytes, the batch must hold exactly `recordsCount` records and nothing
//! after them.

use std::borrow::Cow;

use super::compression::{decompress, Compression};
use super::header::{BatchHeader, HEADER_SIZE};
use super::varint::{read_varint, read_varlong};
use super::RecordError;

/// Smallest encoded record: length, attributes, timestampDelta,
/// offsetDelta, keyLength, valueLength and headerCount, one byte each.
pub const MIN_RECORD_SIZE: usize = 7;

/// One decoded record, borrowing its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    pub attributes: i8,
    pub timestamp_delta: i64,
    pub offset_delta: i32,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub header_count: usize,
    /// The already validated encoded headers; see [`Record::headers`].
    headers_raw: &'a [u8],
}

/// A record header: a (UTF-8, not enforced) key and a nullable value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    pub key: &'a [u8],
    pub value: Option<&'a [u8]>,
}

impl<'a> Record<'a> {
    pub fn headers(&self) -> HeaderIter<'a> {
        HeaderIter {
            cur: Cursor::new(self.headers_raw),
            left: self.header_count,
        }
    }
}

/// A bounds-checked reader over a byte slice.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }
    fn left(&self) -> usize {
        self.buf.len() - self.pos
    }
    fn varint(&mut self) -> Result<i32, RecordError> {
        let (v, n) = read_varint(&self.buf[self.pos..])?;
        self.pos += n;
        Ok(v)
    }
    fn varlong(&mut self) -> Result<i64, RecordError> {
        let (v, n) = read_varlong(&self.buf[self.pos..])?;
        self.pos += n;
        Ok(v)
    }
    fn byte(&mut self) -> Result<u8, RecordError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| RecordError::Corrupt("record truncated".into()))?;
        self.pos += 1;
        Ok(b)
    }
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], RecordError> {
        if n > self.left() {
            return Err(RecordError::Corrupt(format!(
                "{what} of {n} bytes with only {} left",
                self.left()
            )));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    /// A varint length then that many bytes; -1 is null.
    fn nullable_bytes(&mut self, what: &str) -> Result<Option<&'a [u8]>, RecordError> {
        match self.varint()? {
            -1 => Ok(None),
            n if n < 0 => Err(RecordError::Corrupt(format!("{what} length {n}"))),
            n => self.take(n as usize, what).map(Some),
        }
    }
}

/// Iterates the headers of one record (validated when the record was read).
pub struct HeaderIter<'a> {
    cur: Cursor<'a>,
    left: usize,
}

impl<'a> Iterator for HeaderIter<'a> {
    type Item = Header<'a>;
    fn next(&mut self) -> Option<Header<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let key = self.cur.nullable_bytes("header key").ok()??;
        let value = self.cur.nullable_bytes("header value").ok()?;
        Some(Header { key, value })
    }
}

/// Decodes the record at the start of `cur`.
fn read_record<'a>(cur: &mut Cursor<'a>) -> Result<Record<'a>, RecordError> {
    let length = cur.varint()?;
    if length < 0 {
        return Err(RecordError::Corrupt(format!("record length {length}")));
    }
    let body = cur.take(length as usize, "record")?;
    let mut r = Cursor::new(body);
    let attributes = r.byte()? as i8;
    let timestamp_delta = r.varlong()?;
    let offset_delta = r.varint()?;
    let key = r.nullable_bytes("key")?;
    let value = r.nullable_bytes("value")?;
    let header_count = r.varint()?;
    if header_count < 0 {
        return Err(RecordError::Corrupt(format!("header count {header_count}")));
    }
    let headers_start = r.pos;
    for _ in 0..header_count {
        if r.nullable_bytes("header key")?.is_none() {
            return Err(RecordError::Corrupt("null header key".into()));
        }
        r.nullable_bytes("header value")?;
    }
    if r.left() != 0 {
        return Err(RecordError::Corrupt(format!(
            "record declares {length} bytes but its fields use {}",
            r.pos
        )));
    }
    Ok(Record {
        attributes,
        timestamp_delta,
        offset_delta,
        key,
        value,
        header_count: header_count as usize,
        headers_raw: &body[headers_start..],
    })
}

/// Iterates exactly `count` records over a records section; a shortfall
/// or bytes left after the last record is an error (yielded once, last).
pub struct RecordIter<'a> {
    cur: Cursor<'a>,
    left: usize,
    failed: bool,
}

impl<'a> RecordIter<'a> {
    pub fn new(records: &'a [u8], count: usize) -> Self {
        RecordIter {
            cur: Cursor::new(records),
            left: count,
            failed: false,
        }
    }
}

impl<'a> Iterator for RecordIter<'a> {
    type Item = Result<Record<'a>, RecordError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        if self.left == 0 {
            if self.cur.left() == 0 {
                return None;
            }
            self.failed = true;
            return Some(Err(RecordError::Corrupt(format!(
                "{} bytes after the last record",
                self.cur.left()
            ))));
        }
        self.left -= 1;
        let r = read_record(&mut self.cur);
        self.failed = r.is_err();
        Some(r)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // Never trust the declared count for capacity beyond what fits.
        let fit = self.cur.left() / MIN_RECORD_SIZE;
        (0, Some(self.left.min(fit) + 1))
    }
}

/// The records section of a whole batch, decompressed if needed
/// (borrowed when the batch is uncompressed).
pub fn records_section<'a>(
    batch: &'a [u8],
    header: &BatchHeader,
    max_decompressed: usize,
) -> Result<Cow<'a, [u8]>, RecordError> {
    let body = &batch[HEADER_SIZE..header.total_size()];
    match Compression::from_id(header.compression())? {
        Compression::None => Ok(Cow::Borrowed(body)),
        codec => decompress(codec, body, max_decompressed).map(Cow::Owned),
    }
}

/// The declared record count, refused when negative or when it cannot
/// possibly fit in `available` bytes of records.
pub fn checked_count(header: &BatchHeader, available: usize) -> Result<usize, RecordError> {
    let n = header.records_count;
    if n < 0 || n as usize > available / MIN_RECORD_SIZE {
        return Err(RecordError::Corrupt(format!(
            "record count {n} does not fit in {available} bytes of records"
        )));
    }
    Ok(n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::varint::write_varint;

    fn encode(fields: &[&[u8]]) -> Vec<u8> {
        let body: Vec<u8> = fields.concat();
        let mut out = Vec::new();
        write_varint(&mut out, body.len() as i32);
        out.extend_from_slice(&body);
        out
    }

    fn v(x: i32) -> Vec<u8> {
        let mut out = Vec::new();
        write_varint(&mut out, x);
        out
    }

    fn record(key: Option<&[u8]>, value: &[u8], headers: &[(&[u8], Option<&[u8]>)]) -> Vec<u8> {
        let mut f: Vec<Vec<u8>> = vec![vec![0], v(5), v(0)];
        match key {
            Some(k) => f.extend([v(k.len() as i32), k.to_vec()]),
            None => f.push(v(-1)),
        }
        f.extend([
            v(value.len() as i32),
            value.to_vec(),
            v(headers.len() as i32),
        ]);
        for (hk, hv) in headers {
            f.extend([v(hk.len() as i32), hk.to_vec()]);
            match hv {
                Some(x) => f.extend([v(x.len() as i32), x.to_vec()]),
                None => f.push(v(-1)),
            }
        }
        let refs: Vec<&[u8]> = f.iter().map(|x| &x[..]).collect();
        encode(&refs)
    }

    #[test]
    fn decodes_fields_and_headers() {
        let bytes = record(None, b"hello", &[(b"h1", Some(b"x")), (b"h2", None)]);
        let recs: Vec<_> = RecordIter::new(&bytes, 1)
            .collect::<Result<_, _>>()
            .unwrap();
        let r = recs[0];
        assert_eq!(
            (r.key, r.value, r.timestamp_delta),
            (None, Some(&b"hello"[..]), 5)
        );
        let hs: Vec<_> = r.headers().collect();
        assert_eq!(
            hs[0],
            Header {
                key: b"h1",
                value: Some(b"x")
            }
        );
        assert_eq!(
            hs[1],
            Header {
                key: b"h2",
                value: None
            }
        );
    }

    #[test]
    fn count_mismatch_and_trailing_bytes() {
        let one = record(Some(b"k"), b"v", &[]);
        let two = [one.clone(), one.clone()].concat();
        assert!(RecordIter::new(&one, 2).any(|r| r.is_err()));
        assert!(RecordIter::new(&two, 1).any(|r| r.is_err()));
        assert_eq!(RecordIter::new(&two, 2).filter(|r| r.is_ok()).count(), 2);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = record(Some(b"key"), b"value", &[(b"h", Some(b"hv"))]);
        for cut in 0..bytes.len() {
            let got: Result<Vec<_>, _> = RecordIter::new(&bytes[..cut], 1).collect();
            assert!(got.is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn lengths_beyond_the_record_are_refused() {
        // key length claims 100 bytes inside a 10-byte record.
        let bytes = encode(&[&[0], &v(0), &v(0), &v(100), b"abc", &v(-1), &v(0)]);
        assert!(RecordIter::new(&bytes, 1).next().unwrap().is_err());
        let neg = encode(&[&[0], &v(0), &v(0), &v(-2), &v(-1), &v(0)]);
        assert!(RecordIter::new(&neg, 1).next().unwrap().is_err());
        let bad_headers = encode(&[&[0], &v(0), &v(0), &v(-1), &v(-1), &v(-3)]);
        assert!(RecordIter::new(&bad_headers, 1).next().unwrap().is_err());
    }
}
