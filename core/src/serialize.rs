//! `Serialize` for the engine's answers (feature `serde`): quotes, explanations, search pages
//! and related products, in the shape the `tarif` command prints with `--json`. Every amount
//! and quantity is a decimal string, never a float; rules, sources and levels are written as
//! their `Display` text (`contract-id/rule-id`, `price list base`, `segment pro`).
//!
//! ```
//! use tarif::{Engine, QuoteRequest};
//! let engine = Engine::from_json(r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
//!   "settings": {"default_price_lists": ["l"]}, "products": [{"sku": "A"}],
//!   "price_lists": [{"id": "l", "prices": [{"sku": "A", "price": "2.50"}]}],
//!   "accounts": [{"id": "C"}]}"#).unwrap();
//! let quote = engine.quote(&QuoteRequest::new("C", "A", 4.into())).unwrap();
//! let json = serde_json::to_value(&quote).unwrap();
//! assert_eq!(json["line_total"], "10.00");
//! assert_eq!(json["steps"][0]["rule"], "l/A");
//! assert_eq!(json["steps"][0]["source"], "price list l");
//! ```

use std::fmt::Display;

use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

use crate::engine::quote::{AppliedStep, Quote, StockInfo};
use crate::{
    CandidateReport, Capabilities, Explanation, Facet, FacetCounts, FacetValue, RelatedProduct,
    RowPrice, SearchPage, SearchRow, Status, StepReport, Variant, VisibilityReport,
    WarehouseAvailability,
};

/// A value written as its `Display` text.
struct Text<'a, T: Display>(&'a T);

impl<T: Display> Serialize for Text<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self.0)
    }
}

fn text<T: Display>(value: &T) -> Text<'_, T> {
    Text(value)
}

fn optional_text<T: Display>(value: &Option<T>) -> Option<Text<'_, T>> {
    value.as_ref().map(Text)
}

impl Serialize for Quote<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Quote", 12)?;
        s.serialize_field("sku", self.sku)?;
        s.serialize_field("qty", &text(&self.qty))?;
        s.serialize_field("currency", self.currency)?;
        s.serialize_field("unit_price", &text(&self.unit_price))?;
        s.serialize_field("line_total", &text(&self.line_total))?;
        s.serialize_field("base_price", &text(&self.base_price))?;
        s.serialize_field("list_price", &optional_text(&self.list_price))?;
        s.serialize_field("buyable", &self.buyable)?;
        s.serialize_field("stage", &text(&self.stage))?;
        s.serialize_field("steps", &*self.steps)?;
        s.serialize_field("engine_version", self.engine_version)?;
        s.serialize_field("stock", &self.stock)?;
        s.end()
    }
}

impl Serialize for AppliedStep<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("AppliedStep", 7)?;
        s.serialize_field("step", self.step)?;
        s.serialize_field("rule", &text(&self.rule))?;
        s.serialize_field("source", &text(&self.source))?;
        s.serialize_field("level", &text(&self.level))?;
        s.serialize_field("before", &optional_text(&self.before))?;
        s.serialize_field("after", &text(&self.after))?;
        s.serialize_field("notes", &self.notes.names().collect::<Vec<_>>())?;
        s.end()
    }
}

impl Serialize for StockInfo<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("StockInfo", 4)?;
        s.serialize_field("available", &text(&self.available))?;
        s.serialize_field("backorder", &text(&self.backorder))?;
        s.serialize_field("lead_time_days", &self.lead_time_days)?;
        let warehouses: Vec<Warehouse<'_>> = self.warehouses.iter().map(Warehouse).collect();
        s.serialize_field("warehouses", &warehouses)?;
        s.end()
    }
}

/// A warehouse's stock, its quantity a decimal string (the snapshot writes it otherwise).
struct Warehouse<'a>(&'a WarehouseAvailability);

impl Serialize for Warehouse<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("WarehouseAvailability", 3)?;
        s.serialize_field("id", &*self.0.id)?;
        s.serialize_field("available", &text(&self.0.available))?;
        s.serialize_field("lead_time_days", &self.0.lead_time_days)?;
        s.end()
    }
}

