//! Structure-aware documents: an arbitrary catalog, hierarchy, price lists and contracts that
//! mostly compile, so that the fuzzer spends its time in pricing and visibility rather than in
//! the parser. Every (account, product, quantity) is then quoted: no panic, the same answer
//! twice, and the batch equal to the row-by-row quotes.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use tarif::{BatchAt, Decimal, Engine, Instant, QuoteRequest, Status};

#[derive(Debug, Arbitrary)]
struct Doc {
    closed: bool,
    categories: Vec<Option<u8>>,
    products: Vec<Product>,
    lists: Vec<List>,
    segments: Vec<Vec<u8>>,
    accounts: Vec<Account>,
    contracts: Vec<Contract>,
}

#[derive(Debug, Arbitrary)]
struct Product {
    category: Option<u8>,
    brand: Option<u8>,
    family: Option<u8>,
    ean: Option<u8>,
    cost: Option<Amount>,
    multiple: Option<Amount>,
}

#[derive(Debug, Arbitrary)]
struct Amount {
    mantissa: u32,
    scale: u8,
}

impl Amount {
    fn text(&self) -> String {
        Decimal::new(i64::from(self.mantissa), u32::from(self.scale % 6)).to_string()
    }
}

#[derive(Debug, Arbitrary)]
struct List {
    usd: bool,
    net: bool,
    graduated: bool,
    derived: Option<(u8, i8)>,
    entries: Vec<(u8, Amount, Vec<(u8, Amount)>)>,
}

#[derive(Debug, Arbitrary)]
struct Account {
    parent: Option<u8>,
    segments: Vec<u8>,
    lists: Vec<u8>,
    alias: Option<(u8, u8)>,
}

#[derive(Debug, Arbitrary)]
struct Contract {
    audience: Audience,
    from_day: Option<u8>,
    until_day: Option<u8>,
    priority: i8,
    visibility: Vec<(bool, Selector, u8)>,
    rules: Vec<Rule>,
}

#[derive(Debug, Arbitrary)]
enum Audience {
    All,
    Accounts(Vec<u8>),
    Segments(Vec<u8>),
}

#[derive(Debug, Arbitrary)]
enum Selector {
    All,
    Sku(u8),
    Category(u8),
    Brand(u8),
    Family(u8),
}

#[derive(Debug, Arbitrary)]
struct Rule {
    step: u8,
    selector: Selector,
    action: Action,
    min_qty: Option<u8>,
    max_qty: Option<u8>,
    exclusive: bool,
    priority: i8,
}

#[derive(Debug, Arbitrary)]
enum Action {
    Price(Amount, Vec<(u8, Amount)>, bool),
    Percent(i8, Vec<(u8, i8)>),
    Amount(i16),
    FromList(u8, Option<i8>),
    Bounds(Option<Amount>, Option<Amount>, Option<u8>),
    RoundTo(u8),
}

const STEPS: [&str; 4] = ["base", "discount", "surcharge", "bounds"];
const AT_DAYS: [i64; 3] = [20_454, 20_500, 20_800];

fn at<T>(list: &[T], i: u8) -> usize {
    usize::from(i) % list.len().max(1)
}

fn selector(s: &Selector, doc: &Doc) -> Value {
    match s {
        Selector::All => json!("all"),
        Selector::Sku(i) => json!({"sku": format!("P{}", at(&doc.products, *i))}),
        Selector::Category(i) => json!({"category": format!("C{}", at(&doc.categories, *i))}),
        Selector::Brand(i) => json!({"brand": format!("B{}", i % 3)}),
        Selector::Family(i) => json!({"family": format!("F{}", i % 3)}),
    }
}

fn tiers(list: &[(u8, Amount)]) -> Vec<Value> {
    let mut min = 1u32;
    list.iter()
        .take(3)
        .map(|(step, price)| {
            min += u32::from(*step % 20) + 1;
            json!({"min_qty": min, "price": price.text()})
        })
        .collect()
}

