//! Metamorphic properties: relations between answers that hold whatever the rules say.

mod common;

use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use tarif::{BatchAt, Engine, QuoteRequest, Status};

fn engine(doc: &Value) -> Engine {
    Engine::from_json(&doc.to_string()).expect("generated documents compile")
}

type Row = (String, String, Decimal, tarif::Instant, Option<String>);

fn requests(engine: &Engine, seed: u64, n: usize) -> Vec<Row> {
    let mut rng = common::Rng::new(seed ^ 0xABCD);
    (0..n)
        .map(|_| {
            let (a, r, q, at, c) = common::request(&mut rng);
            (
                a,
                r,
                q.parse().unwrap(),
                engine.parse_instant(&at).unwrap(),
                c,
            )
        })
        .collect()
}

fn answer(engine: &Engine, row: &Row) -> Result<(String, String, Vec<String>), &'static str> {
    let (a, r, q, at, c) = row;
    let mut req = QuoteRequest::new(a, r, *q).at(*at);
    if let Some(c) = c {
        req = req.currency(c);
    }
    engine
        .quote(&req)
        .map(|q| {
            (
                q.unit_price.to_string(),
                q.line_total.to_string(),
                q.steps.iter().map(|s| s.rule.to_string()).collect(),
            )
        })
        .map_err(|e| e.code())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 60, failure_persistence: None, ..ProptestConfig::default() })]

    /// Adding a rule that cannot match (validity in the past, unknown-to-everyone audience
    /// member, or a selector matching nothing) changes no answer.
    #[test]
    fn a_rule_that_cannot_match_changes_nothing(seed in any::<u64>(), kind in 0u8..3) {
        let doc = common::document(seed);
        let before = engine(&doc);
        let mut changed = doc.clone();
        let rule = match kind {
            0 => json!({"id": "never", "step": "base", "products": "all", "price": "0.01", "priority": 99, "exclusive": true,
                        "valid": {"from": "1990-01-01", "until": "1990-01-02"}}),
            1 => json!({"id": "never", "step": "discount", "products": {"attr": {"key": "volt", "eq": 999}}, "percent": "-99"}),
            _ => json!({"id": "never", "step": "base", "products": "all", "price": "0.01", "min_qty": 100000}),
        };
        changed["contracts"].as_array_mut().unwrap().push(json!({"id": "noop", "audience": "all", "currency": "EUR", "rules": [rule]}));
        let after = engine(&changed);
        for row in requests(&before, seed, 40) {
            prop_assert_eq!(answer(&before, &row), answer(&after, &row), "seed {}", seed);
        }
    }

    /// A batch answers exactly what row-by-row quotes answer.
    #[test]
    fn batch_equals_row_by_row(seed in any::<u64>()) {
        let engine = engine(&common::document(seed));
        let rows = requests(&engine, seed, 200);
        let accounts: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        let refs: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
        let qtys: Vec<Decimal> = rows.iter().map(|r| r.2).collect();
        let ats: Vec<tarif::Instant> = rows.iter().map(|r| r.3).collect();
        let batch = engine.quote_many(&accounts, &refs, &qtys, BatchAt::PerRow(&ats), None).unwrap();
        for (i, row) in rows.iter().enumerate() {
            let single = answer(&engine, &(row.0.clone(), row.1.clone(), row.2, row.3, None));
            match single {
                Ok((unit, line, _)) => {
                    prop_assert_eq!(batch.status[i], Status::Ok);
                    prop_assert_eq!(batch.unit_price[i].to_string(), unit);
                    prop_assert_eq!(batch.line_total[i].to_string(), line);
                    let quote = engine
                        .quote(&QuoteRequest::new(&row.0, &row.1, row.2).at(row.3))
                        .unwrap();
                    prop_assert_eq!(batch.buyable[i], quote.buyable);
                }
                Err(code) => prop_assert_eq!(batch.status[i].code(), code),
            }
        }
    }

    /// The detailed batch has the plain batch's statuses and amounts, and each detail column
    /// says what the row's quote says: its product, the rule of its last step, base and list
    /// price.
    #[test]
    fn detailed_batch_equals_row_by_row(seed in any::<u64>()) {
        let engine = engine(&common::document(seed));
        let rows = requests(&engine, seed, 120);
        let accounts: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        let refs: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
        let qtys: Vec<Decimal> = rows.iter().map(|r| r.2).collect();
        let ats: Vec<tarif::Instant> = rows.iter().map(|r| r.3).collect();
        let plain = engine.quote_many(&accounts, &refs, &qtys, BatchAt::PerRow(&ats), None).unwrap();
        let (batch, detail) = engine.quote_many_detailed(&accounts, &refs, &qtys, BatchAt::PerRow(&ats), None).unwrap();
        prop_assert_eq!(&batch, &plain);
        for (i, row) in rows.iter().enumerate() {
            match engine.quote(&QuoteRequest::new(&row.0, &row.1, row.2).at(row.3)) {
                Ok(quote) => {
                    prop_assert_eq!(detail.sku[i], Some(quote.sku));
                    prop_assert_eq!(detail.rule[i], quote.steps.last().map(|s| s.rule));
                    prop_assert_eq!(detail.base_price[i], Some(quote.base_price));
                    prop_assert_eq!(detail.list_price[i], quote.list_price);
                }
                Err(_) => {
                    prop_assert_eq!(detail.rule[i], None);
                    prop_assert_eq!(detail.base_price[i], None);
                }
            }
        }
    }

    /// A product the account may not see never gets a price, and is indistinguishable from an
    /// unknown reference.
    #[test]
    fn a_hidden_product_never_gets_a_price(seed in any::<u64>()) {
        let engine = engine(&common::document(seed));
        for row in requests(&engine, seed, 60) {
            let caps = engine.visibility(&row.0, &row.1, Some(row.3));
            if let Ok(caps) = caps {
                let quoted = answer(&engine, &row);
                if !caps.see {
                    prop_assert_eq!(quoted, Err("UNKNOWN_PRODUCT"));
                    prop_assert_eq!(engine.lookup_at(&row.0, &row.1, row.3).map_err(|e| e.code()), Err("UNKNOWN_PRODUCT"));
                } else if !caps.price {
                    prop_assert!(matches!(quoted, Err("PRICE_HIDDEN") | Err("QUANTITY_RULE") | Err("INVALID_QUANTITY")));
                }
            }
        }
    }

    /// The same rules, however formatted, give the same engine version and answers.
    #[test]
    fn formatting_does_not_change_the_version(seed in any::<u64>()) {
        let doc = common::document(seed);
        let compact = Engine::from_json(&doc.to_string()).unwrap();
        let pretty = Engine::from_json(&serde_json::to_string_pretty(&doc).unwrap()).unwrap();
        prop_assert_eq!(compact.engine_version(), pretty.engine_version());
    }
}

/// The batch result does not depend on the number of threads.
#[test]
fn batch_is_deterministic_across_thread_counts() {
    let engine = engine(&common::document(42));
    let rows = requests(&engine, 42, 20_000);
    let accounts: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let refs: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    let qtys: Vec<Decimal> = rows.iter().map(|r| r.2).collect();
    let at = BatchAt::One(rows[0].3);
    let run = |threads: usize| {
        rayon_pool(threads).install(|| {
            engine
                .quote_many(&accounts, &refs, &qtys, at, None)
                .unwrap()
        })
    };
    assert_eq!(run(1), run(2));
    assert_eq!(run(1), run(4));
}

fn rayon_pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}
