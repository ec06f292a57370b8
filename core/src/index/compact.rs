//! How index fields are written to a snapshot where serde's own form does not fit: a decimal
//! as its 16 bytes (its text would be longer and slower to parse), the zone by name, an
//! instant as its microseconds, a byte column as one block.
//!
//! A field opts in with `#[serde(with = "compact")]`; containers of such values ([`Option`],
//! tuples, [`Vec`], boxed slices, [`IdVec`]) carry the form of their elements, so
//! `Vec<(Decimal, RoaringBitmap)>` needs no helper of its own.

use chrono_tz::Tz;
use roaring::RoaringBitmap;
use rust_decimal::Decimal;
use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use super::ids::{Id, IdVec, ListId};
use crate::instant::{Instant, Interval};

/// A value with a snapshot form of its own.
pub(crate) trait Compact: Sized {
    fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error>;
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

/// `#[serde(with = "compact")]`: writes the field in its compact form.
pub(crate) fn serialize<T: Compact, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    value.write(s)
}

/// `#[serde(with = "compact")]`: reads the field from its compact form.
pub(crate) fn deserialize<'de, T: Compact, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    T::read(d)
}

/// Lends an element's compact form to serde's container impls.
struct Out<'a, T>(&'a T);

impl<T: Compact> Serialize for Out<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.write(s)
    }
}

struct In<T>(T);

impl<'de, T: Compact> Deserialize<'de> for In<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::read(d).map(In)
    }
}

impl Compact for Decimal {
    fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Decimal::serialize(self).serialize(s)
    }
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // `Decimal::deserialize` masks the flags and bounds the scale: any 16 bytes are a
        // valid decimal.
        <[u8; 16]>::deserialize(d).map(Decimal::deserialize)
    }
}

impl Compact for Instant {
    fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        i64::deserialize(d).map(Instant)
    }
}

impl Compact for Interval {
    fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (self.from.0, self.until.0).serialize(s)
    }
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (from, until) = <(i64, i64)>::deserialize(d)?;
        Ok(Interval {
            from: Instant(from),
            until: Instant(until),
        })
    }
}

/// By IANA name: the zone database of the reading build may number zones differently.
impl Compact for Tz {
    fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        name.parse()
            .map_err(|_| de::Error::custom(format_args!("unknown time zone `{name}`")))
    }
}

/// One block rather than a sequence of bytes: the flattened visibility tails hold a byte per
/// product and epoch.
impl Compact for Box<[u8]> {
    fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self)
    }
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_byte_buf(BytesVisitor)
    }
}

struct BytesVisitor;

impl<'de> de::Visitor<'de> for BytesVisitor {
    type Value = Box<[u8]>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("bytes")
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Self::Value, E> {
        Ok(v.into_boxed_slice())
    }
}

/// Elements whose own serde form is already the compact one.
macro_rules! plain {
    ($($t:ty),*) => {$(
        impl Compact for $t {
            fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                Serialize::serialize(self, s)
            }
            fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <$t>::deserialize(d)
            }
        }
    )*};
}

plain!(u32, ListId, RoaringBitmap);

impl<T: Compact> Compact for Option<T> {
    fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Some(value) => s.serialize_some(&Out(value)),
            None => s.serialize_none(),
        }
    }
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Option::<In<T>>::deserialize(d).map(|value| value.map(|In(v)| v))
    }
}

impl<A: Compact, B: Compact> Compact for (A, B) {
    fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (Out(&self.0), Out(&self.1)).serialize(s)
    }
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (In(a), In(b)) = Deserialize::deserialize(d)?;
        Ok((a, b))
    }
}

impl<A: Compact, B: Compact, C: Compact> Compact for (A, B, C) {
    fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (Out(&self.0), Out(&self.1), Out(&self.2)).serialize(s)
    }
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (In(a), In(b), In(c)) = Deserialize::deserialize(d)?;
        Ok((a, b, c))
    }
}

impl<T: Compact> Compact for Vec<T> {
    fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(Out))
    }
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<In<T>>::deserialize(d).map(|v| v.into_iter().map(|In(x)| x).collect())
    }
}

impl<T: Compact> Compact for Box<[T]> {
    fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(Out))
    }
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<T>::read(d).map(Vec::into_boxed_slice)
    }
}

impl<I: Id, T: Compact> Compact for IdVec<I, T> {
    fn write<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(Out))
    }
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        IdVec::from_vec(Vec::<T>::read(d)?).ok_or_else(|| de::Error::custom("table too long"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Row {
        #[serde(with = "super")]
        values: Vec<(Decimal, Option<Decimal>)>,
        #[serde(with = "super")]
        zone: Tz,
        #[serde(with = "super")]
        bytes: Box<[u8]>,
    }

    #[test]
    fn values_survive_their_compact_form() {
        let row = Row {
            values: vec![
                ("-12.340".parse().unwrap(), None),
                (Decimal::MAX, Some(Decimal::new(1, 28))),
            ],
            zone: chrono_tz::Europe::Paris,
            bytes: vec![0, 1, 255].into_boxed_slice(),
        };
        let bytes = postcard::to_allocvec(&row).unwrap();
        let back: Row = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, row);
        assert_eq!(back.values[0].0.to_string(), "-12.340");
    }

    #[test]
    fn an_unknown_zone_is_an_error() {
        let bytes = postcard::to_allocvec(&("Mars/Olympus", 0u8)).unwrap();
        #[derive(Debug, Deserialize)]
        struct Zone(#[serde(with = "super")] Tz);
        assert!(postcard::from_bytes::<Zone>(&bytes).map(|z| z.0).is_err());
    }
}
