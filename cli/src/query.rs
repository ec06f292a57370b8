//! `tarif quote`, `explain`, `lookup` and `search`: one query on a compiled document.

use std::io::Write;

use serde_json::json;
use tarif::{
    Capability, Cursor, Decimal, Engine, Facet, Filter, Instant, QueryError, QuoteRequest,
    SearchQuery,
};

use crate::args::{CapabilityArg, LineArgs, LookupArgs, SearchArgs};
use crate::check::load;
use crate::failure::{Exit, Failure};
use crate::progress::Progress;
use crate::render;

pub(crate) fn quote(
    args: &LineArgs,
    json: bool,
    progress: &Progress,
    out: &mut dyn Write,
) -> Result<Exit, Failure> {
    let engine = load(&args.rules, progress)?;
    let request = line_request(&engine, args)?;
    let quote = engine.quote(&request)?;
    if json {
        writeln!(out, "{}", render::quote_json(&request, &quote))?;
    } else {
        render::quote_text(out, &request, &quote)?;
    }
    Ok(Exit::Ok)
}

pub(crate) fn explain(
    args: &LineArgs,
    json: bool,
    progress: &Progress,
    out: &mut dyn Write,
) -> Result<Exit, Failure> {
    let engine = load(&args.rules, progress)?;
    let request = line_request(&engine, args)?;
    let explanation = engine.explain(&request)?;
    if json {
        writeln!(out, "{}", render::explanation_json(&explanation))?;
    } else {
        writeln!(out, "{explanation}")?;
    }
    Ok(Exit::Ok)
}

pub(crate) fn lookup(
    args: &LookupArgs,
    json: bool,
    progress: &Progress,
    out: &mut dyn Write,
) -> Result<Exit, Failure> {
    let engine = load(&args.rules, progress)?;
    let at = instant(&engine, &args.account, args.when.at.as_deref())?;
    let sku = engine.lookup_at(
        &args.account,
        &args.reference,
        at.unwrap_or_else(Instant::now),
    )?;
    if json {
        let answer = json!({"account": args.account, "reference": args.reference, "sku": sku});
        writeln!(out, "{answer}")?;
    } else {
        writeln!(out, "{sku}")?;
    }
    Ok(Exit::Ok)
}

pub(crate) fn search(
    args: &SearchArgs,
    json: bool,
    progress: &Progress,
    out: &mut dyn Write,
) -> Result<Exit, Failure> {
    let engine = load(&args.rules, progress)?;
    let at = instant(&engine, &args.account, args.when.at.as_deref())?;
    let query = search_query(args)?;
    let page = engine.search(&args.account, &query, at)?;
    if json {
        writeln!(out, "{}", render::page_json(&page))?;
    } else {
        render::page_text(out, &page)?;
    }
    Ok(Exit::Ok)
}

/// The instant of a query. The account is checked first: an unknown account wins over an
/// unreadable instant (docs/spec.md §9).
fn instant(engine: &Engine, account: &str, at: Option<&str>) -> Result<Option<Instant>, Failure> {
    let Some(text) = at else {
        return Ok(None);
    };
    if !engine.has_account(account) {
        return Err(QueryError::UnknownAccount(account.to_string()).into());
    }
    Ok(Some(engine.parse_instant(text)?))
}

/// The request of `quote` and `explain`. A quantity that is not a decimal is reported only
/// after everything that precedes it in docs/spec.md §9 (account, instant, currency, product)
/// has been found valid, as the engine would order it.
fn line_request<'a>(engine: &Engine, args: &'a LineArgs) -> Result<QuoteRequest<'a>, Failure> {
    let at = instant(engine, &args.account, args.when.at.as_deref())?;
    let qty = match args.qty.parse::<Decimal>() {
        Ok(qty) => qty,
        Err(_) => {
            if !engine.has_account(&args.account) {
                return Err(QueryError::UnknownAccount(args.account.clone()).into());
            }
            if let Some(currency) = args.currency.as_deref() {
                if !engine.currencies().any(|c| c == currency) {
                    return Err(QueryError::UnknownCurrency(currency.to_string()).into());
                }
            }
            // Lookup answers UNKNOWN_PRODUCT exactly when a quote would, visibility included.
            engine.lookup_at(
                &args.account,
                &args.reference,
                at.unwrap_or_else(Instant::now),
            )?;
            return Err(QueryError::InvalidQuantity(args.qty.clone()).into());
        }
    };
    let mut request = QuoteRequest::new(&args.account, &args.reference, qty);
    if let Some(at) = at {
        request = request.at(at);
    }
    if let Some(currency) = args.currency.as_deref() {
        request = request.currency(currency);
    }
    Ok(request)
}

fn search_query(args: &SearchArgs) -> Result<SearchQuery, Failure> {
    let mut query = SearchQuery::new()
        .capability(match args.capability {
            CapabilityArg::See => Capability::See,
            CapabilityArg::Price => Capability::Price,
            CapabilityArg::Buy => Capability::Buy,
        })
        .page(args.offset, args.limit)
        .group_variants(args.group_variants);
    if let Some(text) = &args.text {
        query = query.text(text);
    }
    for attr in &args.attrs {
        let (name, values) = attr.split_once('=').ok_or_else(|| {
            Failure::Usage(format!(
                "invalid attribute filter `{attr}`: expected NAME=VALUE[,VALUE…]"
            ))
        })?;
        query = query.filter(Filter::any_of(name, values.split(',')));
    }
    for (values, filter) in [
        (
            &args.category,
            Filter::Category as fn(Vec<String>) -> Filter,
        ),
        (&args.brand, Filter::Brand),
        (&args.family, Filter::Family),
    ] {
        if !values.is_empty() {
            query = query.filter(filter(values.clone()));
        }
    }
    for facet in &args.facets {
        query = query.facet(match facet.as_str() {
            "category" => Facet::Category,
            "brand" => Facet::Brand,
            "family" => Facet::Family,
            "in_stock" => Facet::InStock,
            name => Facet::attr(name),
        });
    }
    if let Some(qty) = &args.price_qty {
        let qty = qty
            .parse::<Decimal>()
            .map_err(|_| QueryError::InvalidQuantity(qty.clone()))?;
        query = query.prices(qty);
    }
    if let Some(currency) = &args.currency {
        query = query.currency(currency);
    }
    if let Some(after) = &args.after {
        let cursor = after
            .parse::<Cursor>()
            .map_err(|e| Failure::Usage(e.to_string()))?;
        query = query.after(cursor);
    }
    Ok(query)
}