impl Serialize for Explanation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Explanation", 8)?;
        s.serialize_field("account", &self.account)?;
        s.serialize_field("sku", &self.sku)?;
        s.serialize_field("qty", &text(&self.qty))?;
        s.serialize_field("at", &text(&self.at))?;
        s.serialize_field("currency", &self.currency)?;
        s.serialize_field("visibility", &self.visibility)?;
        s.serialize_field("steps", &self.steps)?;
        s.serialize_field("outcome", &Outcome(&self.outcome))?;
        s.end()
    }
}

/// `{"ok": true, "unit_price", "line_total"}` or `{"ok": false, "code", "message"}`.
struct Outcome<'a>(&'a Result<(rust_decimal::Decimal, rust_decimal::Decimal), (String, String)>);

impl Serialize for Outcome<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        match self.0 {
            Ok((unit, line)) => {
                map.serialize_entry("ok", &true)?;
                map.serialize_entry("unit_price", &text(unit))?;
                map.serialize_entry("line_total", &text(line))?;
            }
            Err((code, message)) => {
                map.serialize_entry("ok", &false)?;
                map.serialize_entry("code", code)?;
                map.serialize_entry("message", message)?;
            }
        }
        map.end()
    }
}

/// `{"see": {"allowed", "decided_by"}, "price": …, "buy": …}`.
impl Serialize for VisibilityReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        for (name, (allowed, decided_by)) in ["see", "price", "buy"]
            .iter()
            .zip(self.allowed.iter().zip(&self.decided_by))
        {
            map.serialize_entry(
                name,
                &Decision {
                    allowed,
                    decided_by,
                },
            )?;
        }
        map.end()
    }
}

/// One capability's decision in a [`VisibilityReport`].
#[derive(Serialize)]
struct Decision<'a> {
    allowed: &'a bool,
    decided_by: &'a Option<String>,
}

impl Serialize for StepReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("StepReport", 4)?;
        s.serialize_field("step", &self.step)?;
        s.serialize_field("select", &self.select)?;
        s.serialize_field("skipped", &self.skipped)?;
        s.serialize_field("candidates", &self.candidates)?;
        s.end()
    }
}

impl Serialize for CandidateReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("CandidateReport", 8)?;
        s.serialize_field("rule", &self.rule)?;
        s.serialize_field("source", &self.source)?;
        s.serialize_field("level", &self.level)?;
        s.serialize_field("priority", &self.priority)?;
        s.serialize_field("specificity", &self.specificity)?;
        s.serialize_field("result", &optional_text(&self.result))?;
        s.serialize_field("applied", &self.applied)?;
        s.serialize_field("reason", &self.reason)?;
        s.end()
    }
}

impl Serialize for SearchPage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("SearchPage", 4)?;
        s.serialize_field("total", &self.total)?;
        s.serialize_field("next", &optional_text(&self.next))?;
        s.serialize_field("rows", &self.rows)?;
        s.serialize_field("facets", &self.facets)?;
        s.end()
    }
}

impl Serialize for SearchRow {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("SearchRow", 7)?;
        s.serialize_field("sku", &self.sku)?;
        s.serialize_field("name", &self.name)?;
        s.serialize_field("brand", &self.brand)?;
        s.serialize_field("family", &self.family)?;
        s.serialize_field("capabilities", &self.capabilities)?;
        s.serialize_field("price", &self.price)?;
        s.serialize_field("variants", &self.variants)?;
        s.end()
    }
}

impl Serialize for Variant {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let axes: serde_json::Map<String, serde_json::Value> = self
            .axes
            .iter()
            .map(|(axis, value)| (axis.clone(), serde_json::Value::from(value.as_str())))
            .collect();
        let mut s = serializer.serialize_struct("Variant", 4)?;
        s.serialize_field("sku", &self.sku)?;
        s.serialize_field("axes", &axes)?;
        s.serialize_field("capabilities", &self.capabilities)?;
        s.serialize_field("price", &self.price)?;
        s.end()
    }
}

