//! JSON object values to typed columns, for the stream processor's
//! `JsonFormat`: one pass over a batch of values (Arrow layout: offsets plus
//! data), every value parsed once with serde_json and its wanted fields
//! written straight into column builders. No PyO3 here.
//!
//! The rules are the Python path's (`pystream.streams.formats.JsonFormat`),
//! which stays the reference:
//! - a null value (tombstone) is a row whose fields are all null;
//! - a missing field, `null`, or a value of the wrong JSON type is null;
//!   integers that the column's type cannot hold are null; a float column
//!   takes integers too; a `bool` is never a number;
//! - a duplicated key: the last one wins; keys outside the schema are skipped.
//!
//! A value that is not one JSON object, or that this parser might read
//! differently from Python's `json` (a negative zero in a number column:
//! serde_json cannot tell `-0` from `-0.0`; `NaN`/`Infinity`, which
//! serde_json refuses), is reported in
//! [`JsonColumns::bad_rows`] and its fields left null: the caller decides
//! (the Python path re-reads such batches to apply its error rules).

mod row;
#[cfg(test)]
mod tests;

use thiserror::Error;

use row::{RowParser, Slot};

/// What a column holds; the integer bounds are the target dtype's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Bool,
    Int {
        min: i64,
        max: i64,
    },
    UInt {
        max: u64,
    },
    Float,
    /// A JSON string, stored as its UTF-8 bytes.
    Str,
}

/// A wanted field: its key in the objects and its column kind.
#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    pub kind: Kind,
}

/// A column's values. Integers are widened to 64 bits (the caller narrows
/// to the dtype it asked for; out-of-range values are already null).
#[derive(Debug, PartialEq)]
pub enum Values {
    Bool(Vec<u8>),
    Int(Vec<i64>),
    UInt(Vec<u64>),
    Float(Vec<f64>),
    /// Arrow large-binary layout: n + 1 offsets into `data`.
    Bytes {
        offsets: Vec<i64>,
        data: Vec<u8>,
    },
}

/// One output column: values plus a validity byte per row (1 = present).
#[derive(Debug, PartialEq)]
pub struct Column {
    pub values: Values,
    pub valid: Vec<u8>,
    pub nulls: usize,
}

/// The decoded batch: one column per field, in the order asked.
#[derive(Debug)]
pub struct JsonColumns {
    pub columns: Vec<Column>,
    /// Rows that are not a JSON object, or that Python would read otherwise.
    pub bad_rows: Vec<usize>,
}

#[derive(Debug, Error, PartialEq)]
pub enum JsonColumnsError {
    #[error("value offsets must hold n + 1 non-decreasing entries inside the data buffer")]
    BadOffsets,
    #[error("the validity mask has {0} entries for {1} values")]
    BadValidity(usize, usize),
}

impl Column {
    fn new(kind: Kind, rows: usize) -> Column {
        let values = match kind {
            Kind::Bool => Values::Bool(Vec::with_capacity(rows)),
            Kind::Int { .. } => Values::Int(Vec::with_capacity(rows)),
            Kind::UInt { .. } => Values::UInt(Vec::with_capacity(rows)),
            Kind::Float => Values::Float(Vec::with_capacity(rows)),
            Kind::Str => {
                let mut offsets = Vec::with_capacity(rows + 1);
                offsets.push(0);
                Values::Bytes {
                    offsets,
                    data: Vec::new(),
                }
            }
        };
        Column {
            values,
            valid: Vec::with_capacity(rows),
            nulls: 0,
        }
    }

    /// Appends one row's slot; `Err(())` when Python would read it otherwise.
    fn push(&mut self, kind: Kind, slot: &Slot, scratch: &[u8]) -> Result<(), ()> {
        let present = match (&mut self.values, kind) {
            (Values::Bool(v), _) => {
                let b = matches!(slot, Slot::Bool(true));
                v.push(b as u8);
                matches!(slot, Slot::Bool(_))
            }
            (Values::Int(v), Kind::Int { min, max }) => {
                if matches!(slot, Slot::NegZero) {
                    return Err(()); // `-0` (Python: int 0) or `-0.0` (float): ambiguous
                }
                let x = match *slot {
                    Slot::I64(x) if (min..=max).contains(&x) => Some(x),
                    Slot::U64(x) if x <= max as u64 => Some(x as i64),
                    _ => None,
                };
                v.push(x.unwrap_or(0));
                x.is_some()
            }
            (Values::UInt(v), Kind::UInt { max }) => {
                if matches!(slot, Slot::NegZero) {
                    return Err(());
                }
                let x = match *slot {
                    Slot::U64(x) if x <= max => Some(x),
                    Slot::I64(x) if x >= 0 && x as u64 <= max => Some(x as u64),
                    _ => None,
                };
                v.push(x.unwrap_or(0));
                x.is_some()
            }
            (Values::Float(v), _) => {
                if matches!(slot, Slot::NegZero) {
                    return Err(()); // Python: `-0` is 0.0, `-0.0` is -0.0
                }
                let x = match *slot {
                    Slot::F64(x) => Some(x),
                    Slot::I64(x) => Some(x as f64),
                    Slot::U64(x) => Some(x as f64),
                    _ => None,
                };
                v.push(x.unwrap_or(0.0));
                x.is_some()
            }
            (Values::Bytes { offsets, data }, _) => {
                let present = if let Slot::Str(start, end) = *slot {
                    data.extend_from_slice(&scratch[start..end]);
                    true
                } else {
                    false
                };
                offsets.push(data.len() as i64);
                present
            }
            _ => unreachable!("a column's values always match its kind"),
        };
        self.valid.push(present as u8);
        self.nulls += usize::from(!present);
        Ok(())
    }
}

/// Decodes `n` values (`offsets` has n + 1 entries; `valid`, when given, one
/// byte per value, 0 = null value) into one column per field.
pub fn decode(
    offsets: &[i64],
    data: &[u8],
    valid: Option<&[u8]>,
    fields: &[Field],
) -> Result<JsonColumns, JsonColumnsError> {
    let rows = offsets
        .len()
        .checked_sub(1)
        .ok_or(JsonColumnsError::BadOffsets)?;
    if offsets[0] < 0
        || offsets[rows] as u64 > data.len() as u64
        || offsets.windows(2).any(|w| w[0] > w[1])
    {
        return Err(JsonColumnsError::BadOffsets);
    }
    if let Some(v) = valid {
        if v.len() != rows {
            return Err(JsonColumnsError::BadValidity(v.len(), rows));
        }
    }
    let mut columns: Vec<Column> = fields.iter().map(|f| Column::new(f.kind, rows)).collect();
    let mut parser = RowParser::new(fields);
    let mut bad_rows = Vec::new();
    for row in 0..rows {
        let is_null = valid.is_some_and(|v| v[row] == 0);
        let text = &data[offsets[row] as usize..offsets[row + 1] as usize];
        let mut ok = if is_null {
            parser.clear();
            true
        } else {
            parser.parse(text)
        };
        for ((column, field), slot) in columns.iter_mut().zip(fields).zip(parser.slots()) {
            let slot = if ok { slot } else { &Slot::Missing };
            if column.push(field.kind, slot, parser.scratch()).is_err() {
                ok = false;
                column
                    .push(field.kind, &Slot::Missing, &[])
                    .expect("null always fits");
            }
        }
        if !ok {
            bad_rows.push(row);
        }
    }
    Ok(JsonColumns { columns, bad_rows })
}
