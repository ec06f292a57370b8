//! Dense ids: every entity of the document is interned into a position in the table that owns
//! it, and each kind of entity has its own id type, so that a list id cannot index the rules.
//!
//! An [`IdVec`] is such a table. Its ids are made by the table itself ([`IdVec::push`] returns
//! the id of the row it adds; [`IdVec::ids`] and [`IdVec::iter_enumerated`] yield existing ones),
//! and rows are never removed, so [`IdVec::row`] with one of its ids is always in range.
//! Tables that share an id type (the product columns, the visibility levels and their tails)
//! are filled side by side, row for row, by the compiler.

use std::fmt;
use std::marker::PhantomData;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// A dense id: a row number of the table that issued it.
pub(crate) trait Id: Copy + Eq + fmt::Debug {
    /// The id of row `index`, if the id type can hold it.
    fn from_index(index: usize) -> Option<Self>;
    /// The row number.
    fn index(self) -> usize;
}

macro_rules! dense_id {
    ($(#[$doc:meta])* $name:ident($raw:ty)) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        pub(crate) struct $name($raw);

        impl Id for $name {
            fn from_index(index: usize) -> Option<Self> {
                <$raw>::try_from(index).ok().map($name)
            }
            fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

/// Audience key: 0 is everyone, then segments, then accounts.
pub(crate) type AudKey = u32;
/// Marks "none" in dense `u32` columns.
pub(crate) const NONE: u32 = u32::MAX;

dense_id!(
    /// A price list.
    ListId(u32)
);
dense_id!(
    /// A product.
    ProductId(u32)
);
dense_id!(
    /// An account.
    AccountId(u32)
);
dense_id!(
    /// A currency.
    CurrencyId(u16)
);
dense_id!(
    /// A rounding policy.
    PolicyId(u32)
);
dense_id!(
    /// A pricing rule.
    RuleId(u32)
);
dense_id!(
    /// A price-list entry.
    EntryId(u32)
);
dense_id!(
    /// A compiled product selector.
    SelectorId(u32)
);
dense_id!(
    /// A contract.
    ContractId(u32)
);

/// A table whose rows are addressed by their own id type (see the module doc for why indexing
/// it with its ids cannot go out of range). Flat: one `Vec`, no pointers between rows.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct IdVec<I, T> {
    rows: Vec<T>,
    id: PhantomData<fn(I) -> I>,
}

impl ListId {
    /// The raw row number: the upper half of an entry key.
    pub(crate) fn raw(self) -> u32 {
        self.0
    }
}

impl ProductId {
    /// Names no product: every table misses it. Only a position outside the navigation index
    /// maps to it, which its own sets never hold.
    pub(crate) const ABSENT: ProductId = ProductId(u32::MAX);

    /// The raw row number: what product bitmaps and rule keys hold.
    pub(crate) fn raw(self) -> u32 {
        self.0
    }
}

impl AccountId {
    /// The raw row number: the tail of the account's audience key.
    pub(crate) fn raw(self) -> u32 {
        self.0
    }
}

impl CurrencyId {
    /// The raw row number, as [`crate::BatchResult::currency`] reports it.
    pub(crate) fn raw(self) -> u16 {
        self.0
    }

    /// The first currency of the document: the default one unless the settings name another.
    pub(crate) const FIRST: CurrencyId = CurrencyId(0);
}

impl<I, T> Default for IdVec<I, T> {
    fn default() -> Self {
        IdVec {
            rows: Vec::new(),
            id: PhantomData,
        }
    }
}

impl<I, T: fmt::Debug> fmt::Debug for IdVec<I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.rows.fmt(f)
    }
}

impl<I, T: Serialize> Serialize for IdVec<I, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.rows.serialize(s)
    }
}

/// A snapshot's table is checked as the compiler's is: no more rows than the id type numbers.
impl<'de, I: Id, T: Deserialize<'de>> Deserialize<'de> for IdVec<I, T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        IdVec::from_vec(Vec::deserialize(d)?).ok_or_else(|| de::Error::custom("table too long"))
    }
}

