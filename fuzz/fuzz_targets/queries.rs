//! Arbitrary strings and decimals against compiled fixture documents: every query answers or
//! fails with a coded error, never panics, and answers the same twice.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tarif::{BatchAt, Decimal, Engine, Filter, Instant, QuoteRequest, SearchQuery, Status};

const DOCUMENTS: [&str; 5] = [
    include_str!("../../tests/fixtures/pricing/tiers.json"),
    include_str!("../../tests/fixtures/pricing/audiences.json"),
    include_str!("../../tests/fixtures/lookup/hidden_shadowing.json"),
    include_str!("../../tests/fixtures/search/catalog.json"),
    include_str!("../../tests/fixtures/rounding/overflow.json"),
];

fn engines() -> &'static Vec<Engine> {
    static ENGINES: OnceLock<Vec<Engine>> = OnceLock::new();
    ENGINES.get_or_init(|| {
        DOCUMENTS
            .iter()
            .filter_map(|text| {
                let fixture: serde_json::Value = serde_json::from_str(text).ok()?;
                Engine::from_json(&fixture.get("document")?.to_string()).ok()
            })
            .collect()
    })
}

#[derive(Debug, Arbitrary)]
struct Query {
    document: u8,
    /// Pick a real account / SKU of the document (by index) or use the text as given.
    account: Result<u8, String>,
    reference: Result<u8, String>,
    qty_mantissa: i128,
    qty_scale: u8,
    at_seconds: Option<i64>,
    currency: Option<String>,
    text: Option<String>,
    filter_attr: Option<(String, Vec<String>)>,
    offset: u16,
    limit: u8,
}

fuzz_target!(|q: Query| {
    let engines = engines();
    let Some(engine) = engines.get(usize::from(q.document) % engines.len().max(1)) else {
        return;
    };
    let pick = |choice: &Result<u8, String>, list: Vec<&str>| match choice {
        Ok(i) => list
            .get(usize::from(*i) % list.len().max(1))
            .map_or_else(String::new, |s| s.to_string()),
        Err(text) => text.clone(),
    };
    let account = pick(&q.account, engine.accounts().collect());
    let reference = pick(&q.reference, engine.skus().collect());
    let qty = Decimal::try_from_i128_with_scale(q.qty_mantissa >> 32, u32::from(q.qty_scale % 29))
        .unwrap_or(Decimal::ONE);
    let at = q.at_seconds.map(|s| Instant::from_unix_seconds(s % 10_000_000_000));
    let mut request = QuoteRequest::new(&account, &reference, qty);
    request.at = at;
    request.currency = q.currency.as_deref();

    let first = engine.quote(&request).map(|quote| quote.line_total);
    let again = engine.quote(&request).map(|quote| quote.line_total);
    assert_eq!(
        first.as_ref().map_err(|e| e.code()),
        again.as_ref().map_err(|e| e.code())
    );
    let _ = engine.explain(&request);
    let _ = engine.visibility(&account, &reference, at);
    let _ = engine.lookup(&account, &reference);

    let mut query = SearchQuery::new();
    query.text = q.text;
    if let Some((name, any_of)) = q.filter_attr {
        query = query.filter(Filter::Attr { name, any_of });
    }
    query.offset = usize::from(q.offset);
    query.limit = usize::from(q.limit);
    let _ = engine.search(&account, &query, at);

    let batch = engine.quote_many(
        &[account.as_str()],
        &[reference.as_str()],
        &[qty],
        at.map_or(BatchAt::Now, BatchAt::One),
        q.currency.as_deref(),
    );
    if let (Ok(batch), Ok(line), Some(_)) = (batch, first, at) {
        assert_eq!(batch.status.first(), Some(&Status::Ok), "batch fails a row quote prices");
        assert_eq!(batch.line_total.first(), Some(&line), "batch differs from quote");
    }
});
