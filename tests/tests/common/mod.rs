//! Random valid `tarif/1` documents and requests, shared by the differential and metamorphic
//! suites. Generated from a seed so a failure names the seed that reproduces it.

#![allow(dead_code)]

pub mod changes;

use serde_json::{json, Value};

/// A small deterministic generator (splitmix64): the suites need reproducible variety, not
/// statistical quality.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A money string with 0–3 decimals.
    pub fn money(&mut self, max: u64) -> String {
        let whole = self.below(max) + 1;
        match self.below(4) {
            0 => format!("{whole}"),
            1 => format!("{whole}.{}", self.below(10)),
            2 => format!("{whole}.{:02}", self.below(100)),
            _ => format!("{whole}.{:03}", self.below(1000)),
        }
    }

    pub fn percent(&mut self) -> String {
        let v = self.below(40) as i64 - 30;
        if self.chance(30) {
            format!("{v}.5")
        } else {
            format!("{v}")
        }
    }
}

pub const SKUS: [&str; 8] = ["P0", "P1", "P2", "P3", "P4", "P5", "P6", "P7"];
pub const ACCOUNTS: [&str; 5] = ["A", "A1", "A2", "B", "C"];
pub const INSTANTS: [&str; 4] = [
    "2025-06-01T00:00:00Z",
    "2026-01-01T00:00:00Z",
    "2026-03-15T12:00:00Z",
    "2027-01-01T00:00:00Z",
];
const DATES: [&str; 4] = [
    "2025-01-01",
    "2026-01-01",
    "2026-03-15T12:00:00Z",
    "2026-07-01",
];
const CATEGORIES: [&str; 4] = ["root", "mid", "leaf", "other"];
const BRANDS: [&str; 3] = ["Acme", "Bolt", "Crux"];
const FAMILIES: [&str; 2] = ["F1", "F2"];
const VOLTS: [u64; 3] = [12, 18, 36];
const COLORS: [&str; 3] = ["red", "blue", "green"];
const LISTS: [&str; 5] = ["pub", "seg-s1", "acct-a", "net-b", "derived"];

fn selector(rng: &mut Rng) -> Value {
    match rng.below(9) {
        0 => json!("all"),
        1 | 2 => json!({"sku": rng.pick(&SKUS)}),
        3 => json!({"skus": [rng.pick(&SKUS), rng.pick(&SKUS)]}),
        4 => json!({"family": rng.pick(&FAMILIES)}),
        5 => json!({"category": rng.pick(&CATEGORIES)}),
        6 => json!({"brand": rng.pick(&BRANDS)}),
        7 => match rng.below(3) {
            0 => json!({"attr": {"key": "volt", "eq": *rng.pick(&[12, 18, 36])}}),
            1 => json!({"attr": {"key": "color", "in": ["red", "blue"]}}),
            _ => json!({"attr": {"key": "volt", "min": 15}}),
        },
        _ => json!({"all_of": [{"category": rng.pick(&CATEGORIES)}, {"brand": rng.pick(&BRANDS)}]}),
    }
}

fn validity(rng: &mut Rng) -> Option<Value> {
    if !rng.chance(30) {
        return None;
    }
    let a = rng.below(DATES.len() as u64) as usize;
    let b = rng.below(DATES.len() as u64) as usize;
    let (lo, hi) = (a.min(b), a.max(b));
    Some(match rng.below(3) {
        0 => json!({"from": DATES[lo]}),
        1 => json!({"until": DATES[hi]}),
        _ if lo < hi => json!({"from": DATES[lo], "until": DATES[hi]}),
        _ => json!({"from": DATES[lo]}),
    })
}

fn tiers(rng: &mut Rng, key: &str, value: &mut dyn FnMut(&mut Rng) -> String) -> Value {
    let mut thresholds: Vec<u64> = (0..rng.below(3) + 1).map(|_| rng.below(30) + 2).collect();
    thresholds.sort_unstable();
    thresholds.dedup();
    Value::Array(
        thresholds
            .into_iter()
            .map(|t| json!({"min_qty": t, key: value(rng)}))
            .collect(),
    )
}

fn put(obj: &mut Value, key: &str, value: Value) {
    if let Value::Object(map) = obj {
        map.insert(key.to_string(), value);
    }
}