impl<'a, I: Id, T> IntoIterator for &'a mut IdVec<I, T> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.rows.iter_mut()
    }
}

impl<I: Id, T> IdVec<I, T> {
    /// An empty table.
    pub(crate) fn new() -> Self {
        IdVec::default()
    }

    /// A table of these rows, ids in their order; `None` when the id type cannot number them.
    pub(crate) fn from_vec(rows: Vec<T>) -> Option<Self> {
        if let Some(last) = rows.len().checked_sub(1) {
            I::from_index(last)?;
        }
        Some(IdVec {
            rows,
            id: PhantomData,
        })
    }

    /// Room for `additional` more rows, exactly.
    pub(crate) fn reserve_exact(&mut self, additional: usize) {
        self.rows.reserve_exact(additional);
    }

    /// Adds a row and returns its id; `None` (and nothing added) when the id type is full.
    pub(crate) fn push(&mut self, row: T) -> Option<I> {
        let id = I::from_index(self.rows.len())?;
        self.rows.push(row);
        Some(id)
    }

    /// The row of `id`. In range by construction (module doc): a miss is a bug in the
    /// compiler, not a property of the document, so it stops the query (the bindings turn
    /// the panic into an error) rather than answering from a silent default.
    ///
    /// A method rather than `Index`: the crate denies `clippy::indexing_slicing`, which flags
    /// every `[]`, checked or not.
    pub(crate) fn row(&self, id: I) -> &T {
        match self.get(id) {
            Some(row) => row,
            None => unreachable!("{id:?} was not issued by this table of {} rows", self.len()),
        }
    }

    /// The row of `id`, or `None` for an id this table did not issue.
    pub(crate) fn get(&self, id: I) -> Option<&T> {
        self.rows.get(id.index())
    }

    /// The row of `id`, mutable.
    pub(crate) fn get_mut(&mut self, id: I) -> Option<&mut T> {
        self.rows.get_mut(id.index())
    }

    /// Number of rows.
    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    /// The rows, in id order.
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, T> {
        self.rows.iter()
    }

    /// The rows, mutable, in id order.
    pub(crate) fn iter_mut(&mut self) -> std::slice::IterMut<'_, T> {
        self.rows.iter_mut()
    }

    /// The rows with their ids, in id order.
    pub(crate) fn iter_enumerated(&self) -> impl DoubleEndedIterator<Item = (I, &T)> + '_ {
        self.rows
            .iter()
            .enumerate()
            .filter_map(|(index, row)| Some((I::from_index(index)?, row)))
    }

    /// Every id of the table, ascending.
    pub(crate) fn ids(&self) -> impl DoubleEndedIterator<Item = I> + '_ {
        (0..self.rows.len()).filter_map(I::from_index)
    }
}

impl<'a, I: Id, T> IntoIterator for &'a IdVec<I, T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.rows.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_issues_the_ids_of_its_rows() {
        let mut lists: IdVec<ListId, &str> = IdVec::new();
        let a = lists.push("a").unwrap();
        let b = lists.push("b").unwrap();
        assert_eq!((*lists.row(a), *lists.row(b)), ("a", "b"));
        assert_eq!(lists.ids().collect::<Vec<_>>(), [a, b]);
        assert_eq!(lists.iter_enumerated().last(), Some((b, &"b")));
        let other: IdVec<ListId, &str> = IdVec::new();
        assert_eq!(other.get(a), None);
    }

    #[test]
    fn a_full_id_type_refuses_rows() {
        let mut currencies: IdVec<CurrencyId, ()> = IdVec::new();
        for _ in 0..=u16::MAX {
            assert!(currencies.push(()).is_some());
        }
        assert_eq!(currencies.push(()), None);
        assert_eq!(currencies.len(), usize::from(u16::MAX) + 1);
    }
}
