//! Dense ids: every entity of the document is interned into a position in its table.

/// Dense index of a product.
pub(crate) type ProductId = u32;
/// Dense index of an account.
pub(crate) type AccountId = u32;
/// Dense index of a currency.
pub(crate) type CurrencyId = u16;
/// Dense index of a price list.
pub(crate) type ListId = u32;
/// Audience key: 0 is everyone, then segments, then accounts.
pub(crate) type AudKey = u32;
/// Marks "none" in dense `u32` columns.
pub(crate) const NONE: u32 = u32::MAX;
