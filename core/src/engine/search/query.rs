//! The public vocabulary of `search` and `related`: queries, filters, sorts, cursors, pages.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::engine::visibility::Capabilities;
use crate::error::Status;
use crate::model::Capability;

/// One filter of a [`SearchQuery`]. Filters combine all-of; the values of one filter any-of.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// The attribute has one of these values (for a list attribute: one of its elements does).
    /// A value is compared as text; a numeric value also matches its canonical decimal text
    /// (`"18"`, `"18.0"` and `18` are the same).
    Attr {
        /// Attribute name.
        name: String,
        /// Accepted values.
        any_of: Vec<String>,
    },
    /// The numeric attribute (or one element of a numeric list) lies within the bounds,
    /// both inclusive.
    Range {
        /// Attribute name.
        name: String,
        /// Lower bound, inclusive.
        min: Option<Decimal>,
        /// Upper bound, inclusive.
        max: Option<Decimal>,
    },
    /// The product is in one of these categories or below them.
    Category(Vec<String>),
    /// The product has one of these brands.
    Brand(Vec<String>),
    /// The product belongs to one of these families.
    Family(Vec<String>),
    /// The product has a stock record with a positive total on hand (an untracked product is
    /// not in stock).
    InStock,
}

impl Filter {
    /// `Filter::Attr` from any list of values.
    pub fn any_of<I, S>(name: &str, values: I) -> Filter
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Filter::Attr {
            name: name.to_string(),
            any_of: values.into_iter().map(Into::into).collect(),
        }
    }

    /// `Filter::Range` with optional inclusive bounds.
    pub fn range(name: &str, min: Option<Decimal>, max: Option<Decimal>) -> Filter {
        Filter::Range {
            name: name.to_string(),
            min,
            max,
        }
    }

    /// The facet this filter restricts: left out when that facet's values are counted.
    pub(super) fn facet(&self) -> Facet {
        match self {
            Filter::Attr { name, .. } | Filter::Range { name, .. } => Facet::Attr(name.clone()),
            Filter::Category(_) => Facet::Category,
            Filter::Brand(_) => Facet::Brand,
            Filter::Family(_) => Facet::Family,
            Filter::InStock => Facet::InStock,
        }
    }
}

/// A dimension whose values can be counted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Facet {
    /// An attribute declared filterable (`settings.facets`).
    Attr(String),
    /// Categories; each counts its whole subtree.
    Category,
    /// Brands.
    Brand,
    /// Variant families.
    Family,
    /// In stock or not: values `false` (out of stock or not tracked) and `true`.
    InStock,
}

impl Facet {
    /// `Facet::Attr`.
    pub fn attr(name: &str) -> Facet {
        Facet::Attr(name.to_string())
    }
}

/// The order of the rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Sort {
    /// By SKU, byte order.
    #[default]
    Sku,
    /// By a numeric attribute (a list by its smallest number), ties by SKU; products without a
    /// number for it come last, by SKU, in both directions.
    Attr {
        /// Attribute name.
        name: String,
        /// Largest first.
        descending: bool,
    },
}

/// Where a page ends: pass it to [`SearchQuery::after`] for the next page. It holds the sort
/// key of the last row (its value and SKU), so it stays meaningful across engine reloads.
///
/// ```
/// let cursor: tarif::Cursor = "v:18:DR-1".parse().unwrap();
/// assert_eq!(cursor.to_string(), "v:18:DR-1");
/// assert!("bogus".parse::<tarif::Cursor>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub(super) CursorKey);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum CursorKey {
    Sku(Box<str>),
    Value(Decimal, Box<str>),
    NoValue(Box<str>),
}

impl CursorKey {
    pub(super) fn sku(&self) -> &str {
        match self {
            CursorKey::Sku(s) | CursorKey::Value(_, s) | CursorKey::NoValue(s) => s,
        }
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            CursorKey::Sku(s) => write!(f, "s:{s}"),
            CursorKey::Value(v, s) => write!(f, "v:{v}:{s}"),
            CursorKey::NoValue(s) => write!(f, "n:{s}"),
        }
    }
}

/// A cursor text that [`Cursor`] did not write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cursor `{0}`")]
pub struct InvalidCursor(pub String);

impl FromStr for Cursor {
    type Err = InvalidCursor;

    fn from_str(text: &str) -> Result<Cursor, InvalidCursor> {
        let bad = || InvalidCursor(text.to_string());
        let (tag, rest) = text.split_once(':').ok_or_else(bad)?;
        let key = match tag {
            "s" => CursorKey::Sku(rest.into()),
            "n" => CursorKey::NoValue(rest.into()),
            "v" => {
                let (value, sku) = rest.split_once(':').ok_or_else(bad)?;
                CursorKey::Value(value.parse().map_err(|_| bad())?, sku.into())
            }
            _ => return Err(bad()),
        };
        Ok(Cursor(key))
    }
}

/// What to search: built with the chained methods below, every part optional.
///
/// ```
/// use tarif::{Capability, Facet, Filter, SearchQuery, Sort};
/// let query = SearchQuery::new()
///     .filter(Filter::any_of("color", ["blue"]))
///     .filter(Filter::range("voltage", Some(12.into()), Some(18.into())))
///     .text("DR-")
///     .capability(Capability::Buy)
///     .sort(Sort::Attr { name: "voltage".into(), descending: true })
///     .page(0, 20)
///     .facet(Facet::attr("voltage"))
///     .facet(Facet::Brand)
///     .group_variants(true)
///     .prices("1".parse().unwrap());
/// assert_eq!(query.limit, 20);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    /// Filters, all of which must hold.
    pub filters: Vec<Filter>,
    /// Case-insensitive prefix of a SKU, MPN or other reference, or of the digits of an EAN.
    pub text: Option<String>,
    /// The capability a product needs to be in the results (default `see`).
    pub capability: Capability,
    /// Row order.
    pub sort: Sort,
    /// Rows to skip (after the cursor, if any).
    pub offset: usize,
    /// Rows per page (default 20).
    pub limit: usize,
    /// Start after this row.
    pub cursor: Option<Cursor>,
    /// Facets to count over the visible, filtered products.
    pub facets: Vec<Facet>,
    /// One row per family (with its matching variants) instead of one per product.
    pub group_variants: bool,
    /// Price every row (and variant) for this quantity.
    pub price_qty: Option<Decimal>,
    /// Request currency of those prices (default the account's).
    pub currency: Option<String>,
}

