//! Text and JSON forms of the engine's answers. Amounts are always decimal strings.

use std::io::{self, Write};

use serde_json::{json, Value};
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

pub(crate) fn quote_json(request: &QuoteRequest<'_>, quote: &Quote<'_>) -> Value {
    json!({
        "account": request.account,
        "reference": request.product,
        "sku": quote.sku,
        "qty": quote.qty.to_string(),
        "currency": quote.currency,
        "unit_price": quote.unit_price.to_string(),
        "line_total": quote.line_total.to_string(),
        "base_price": quote.base_price.to_string(),
        "list_price": quote.list_price.map(|p| p.to_string()),
        "buyable": quote.buyable,
        "steps": quote.steps.iter().map(|s| json!({
            "step": s.step,
            "rule": s.rule.to_string(),
            "source": s.source.to_string(),
            "level": s.level.to_string(),
            "before": s.before.map(|b| b.to_string()),
            "after": s.after.to_string(),
            "notes": s.notes.names().collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "engine_version": quote.engine_version,
    })
}

pub(crate) fn explanation_json(e: &Explanation) -> Value {
    let visibility: serde_json::Map<String, Value> = ["see", "price", "buy"]
        .iter()
        .zip(e.visibility.allowed.iter().zip(&e.visibility.decided_by))
        .map(|(name, (allowed, by))| {
            (
                (*name).to_string(),
                json!({"allowed": allowed, "decided_by": by}),
            )
        })
        .collect();
    let outcome = match &e.outcome {
        Ok((unit, line)) => json!({
            "ok": true,
            "unit_price": unit.to_string(),
            "line_total": line.to_string(),
        }),
        Err((code, message)) => json!({"ok": false, "code": code, "message": message}),
    };
    json!({
        "account": e.account,
        "sku": e.sku,
        "qty": e.qty.to_string(),
        "at": e.at.to_string(),
        "currency": e.currency,
        "visibility": visibility,
        "steps": e.steps.iter().map(|s| json!({
            "step": s.step,
            "select": s.select,
            "skipped": s.skipped,
            "candidates": s.candidates.iter().map(|c| json!({
                "rule": c.rule,
                "source": c.source,
                "level": c.level,
                "priority": c.priority,
                "specificity": c.specificity,
                "result": c.result.map(|r| r.to_string()),
                "applied": c.applied,
                "reason": c.reason,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "outcome": outcome,
    })
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
    json!({
        "total": page.total,
        "next": page.next.as_ref().map(ToString::to_string),
        "rows": page.rows.iter().map(|row| json!({
            "sku": row.sku,
            "name": row.name,
            "brand": row.brand,
            "family": row.family,
            "capabilities": capabilities_json(row.capabilities),
            "price": row.price.as_ref().map(price_json),
            "variants": row.variants.iter().map(|v| json!({
                "sku": v.sku,
                "axes": v.axes.iter()
                    .map(|(axis, value)| (axis.clone(), Value::from(value.as_str())))
                    .collect::<serde_json::Map<_, _>>(),
                "capabilities": capabilities_json(v.capabilities),
                "price": v.price.as_ref().map(price_json),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "facets": page.facets.iter().map(|f| json!({
            "facet": facet_name(&f.facet),
            "values": f.values.iter().map(|v| json!({"value": v.value, "count": v.count}))
                .collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
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

fn capabilities_json(c: Capabilities) -> Value {
    json!({"see": c.see, "price": c.price, "buy": c.buy})
}

fn price_text(price: &RowPrice) -> String {
    if price.status == Status::Ok {
        format!("{} {}", price.unit_price, price.currency)
    } else {
        price.status.code().to_string()
    }
}

fn price_json(price: &RowPrice) -> Value {
    if price.status == Status::Ok {
        json!({
            "status": "OK",
            "unit_price": price.unit_price.to_string(),
            "line_total": price.line_total.to_string(),
            "currency": price.currency,
        })
    } else {
        json!({"status": price.status.code(), "unit_price": null, "line_total": null,
               "currency": null})
    }
}