fn rule(rng: &mut Rng, id: usize, steps: &[&str]) -> Value {
    let mut r = json!({"id": format!("r{id}"), "step": rng.pick(steps), "products": selector(rng)});
    let first_step = r["step"] == steps[0];
    match rng.below(if first_step { 3 } else { 8 }) {
        0 | 1 => {
            put(&mut r, "price", json!(rng.money(200)));
            if rng.chance(20) {
                put(&mut r, "price_mode", json!("never_raise"));
            }
            if rng.chance(25) {
                put(&mut r, "tiers", tiers(rng, "price", &mut |g| g.money(150)));
                if rng.chance(40) {
                    put(&mut r, "tier_mode", json!("graduated"));
                }
            }
        }
        2 => {
            put(&mut r, "from_list", json!("pub"));
            if rng.chance(50) {
                put(&mut r, "percent", json!(rng.percent()));
            }
        }
        3 | 4 => {
            put(&mut r, "percent", json!(rng.percent()));
            if rng.chance(25) {
                put(&mut r, "of", json!("base"));
            }
            if rng.chance(25) {
                put(&mut r, "tiers", tiers(rng, "percent", &mut |g| g.percent()));
                if rng.chance(30) {
                    put(&mut r, "tier_mode", json!("graduated"));
                }
            }
        }
        5 => {
            let sign = if rng.chance(60) { "-" } else { "" };
            put(&mut r, "amount", json!(format!("{sign}{}", rng.money(40))));
        }
        6 => {
            let keys = [
                "min_price",
                "max_price",
                "min_margin_pct",
                "max_discount_pct",
                "min_over_base",
                "max_over_base",
            ];
            for _ in 0..rng.below(2) + 1 {
                let key = *rng.pick(&keys);
                let v = if key.ends_with("pct") {
                    format!("{}", rng.below(30))
                } else {
                    rng.money(100)
                };
                put(&mut r, key, json!(v));
            }
        }
        _ => {
            if rng.chance(50) {
                put(
                    &mut r,
                    "round_to",
                    json!(rng.pick(&["0.05", "0.10", "1", "0.5"])),
                );
            } else {
                put(
                    &mut r,
                    "round_to",
                    json!({"ending": rng.pick(&["0.99", "0.95", "0"]), "mode": rng.pick(&["half_up", "down", "up"])}),
                );
            }
        }
    }
    if rng.chance(20) {
        put(&mut r, "priority", json!(rng.below(3)));
    }
    if let Some(v) = validity(rng) {
        put(&mut r, "valid", v);
    }
    if rng.chance(15) {
        put(&mut r, "min_qty", json!(rng.below(10) + 1));
    }
    if rng.chance(10) {
        put(&mut r, "max_qty", json!(rng.below(20) + 20));
    }
    if rng.chance(12) {
        put(&mut r, "exclusive", json!(true));
    }
    if rng.chance(8) {
        put(
            &mut r,
            "rounding",
            json!({"mode": rng.pick(&["half_even", "down", "up", "half_down"]), "stage": rng.pick(&["unit", "line"])}),
        );
    }
    r
}