impl Default for SearchQuery {
    fn default() -> SearchQuery {
        SearchQuery {
            filters: Vec::new(),
            text: None,
            capability: Capability::See,
            sort: Sort::Sku,
            offset: 0,
            limit: 20,
            cursor: None,
            facets: Vec::new(),
            group_variants: false,
            price_qty: None,
            currency: None,
        }
    }
}

impl SearchQuery {
    /// Everything the account may see, by SKU, first 20 rows.
    pub fn new() -> SearchQuery {
        SearchQuery::default()
    }

    /// Adds a filter.
    pub fn filter(mut self, filter: Filter) -> SearchQuery {
        self.filters.push(filter);
        self
    }

    /// Sets the reference prefix.
    pub fn text(mut self, prefix: &str) -> SearchQuery {
        self.text = Some(prefix.to_string());
        self
    }

    /// Sets the required capability.
    pub fn capability(mut self, capability: Capability) -> SearchQuery {
        self.capability = capability;
        self
    }

    /// Sets the order.
    pub fn sort(mut self, sort: Sort) -> SearchQuery {
        self.sort = sort;
        self
    }

    /// Sets offset and limit.
    pub fn page(mut self, offset: usize, limit: usize) -> SearchQuery {
        self.offset = offset;
        self.limit = limit;
        self
    }

    /// Continues after a previous page.
    pub fn after(mut self, cursor: Cursor) -> SearchQuery {
        self.cursor = Some(cursor);
        self
    }

    /// Asks for a facet's counts.
    pub fn facet(mut self, facet: Facet) -> SearchQuery {
        self.facets.push(facet);
        self
    }

    /// Groups variants by family.
    pub fn group_variants(mut self, group: bool) -> SearchQuery {
        self.group_variants = group;
        self
    }

    /// Prices each row for this quantity.
    pub fn prices(mut self, qty: Decimal) -> SearchQuery {
        self.price_qty = Some(qty);
        self
    }

    /// Sets the currency of the prices.
    pub fn currency(mut self, code: &str) -> SearchQuery {
        self.currency = Some(code.to_string());
        self
    }
}

/// A row's price, from the batch path: `status` is `Ok` or the code the quote would fail with
/// (`PRICE_HIDDEN`, `NO_PRICE`, `QUANTITY_RULE`…), the amounts then zero.
#[derive(Debug, Clone, PartialEq)]
pub struct RowPrice {
    /// Outcome.
    pub status: Status,
    /// Unit price.
    pub unit_price: Decimal,
    /// Line total for the quantity.
    pub line_total: Decimal,
    /// Currency code (empty when the quote failed).
    pub currency: String,
}

/// One variant of a family row.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// SKU.
    pub sku: String,
    /// Its axes (`voltage: 18V`), by axis name.
    pub axes: Vec<(String, String)>,
    /// What the account may do with it.
    pub capabilities: Capabilities,
    /// Its price, when asked for.
    pub price: Option<RowPrice>,
}

/// One row of a page: a product, or with `group_variants` a family (led by its first matching
/// variant in the page order) or a product without family.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRow {
    /// The product's SKU, or for a family the SKU of its leading variant.
    pub sku: String,
    /// Display name of that product.
    pub name: Option<String>,
    /// Its brand.
    pub brand: Option<String>,
    /// Its family.
    pub family: Option<String>,
    /// What the account may do with that product.
    pub capabilities: Capabilities,
    /// With `group_variants`, the family's matching variants by SKU (the product alone when it
    /// has no family); otherwise empty.
    pub variants: Vec<Variant>,
    /// The product's price, when asked for.
    pub price: Option<RowPrice>,
}

/// How many matching products have one value of a facet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetValue {
    /// The value as text (a number in canonical decimal form; a category id; a brand…).
    pub value: String,
    /// Visible matching products with it, the facet's own filters left out.
    pub count: u64,
}

/// The counts of one facet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetCounts {
    /// Which facet.
    pub facet: Facet,
    /// Values with at least one product, and the values the query selects (even at zero), in
    /// the index's value order (numbers ascending, then texts, then booleans).
    pub values: Vec<FacetValue>,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    /// Rows of the page.
    pub rows: Vec<SearchRow>,
    /// Rows in the whole result (families count once when grouped).
    pub total: u64,
    /// Cursor after the last row, when more rows follow.
    pub next: Option<Cursor>,
    /// Requested facets, in request order.
    pub facets: Vec<FacetCounts>,
}

/// The kinds of links between products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelationKind {
    /// Products that must be ordered with it.
    Requires,
    /// Accessories.
    Accessories,
    /// Compatible products.
    Compatible,
    /// Products that cannot be ordered with it.
    Excludes,
    /// The successor: `replaced_by` followed to the first product the account may buy.
    Replacement,
}

/// A related product the account may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelatedProduct {
    /// SKU.
    pub sku: String,
    /// What the account may do with it.
    pub capabilities: Capabilities,
}