fn document(doc: &Doc) -> Value {
    let day = |d: u8| format!("2026-{:02}-{:02}", d % 12 + 1, d % 28 + 1);
    let categories: Vec<Value> = doc
        .categories
        .iter()
        .enumerate()
        .take(6)
        .map(|(i, parent)| match parent {
            // Parents point backwards: a tree, no cycle.
            Some(p) if i > 0 => json!({"id": format!("C{i}"), "parent": format!("C{}", usize::from(*p) % i)}),
            _ => json!({"id": format!("C{i}")}),
        })
        .collect();
    let products: Vec<Value> = doc
        .products
        .iter()
        .enumerate()
        .take(8)
        .map(|(i, p)| {
            let mut v = json!({"sku": format!("P{i}")});
            if let (Some(c), false) = (p.category, categories.is_empty()) {
                v["categories"] = json!([format!("C{}", at(&categories, c))]);
            }
            if let Some(b) = p.brand {
                v["brand"] = json!(format!("B{}", b % 3));
            }
            if let Some(f) = p.family {
                v["family"] = json!(format!("F{}", f % 3));
            }
            if let Some(e) = p.ean {
                v["ean"] = json!(format!("340123456789{}", e % 4));
            }
            if let Some(c) = &p.cost {
                v["cost"] = json!(c.text());
            }
            if let Some(m) = p.multiple.as_ref().filter(|m| m.mantissa > 0) {
                v["order"] = json!({"multiple": m.text()});
            }
            v
        })
        .collect();
    let lists: Vec<Value> = doc
        .lists
        .iter()
        .enumerate()
        .take(4)
        .map(|(i, l)| {
            let mut v = json!({
                "id": format!("L{i}"),
                "currency": if l.usd { "USD" } else { "EUR" },
                "net": l.net,
                "prices": l.entries.iter().take(8).map(|(p, price, t)| {
                    let mut e = json!({"sku": format!("P{}", at(&products, *p)), "price": price.text()});
                    let t = tiers(t);
                    if !t.is_empty() {
                        e["tiers"] = json!(t);
                    }
                    e
                }).collect::<Vec<_>>(),
            });
            if l.graduated {
                v["tier_mode"] = json!("graduated");
            }
            if let Some((from, pct)) = l.derived {
                let from = usize::from(from) % (i + 1);
                if from < i {
                    v["from_list"] = json!(format!("L{from}"));
                    v["percent"] = json!((pct % 50).to_string());
                }
            }
            v
        })
        .collect();
    let segments: Vec<Value> = doc
        .segments
        .iter()
        .enumerate()
        .take(3)
        .map(|(i, ls)| {
            json!({"id": format!("S{i}"), "price_lists": ls.iter().take(2).map(|l| format!("L{}", at(&lists, *l))).collect::<Vec<_>>()})
        })
        .collect();
    let accounts: Vec<Value> = doc
        .accounts
        .iter()
        .enumerate()
        .take(5)
        .map(|(i, a)| {
            let mut v = json!({"id": format!("A{i}")});
            if let Some(p) = a.parent.filter(|_| i > 0) {
                v["parent"] = json!(format!("A{}", usize::from(p) % i));
            }
            if !segments.is_empty() {
                v["segments"] = json!(a.segments.iter().take(2).map(|s| format!("S{}", at(&segments, *s))).collect::<Vec<_>>());
            }
            if !lists.is_empty() {
                v["price_lists"] = json!(a.lists.iter().take(2).map(|l| format!("L{}", at(&lists, *l))).collect::<Vec<_>>());
            }
            if let Some((alias, p)) = a.alias {
                v["aliases"] = json!({format!("X{}", alias % 3): format!("P{}", at(&products, p))});
            }
            v
        })
        .collect();
    let contracts: Vec<Value> = doc
        .contracts
        .iter()
        .enumerate()
        .take(4)
        .map(|(i, c)| {
            let audience = match &c.audience {
                Audience::All => json!("all"),
                Audience::Accounts(ids) if !accounts.is_empty() => json!({"accounts": ids.iter().take(2).map(|a| format!("A{}", at(&accounts, *a))).collect::<Vec<_>>()}),
                Audience::Segments(ids) if !segments.is_empty() => json!({"segments": ids.iter().take(2).map(|s| format!("S{}", at(&segments, *s))).collect::<Vec<_>>()}),
                _ => json!("all"),
            };
            let mut valid = json!({});
            if let Some(d) = c.from_day {
                valid["from"] = json!(day(d));
            }
            if let Some(d) = c.until_day {
                valid["until"] = json!(format!("2027-{:02}-01", d % 12 + 1));
            }
            let rules: Vec<Value> = c.rules.iter().take(6).enumerate().map(|(k, r)| {
                let step = STEPS[usize::from(r.step) % STEPS.len()];
                let mut v = json!({"id": format!("r{k}"), "step": step, "products": selector(&r.selector, doc), "priority": r.priority});
                match &r.action {
                    Action::Price(p, t, never_raise) => {
                        v["price"] = json!(p.text());
                        let t = tiers(t);
                        if !t.is_empty() { v["tiers"] = json!(t); }
                        if *never_raise { v["price_mode"] = json!("never_raise"); }
                    }
                    Action::Percent(p, t) => {
                        v["percent"] = json!((p % 100).to_string());
                        let mut min = 1u32;
                        let t: Vec<Value> = t.iter().take(3).map(|(s, p)| { min += u32::from(*s % 20) + 1; json!({"min_qty": min, "percent": (p % 100).to_string()}) }).collect();
                        if !t.is_empty() { v["tiers"] = json!(t); }
                    }
                    Action::Amount(a) => v["amount"] = json!(Decimal::new(i64::from(*a), 2).to_string()),
                    Action::FromList(l, pct) if !lists.is_empty() => {
                        v["from_list"] = json!(format!("L{}", at(&lists, *l)));
                        if let Some(p) = pct { v["percent"] = json!((p % 100).to_string()); }
                    }
                    Action::Bounds(min, max, margin) => {
                        if let Some(m) = min { v["min_price"] = json!(m.text()); }
                        if let Some(m) = max { v["max_price"] = json!(m.text()); }
                        if let Some(m) = margin { v["min_margin_pct"] = json!((m % 60).to_string()); }
                        if min.is_none() && max.is_none() && margin.is_none() { v["min_price"] = json!("0"); }
                    }
                    Action::RoundTo(e) => v["round_to"] = json!({"ending": format!("0.{:02}", e % 100)}),
                    Action::FromList(..) => v["percent"] = json!("-1"),
                }
                if let Some(m) = r.min_qty { v["min_qty"] = json!(m % 50 + 1); }
                if let Some(m) = r.max_qty { v["max_qty"] = json!(u32::from(m % 50) + 50); }
                if r.exclusive { v["exclusive"] = json!(true); }
                v
            }).collect();
            let visibility: Vec<Value> = c.visibility.iter().take(3).map(|(allow, s, caps)| {
                let caps: Vec<&str> = ["see", "price", "buy"].into_iter().enumerate().filter(|(b, _)| caps & (1 << b) != 0).map(|(_, c)| c).collect();
                let mut v = json!({"effect": if *allow { "allow" } else { "deny" }, "products": selector(s, doc)});
                if !caps.is_empty() { v["capabilities"] = json!(caps); }
                v
            }).collect();
            json!({"id": format!("K{i}"), "audience": audience, "valid": valid, "priority": c.priority,
                   "currency": "EUR", "rules": rules, "visibility": visibility})
        })
        .collect();
    json!({
        "format": "tarif/1",
        "settings": {"default_visibility": if doc.closed { "closed" } else { "open" },
                     "default_price_lists": if lists.is_empty() { json!([]) } else { json!(["L0"]) }},
        "currencies": [{"code": "EUR"}, {"code": "USD"}],
        "categories": categories,
        "products": products,
        "price_lists": lists,
        "segments": segments,
        "accounts": accounts,
        "contracts": contracts,
    })
}