/// A random valid document.
pub fn document(seed: u64) -> Value {
    let mut rng = Rng::new(seed);
    let selects = ["most_specific", "priority", "lowest", "all", "best"];
    let step_names = ["base", "discount", "surcharge", "bounds"];
    let procedure: Vec<Value> = step_names
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let select = if rng.chance(50) {
                "most_specific"
            } else {
                *rng.pick(&selects)
            };
            json!({"step": s, "select": select, "always": i == 3})
        })
        .collect();
    let products: Vec<Value> = SKUS
        .iter()
        .enumerate()
        .map(|(i, sku)| {
            let mut p = json!({
                "sku": sku,
                "ean": format!("400000000{i:04}"),
                "mpn": format!("m-{i}"),
                "categories": [CATEGORIES[i % 4]],
                "brand": BRANDS[i % 3],
                "attrs": {"volt": VOLTS[i % 3], "color": COLORS[i % 3]}
            });
            if i % 3 != 2 {
                put(&mut p, "family", json!(FAMILIES[i % 2]));
            }
            if rng.chance(60) {
                put(&mut p, "cost", json!(rng.money(80)));
            }
            if rng.chance(10) {
                put(&mut p, "order", json!({"min": 2, "multiple": 2}));
            }
            p
        })
        .collect();
    let entries = |rng: &mut Rng, share: u64| -> Vec<Value> {
        let chosen: Vec<&str> = SKUS.iter().copied().filter(|_| rng.chance(share)).collect();
        chosen
            .into_iter()
            .map(|sku| {
                let mut e = json!({"sku": sku, "price": rng.money(150)});
                if rng.chance(20) {
                    put(&mut e, "tiers", tiers(rng, "price", &mut |g| g.money(150)));
                    if rng.chance(40) {
                        put(&mut e, "tier_mode", json!("graduated"));
                    }
                }
                if let Some(v) = validity(rng) {
                    put(&mut e, "valid", v);
                }
                if rng.chance(10) {
                    put(&mut e, "priority", json!(rng.below(3)));
                }
                e
            })
            .collect()
    };
    let currency = |rng: &mut Rng| if rng.chance(85) { "EUR" } else { "JPY" };
    let mut price_lists = vec![
        json!({"id": LISTS[0], "currency": "EUR", "prices": entries(&mut rng, 80)}),
        json!({"id": LISTS[1], "currency": currency(&mut rng), "prices": entries(&mut rng, 40)}),
        json!({"id": LISTS[2], "currency": "EUR", "prices": entries(&mut rng, 30)}),
        json!({"id": LISTS[3], "currency": "EUR", "net": true, "prices": entries(&mut rng, 30)}),
        json!({"id": LISTS[4], "currency": "EUR", "from_list": "pub", "percent": rng.percent(), "prices": entries(&mut rng, 15)}),
    ];
    if rng.chance(30) {
        put(
            &mut price_lists[1],
            "rounding",
            json!({"mode": "half_even"}),
        );
    }
    if let Some(v) = validity(&mut rng) {
        put(&mut price_lists[2], "valid", v);
    }
    let contracts: Vec<Value> = (0..rng.below(4) + 1)
        .map(|c| {
            let audience = match rng.below(4) {
                0 => json!("all"),
                1 => json!({"segments": [rng.pick(&["s1", "s2"])]}),
                2 => json!({"accounts": [rng.pick(&ACCOUNTS)]}),
                _ => json!({"accounts": [rng.pick(&ACCOUNTS)], "segments": ["s2"]}),
            };
            let rules: Vec<Value> = (0..rng.below(5) + 1).map(|k| rule(&mut rng, k as usize, &step_names)).collect();
            let visibility: Vec<Value> = (0..rng.below(3))
                .map(|_| {
                    let mut v = json!({"effect": rng.pick(&["allow", "deny"]), "products": selector(&mut rng)});
                    if rng.chance(60) {
                        const CAPS: [&[&str]; 4] = [&["see"], &["price"], &["buy"], &["price", "buy"]];
                        let caps = CAPS[rng.below(CAPS.len() as u64) as usize];
                        put(&mut v, "capabilities", json!(caps));
                    }
                    if let Some(valid) = validity(&mut rng) {
                        put(&mut v, "valid", valid);
                    }
                    v
                })
                .collect();
            let mut contract = json!({"id": format!("c{c}"), "audience": audience, "currency": "EUR", "rules": rules, "visibility": visibility});
            if rng.chance(30) {
                put(&mut contract, "priority", json!(rng.below(5)));
            }
            if let Some(v) = validity(&mut rng) {
                put(&mut contract, "valid", v);
            }
            if rng.chance(10) {
                put(&mut contract, "rounding", json!({"stage": "line", "unit_scale": 3}));
            }
            contract
        })
        .collect();
    json!({
        "format": "tarif/1",
        "settings": {
            "default_visibility": if rng.chance(25) { "closed" } else { "open" },
            "timezone": *rng.pick(&["UTC", "Europe/Paris", "America/New_York"]),
            "procedure": procedure,
            "default_price_lists": ["pub"],
            "rounding": {"mode": *rng.pick(&["half_up", "half_even", "half_down", "up", "down"])}
        },
        "currencies": [{"code": "EUR"}, {"code": "JPY"}],
        "categories": [{"id": "root"}, {"id": "mid", "parent": "root"}, {"id": "leaf", "parent": "mid"}, {"id": "other"}],
        "products": products,
        "price_lists": price_lists,
        "segments": [{"id": "s1", "price_lists": ["seg-s1"]}, {"id": "s2", "price_lists": ["derived"]}],
        "accounts": [
            {"id": "A", "segments": ["s1"], "price_lists": ["acct-a"], "aliases": {"mine-1": "P1"}},
            {"id": "A1", "parent": "A", "price_lists": ["net-b"]},
            {"id": "A2", "parent": "A1", "segments": ["s2"], "aliases": {"mine-2": "P2"}},
            {"id": "B", "segments": ["s1", "s2"], "currency": "EUR"},
            {"id": "C"}
        ],
        "contracts": contracts
    })
}

/// A random request against [`document`]: (account, reference, quantity, instant, currency).
pub fn request(rng: &mut Rng) -> (String, String, String, String, Option<String>) {
    let account = rng.pick(&ACCOUNTS).to_string();
    let reference = match rng.below(10) {
        0 => format!("400000000{:04}", rng.below(8)),
        1 => format!("M-{}", rng.below(8)),
        2 => "mine-1".to_string(),
        3 => "mine-2".to_string(),
        _ => rng.pick(&SKUS).to_string(),
    };
    let qty = match rng.below(6) {
        0 => format!("{}.5", rng.below(20)),
        1 => format!("{}", rng.below(60) + 1),
        _ => format!("{}", rng.below(12) + 1),
    };
    let at = rng.pick(&INSTANTS).to_string();
    let currency = match rng.below(10) {
        0 => Some("JPY".to_string()),
        1 => Some("EUR".to_string()),
        _ => None,
    };
    (account, reference, qty, at, currency)
}
