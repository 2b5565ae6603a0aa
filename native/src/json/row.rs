//! One JSON object value to per-field slots, through serde_json's visitor
//! API: keys are matched against the wanted fields without allocating,
//! unwanted values are skipped with `IgnoredAny`, and strings are copied
//! (unescaped) into one scratch buffer per row.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::Field;

/// What a field held in the current row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Slot {
    /// Absent, `null`, or a value no column kind takes (array, object).
    Missing,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    /// serde_json reads both `-0` and `-0.0` as the float -0.0; Python's
    /// `json` reads `-0` as the integer 0. Kept apart so an integer column
    /// can refuse to guess.
    NegZero,
    /// A string: `scratch[start..end]`.
    Str(usize, usize),
}

pub(crate) struct RowParser<'f> {
    fields: &'f [Field],
    slots: Vec<Slot>,
    scratch: Vec<u8>,
}

impl<'f> RowParser<'f> {
    pub(crate) fn new(fields: &'f [Field]) -> Self {
        RowParser {
            fields,
            slots: vec![Slot::Missing; fields.len()],
            scratch: Vec::new(),
        }
    }

    pub(crate) fn clear(&mut self) {
        self.slots.fill(Slot::Missing);
        self.scratch.clear();
    }

    /// Parses one value; false when it is not exactly one JSON object.
    pub(crate) fn parse(&mut self, text: &[u8]) -> bool {
        self.clear();
        let mut de = serde_json::Deserializer::from_slice(text);
        let object = ObjectVisitor {
            fields: self.fields,
            slots: &mut self.slots,
            scratch: &mut self.scratch,
        };
        de.deserialize_map(object).is_ok() && de.end().is_ok()
    }

    pub(crate) fn slots(&self) -> &[Slot] {
        &self.slots
    }

    pub(crate) fn scratch(&self) -> &[u8] {
        &self.scratch
    }
}

struct ObjectVisitor<'a> {
    fields: &'a [Field],
    slots: &'a mut [Slot],
    scratch: &'a mut Vec<u8>,
}

impl<'de> Visitor<'de> for ObjectVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(index) = map.next_key_seed(KeySeed(self.fields))? {
            match index {
                Some(i) => {
                    let slot = map.next_value_seed(ValueSeed(self.scratch))?;
                    self.slots[i] = slot;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// A key: the index of the field it names, if wanted.
struct KeySeed<'a>(&'a [Field]);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|field| field.name == key))
    }
}

/// A wanted field's value, as a slot.
struct ValueSeed<'a>(&'a mut Vec<u8>);

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Slot;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Slot, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Slot;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Slot, E> {
        Ok(Slot::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Slot, E> {
        Ok(Slot::I64(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Slot, E> {
        Ok(Slot::U64(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Slot, E> {
        Ok(if v == 0.0 && v.is_sign_negative() {
            Slot::NegZero
        } else {
            Slot::F64(v)
        })
    }

    fn visit_str<E>(self, v: &str) -> Result<Slot, E> {
        let start = self.0.len();
        self.0.extend_from_slice(v.as_bytes());
        Ok(Slot::Str(start, self.0.len()))
    }

    fn visit_unit<E>(self) -> Result<Slot, E> {
        Ok(Slot::Missing)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Slot, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Slot::Missing)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Slot, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Slot::Missing)
    }
}