fuzz_target!(|doc: Doc| {
    let text = document(&doc).to_string();
    let Ok(engine) = Engine::from_json(&text) else {
        return;
    };
    let accounts: Vec<String> = engine.accounts().map(str::to_string).collect();
    let skus: Vec<String> = engine.skus().map(str::to_string).collect();
    let qtys: Vec<Decimal> = ["1", "2.5", "10", "33", "100"]
        .iter()
        .filter_map(|q| q.parse().ok())
        .collect();
    for day in AT_DAYS {
        let at = Instant::from_unix_seconds(day * 86_400);
        let (mut rows_a, mut rows_r, mut rows_q) = (Vec::new(), Vec::new(), Vec::new());
        let mut expected = Vec::new();
        for account in &accounts {
            for sku in &skus {
                for &qty in &qtys {
                    let request = QuoteRequest::new(account, sku, qty).at(at);
                    let quote = engine.quote(&request).map(|q| (q.unit_price, q.line_total));
                    let again = engine.quote(&request).map(|q| (q.unit_price, q.line_total));
                    assert_eq!(quote.as_ref().map_err(|e| e.code()), again.as_ref().map_err(|e| e.code()));
                    let _ = engine.explain(&request);
                    rows_a.push(account.as_str());
                    rows_r.push(sku.as_str());
                    rows_q.push(qty);
                    expected.push(quote.map_err(|e| e.status()));
                }
            }
        }
        let Ok(batch) = engine.quote_many(&rows_a, &rows_r, &rows_q, BatchAt::One(at), None) else {
            continue;
        };
        for (row, want) in expected.iter().enumerate() {
            let status = batch.status.get(row).copied();
            match want {
                Ok((unit, line)) => {
                    assert_eq!(status, Some(Status::Ok), "row {row}");
                    assert_eq!(batch.unit_price.get(row), Some(unit), "row {row}");
                    assert_eq!(batch.line_total.get(row), Some(line), "row {row}");
                }
                Err(code) => assert_eq!(status, Some(*code), "row {row}"),
            }
        }
    }
});