/// A failed price has its status and no amounts.
impl Serialize for RowPrice {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let ok = self.status == Status::Ok;
        let mut s = serializer.serialize_struct("RowPrice", 4)?;
        s.serialize_field("status", self.status.code())?;
        s.serialize_field("unit_price", &ok.then(|| text(&self.unit_price)))?;
        s.serialize_field("line_total", &ok.then(|| text(&self.line_total)))?;
        s.serialize_field("currency", &ok.then_some(&self.currency))?;
        s.end()
    }
}

impl Serialize for Capabilities {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Capabilities", 3)?;
        s.serialize_field("see", &self.see)?;
        s.serialize_field("price", &self.price)?;
        s.serialize_field("buy", &self.buy)?;
        s.end()
    }
}

impl Serialize for FacetCounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("FacetCounts", 2)?;
        s.serialize_field("facet", &self.facet)?;
        s.serialize_field("values", &self.values)?;
        s.end()
    }
}

/// The facet's name: an attribute's own, or `category`, `brand`, `family`, `in_stock`.
impl Serialize for Facet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(match self {
            Facet::Attr(name) => name,
            Facet::Category => "category",
            Facet::Brand => "brand",
            Facet::Family => "family",
            Facet::InStock => "in_stock",
        })
    }
}

impl Serialize for FacetValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("FacetValue", 2)?;
        s.serialize_field("value", &self.value)?;
        s.serialize_field("count", &self.count)?;
        s.end()
    }
}

impl Serialize for RelatedProduct {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("RelatedProduct", 2)?;
        s.serialize_field("sku", &self.sku)?;
        s.serialize_field("capabilities", &self.capabilities)?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::{Engine, Facet, Instant, QuoteRequest, SearchQuery};

    /// Every number in `json` is an integer (a count, a priority, a day): no amount is a float.
    fn no_float(json: &Value, path: &str) {
        match json {
            Value::Number(n) => assert!(n.is_u64() || n.is_i64(), "{path} is {n}"),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    no_float(item, &format!("{path}[{i}]"));
                }
            }
            Value::Object(fields) => {
                for (key, value) in fields {
                    no_float(value, &format!("{path}.{key}"));
                }
            }
            _ => {}
        }
    }

    #[test]
    fn answers_serialise_with_decimal_strings() {
        let engine = Engine::from_json(&tarif_sample::distributor_json()).unwrap();
        let at = Instant::parse_rfc3339("2027-03-18T10:00:00+01:00");
        let request = QuoteRequest {
            at,
            ..QuoteRequest::new("I-VOLTA-LYON", "CAB-NEX-R2V3G-2.5", 100.into())
        };
        let quote = serde_json::to_value(engine.quote(&request).unwrap()).unwrap();
        assert_eq!(quote["unit_price"], "1.46");
        assert_eq!(quote["line_total"], "146.00");
        assert!(!quote["steps"].as_array().unwrap().is_empty());
        no_float(&quote, "quote");

        let explanation = serde_json::to_value(engine.explain(&request).unwrap()).unwrap();
        assert_eq!(explanation["outcome"]["ok"], true);
        assert_eq!(explanation["outcome"]["line_total"], "146.00");
        assert_eq!(explanation["visibility"]["buy"]["allowed"], true);
        no_float(&explanation, "explanation");

        let query = SearchQuery {
            price_qty: Some(100.into()),
            facets: vec![Facet::Brand],
            limit: 5,
            ..SearchQuery::default()
        };
        let page = engine.search("I-VOLTA-LYON", &query, at).unwrap();
        let json = serde_json::to_value(&page).unwrap();
        assert_eq!(json["rows"].as_array().unwrap().len(), page.rows.len());
        assert_eq!(json["total"], page.total);
        assert_eq!(json["facets"][0]["facet"], "brand");
        assert!(json["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|row| row["price"]["unit_price"].is_string()));
        no_float(&json, "page");
    }
}
