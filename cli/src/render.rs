//! Text and JSON forms of the engine's answers. Amounts are always decimal strings. The JSON is
//! the core's `serde` form of each answer; writing it to a `Value` cannot fail (every map key
//! is a string), so a failure would print `null` rather than stop the command.

use std::io::{self, Write};

use serde_json::Value;
use tarif::{Capabilities, Explanation, Facet, Quote, QuoteRequest, RowPrice, SearchPage, Status};

pub(crate) fn quote_text(
    out: &mut dyn Write,
    request: &QuoteRequest<'_>,
    quote: &Quote<'_>,
) -> io::Result<()> {
    writeln!(out, "{} × {} for {}", quote.qty, quote.sku, request.account)?;
    writeln!(out, "unit price  {} {}", quote.unit_price, quote.currency)?;
    writeln!(out, "line total  {} {}", quote.line_total, quote.currency)?;
    match quote.list_price {
        Some(list) => writeln!(out, "list price  {list} {}", quote.currency)?,
        None => writeln!(out, "list price  none")?,
    }
    writeln!(
        out,
        "buyable     {}",
        if quote.buyable { "yes" } else { "no" }
    )?;
    writeln!(out, "steps")?;
    for step in &quote.steps {
        let change = match step.before {
            Some(before) => format!("{before} → {}", step.after),
            None => step.after.to_string(),
        };
        let notes = if step.notes.is_empty() {
            String::new()
        } else {
            format!(" [{}]", step.notes)
        };
        writeln!(
            out,
            "  {:<10} {change:<36} {} ({}, {}){notes}",
            step.step, step.rule, step.source, step.level
        )?;
    }
    writeln!(out, "engine version  {}", quote.engine_version)
}

/// The quote as the core serialises it, with the request's account and reference.
pub(crate) fn quote_json(request: &QuoteRequest<'_>, quote: &Quote<'_>) -> Value {
    let mut json = serde_json::to_value(quote).unwrap_or(Value::Null);
    if let Value::Object(fields) = &mut json {
        fields.insert("account".into(), request.account.into());
        fields.insert("reference".into(), request.product.into());
    }
    json
}

pub(crate) fn explanation_json(e: &Explanation) -> Value {
    serde_json::to_value(e).unwrap_or(Value::Null)
}

pub(crate) fn page_text(out: &mut dyn Write, page: &SearchPage) -> io::Result<()> {
    for row in &page.rows {
        let price = row.price.as_ref().map(price_text).unwrap_or_default();
        writeln!(
            out,
            "{:<32} {:<4} {:<14} {:<40} {price}",
            row.sku,
            capabilities_text(row.capabilities),
            row.brand.as_deref().unwrap_or(""),
            row.name.as_deref().unwrap_or(""),
        )?;
        for variant in &row.variants {
            let axes: Vec<String> = variant
                .axes
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let price = variant.price.as_ref().map(price_text).unwrap_or_default();
            writeln!(
                out,
                "  {:<30} {:<4} {:<55} {price}",
                variant.sku,
                capabilities_text(variant.capabilities),
                axes.join(" ")
            )?;
        }
    }
    for counts in &page.facets {
        let values: Vec<String> = counts
            .values
            .iter()
            .map(|v| format!("{} ({})", v.value, v.count))
            .collect();
        writeln!(
            out,
            "facet {}: {}",
            facet_name(&counts.facet),
            values.join(", ")
        )?;
    }
    write!(out, "{} of {} row(s)", page.rows.len(), page.total)?;
    match &page.next {
        Some(next) => writeln!(out, "; next page: --after '{next}'"),
        None => writeln!(out),
    }
}

pub(crate) fn page_json(page: &SearchPage) -> Value {
    serde_json::to_value(page).unwrap_or(Value::Null)
}

fn facet_name(facet: &Facet) -> &str {
    match facet {
        Facet::Attr(name) => name,
        Facet::Category => "category",
        Facet::Brand => "brand",
        Facet::Family => "family",
        Facet::InStock => "in_stock",
    }
}

fn capabilities_text(c: Capabilities) -> String {
    [(c.see, 's'), (c.price, 'p'), (c.buy, 'b')]
        .iter()
        .map(|&(allowed, letter)| if allowed { letter } else { '-' })
        .collect()
}

fn price_text(price: &RowPrice) -> String {
    if price.status == Status::Ok {
        format!("{} {}", price.unit_price, price.currency)
    } else {
        price.status.code().to_string()
    }
}
