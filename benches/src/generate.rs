//! The reference data set of docs/performance.md ("The data set"), generated from a fixed seed.
//!
//! One in-memory [`Model`] (numbers only, no strings) is drawn first; every output file is then
//! written from it, so the full rules document, the peer subset and the peers' tables always
//! describe the same catalog, accounts and prices. Ids are ASCII without quotes or backslashes,
//! which is what lets the JSON be written directly instead of through `serde_json::Value`s.
//!
//! Two rules documents come out of one model:
//! * `rules.json`, the full semantics: closed catalog with per-segment assortments and per-account
//!   exceptions, dated net prices, deeper-category discount overrides, a margin floor;
//! * `rules-subset.json`, what SQL peers can express: an account's net price (with tiers), else
//!   its segment's discount for the product's root category on the list price (with tiers), in an
//!   open catalog. `products.csv`, `list_prices.csv`, `account_prices.csv`, `accounts.csv` and
//!   `segment_discounts.csv` hold exactly that subset for the peers.

use std::collections::BTreeMap;
use std::io::{self, Write};

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The seed of every data set: same seed, same bytes.
pub const SEED: u64 = 0x7a71_f001;

/// The instant the benches price at: after the "current" dated net prices start, before the
/// "future" ones do.
pub const BENCH_AT: &str = "2026-06-01T10:00:00Z";

const ROOTS: usize = 20;
const MIDS_PER_ROOT: usize = 10;
const LEAVES_PER_MID: usize = 10;
const LEAVES: usize = ROOTS * MIDS_PER_ROOT * LEAVES_PER_MID;
const BRANDS: u32 = 500;
const FAMILY_SIZE: usize = 5;
const SEGMENTS: [&str; 8] = [
    "installers",
    "resellers",
    "public-sector",
    "key-accounts",
    "industry",
    "retail",
    "export",
    "online",
];
/// Roots each segment may see: 12 of 20, so that about 60 % of the catalog is visible to a segment.
const VISIBLE_ROOTS: usize = 12;
const COLORS: [&str; 8] = [
    "black", "blue", "green", "grey", "orange", "red", "white", "yellow",
];
const VOLTAGES: [u32; 5] = [12, 18, 36, 230, 400];
const MATERIALS: [&str; 6] = ["aluminium", "brass", "copper", "plastic", "steel", "wood"];
const FIRST_ORDER_DAY: i64 = 20_089; // 2025-01-01 in days since 1970-01-01
const ORDER_DAYS: i64 = 516; // up to 2026-05-31

/// How big a data set is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// ≈ 1 % of the reference set: tests and `make bench`.
    Small,
    /// 200k SKUs, 10k accounts, 2M order lines: a mid-sized distributor, and the size at which
    /// the batch is compared with SQL.
    Medium,
    /// The reference set the performance targets are stated for (docs/performance.md).
    Reference,
}

impl Size {
    /// `small`, `medium` or `reference`.
    pub fn parse(text: &str) -> Option<Size> {
        match text {
            "small" => Some(Size::Small),
            "medium" => Some(Size::Medium),
            "reference" => Some(Size::Reference),
            _ => None,
        }
    }

    /// The name used on the command line and for the data directory.
    pub fn name(self) -> &'static str {
        match self {
            Size::Small => "small",
            Size::Medium => "medium",
            Size::Reference => "reference",
        }
    }

    /// Number of account-specific price entries (net list entries, dated ones included).
    pub fn account_prices(self) -> usize {
        self.counts().account_prices
    }

    fn counts(self) -> Counts {
        let (skus, accounts, lines) = match self {
            Size::Small => (10_000, 500, 100_000),
            Size::Medium => (200_000, 10_000, 2_000_000),
            Size::Reference => (1_000_000, 50_000, 10_000_000),
        };
        Counts {
            skus,
            accounts,
            account_prices: skus,
            exceptions: accounts,
            lines,
        }
    }
}

struct Counts {
    skus: usize,
    accounts: usize,
    account_prices: usize,
    exceptions: usize,
    lines: usize,
}

/// A price in cents with its "from quantity" tiers (all units).
#[derive(Debug, Clone)]
struct Price {
    cents: u64,
    tiers: Vec<(u32, u64)>,
}

#[derive(Debug, Clone)]
struct Product {
    leaf: u16,
    brand: u32,
    list: Price,
    cost_cents: u64,
    color: u8,
    voltage: u8,
    material: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dated {
    Always,
    /// Valid at [`BENCH_AT`].
    Current,
    /// Starts after [`BENCH_AT`].
    Future,
}

#[derive(Debug, Clone)]
struct NetPrice {
    product: u32,
    price: Price,
    dated: Dated,
}

#[derive(Debug, Clone)]
struct Account {
    parent: Option<u32>,
    /// The root of the account's hierarchy: the only account of the chain with a segment and a
    /// net price list, so that the peers' subset resolves both with one join.
    owner: u32,
    segment: u8,
}

#[derive(Debug, Clone)]
struct Segment {
    visible_roots: Vec<u8>,
    /// Percent in hundredths (`-1250` = 12.5 % off) per root category.
    root_discounts: Vec<(u8, i64)>,
    /// Full document only: deeper categories overriding their root's discount.
    mid_discounts: Vec<(u16, i64)>,
    /// Full document only: brands whose products these accounts may see but not buy.
    no_buy_brands: Vec<u32>,
}

#[derive(Debug, Clone)]
struct OrderLine {
    account: u32,
    product: u32,
    qty: u32,
    day: i64,
}

/// The generated data set, before it is written.
#[derive(Debug, Clone)]
pub struct Model {
    products: Vec<Product>,
    accounts: Vec<Account>,
    /// Net price lists by owner account, in account order.
    net_lists: BTreeMap<u32, Vec<NetPrice>>,
    segments: Vec<Segment>,
    /// Per-account visibility exceptions: (product, allowed).
    exceptions: BTreeMap<u32, Vec<(u32, bool)>>,
    orders: Vec<OrderLine>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Document {
    Full,
    WithoutAccountPrices,
    Subset,
}

/// The files of a data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum File {
    /// The full-semantics rules document.
    Rules,
    /// The rules document restricted to what the SQL peers express.
    RulesSubset,
    /// Historical order lines: `account,sku,qty,date`.
    Orders,
    /// Subset table: `sku,root`.
    Products,
    /// Subset table: `sku,min_qty,price_cents` (the first row of a SKU has `min_qty` 1).
    ListPrices,
    /// Subset table: `owner,sku,min_qty,price_cents`.
    AccountPrices,
    /// Subset table: `account,owner,segment`.
    Accounts,
    /// Subset table: `segment,root,percent_hundredths`.
    SegmentDiscounts,
    /// The full document without the account price lists: the other side of the engine's
    /// resident bytes per account price.
    RulesWithoutAccountPrices,
}

impl File {
    /// Every file, in the order they are written.
    pub const ALL: [File; 9] = [
        File::Rules,
        File::RulesSubset,
        File::Orders,
        File::Products,
        File::ListPrices,
        File::AccountPrices,
        File::Accounts,
        File::SegmentDiscounts,
        File::RulesWithoutAccountPrices,
    ];

    /// The file name inside the data directory.
    pub fn name(self) -> &'static str {
        match self {
            File::Rules => "rules.json",
            File::RulesSubset => "rules-subset.json",
            File::Orders => "orders.csv",
            File::Products => "products.csv",
            File::ListPrices => "list_prices.csv",
            File::AccountPrices => "account_prices.csv",
            File::Accounts => "accounts.csv",
            File::SegmentDiscounts => "segment_discounts.csv",
            File::RulesWithoutAccountPrices => "rules-without-account-prices.json",
        }
    }
}

fn root_of(leaf: u16) -> u8 {
    (leaf as usize / (MIDS_PER_ROOT * LEAVES_PER_MID)) as u8
}

fn mid_of(leaf: u16) -> u16 {
    leaf / LEAVES_PER_MID as u16
}

/// Cents → `"12.34"`.
struct Money(u64);

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// Hundredths of a percent → `"-12.5"`-style text, exact.
struct Percent(i64);

impl std::fmt::Display for Percent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

fn sku(product: u32) -> String {
    format!("SKU{product:07}")
}

fn account_id(account: u32) -> String {
    format!("C{account:05}")
}

/// The EAN-13 of a product (by index), with its check digit.
pub fn ean(product: u32) -> String {
    let body = format!("{:012}", 340_000_000_000u64 + u64::from(product));
    let sum: u32 = body
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

fn mpn(product: u32, brand: u32) -> String {
    // Multiplying by an odd constant is a bijection on u32: unique, but not in SKU order.
    format!("B{brand:03}-{:08X}", product.wrapping_mul(2_654_435_761))
}

fn category_id(leaf: u16) -> String {
    let root = leaf as usize / (MIDS_PER_ROOT * LEAVES_PER_MID);
    let mid = leaf as usize / LEAVES_PER_MID % MIDS_PER_ROOT;
    format!("cat-{root:02}-{mid}-{}", leaf as usize % LEAVES_PER_MID)
}

fn mid_id(mid: u16) -> String {
    format!(
        "cat-{:02}-{}",
        mid as usize / MIDS_PER_ROOT,
        mid as usize % MIDS_PER_ROOT
    )
}

fn root_id(root: u8) -> String {
    format!("cat-{root:02}")
}

/// Cents scaled by a factor in thousandths, rounded half up: tier and cost prices.
fn scaled(cents: u64, per_mille: u64) -> u64 {
    (cents * per_mille + 500) / 1000
}

/// Days since 1970-01-01 → `YYYY-MM-DD` (proleptic Gregorian, H. Hinnant's algorithm).
fn date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

impl Model {
    /// Draws the data set of a size from [`SEED`].
    pub fn generate(size: Size) -> Model {
        let counts = size.counts();
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);

        let mut products = Vec::with_capacity(counts.skus);
        let mut by_root: Vec<Vec<u32>> = vec![Vec::new(); ROOTS];
        let (mut leaf, mut brand) = (0u16, 0u32);
        for i in 0..counts.skus {
            // A family shares its category and brand, as variants of one article do.
            if i % FAMILY_SIZE == 0 {
                leaf = rng.random_range(0..LEAVES as u16);
                brand = rng.random_range(0..BRANDS);
            }
            let cents = rng.random_range(199..100_000u64);
            let tiers = if rng.random_bool(0.1) {
                vec![(10, scaled(cents, 950)), (50, scaled(cents, 900))]
            } else {
                Vec::new()
            };
            let cost_cents = scaled(cents, rng.random_range(550..700));
            by_root[root_of(leaf) as usize].push(i as u32);
            products.push(Product {
                leaf,
                brand,
                list: Price { cents, tiers },
                cost_cents,
                color: rng.random_range(0..COLORS.len() as u8),
                voltage: rng.random_range(0..VOLTAGES.len() as u8),
                material: rng.random_range(0..MATERIALS.len() as u8),
            });
        }

        let segments: Vec<Segment> = (0..SEGMENTS.len())
            .map(|_| {
                let mut roots: Vec<u8> = (0..ROOTS as u8).collect();
                roots.shuffle(&mut rng);
                let mut visible_roots = roots[..VISIBLE_ROOTS].to_vec();
                visible_roots.sort_unstable();
                let mut root_discounts = Vec::new();
                for root in 0..ROOTS as u8 {
                    if rng.random_bool(0.7) {
                        root_discounts.push((root, -50 * rng.random_range(10..70i64)));
                    }
                }
                let mut mid_discounts: Vec<(u16, i64)> = (0..3)
                    .map(|_| {
                        let mid = rng.random_range(0..(ROOTS * MIDS_PER_ROOT) as u16);
                        (mid, -50 * rng.random_range(10..80i64))
                    })
                    .collect();
                mid_discounts.sort_unstable();
                mid_discounts.dedup_by_key(|d| d.0);
                let no_buy_brands = (0..2).map(|_| rng.random_range(0..BRANDS)).collect();
                Segment {
                    visible_roots,
                    root_discounts,
                    mid_discounts,
                    no_buy_brands,
                }
            })
            .collect();

        let mut accounts: Vec<Account> = Vec::with_capacity(counts.accounts);
        for i in 0..counts.accounts as u32 {
            let parent = (i >= 8 && rng.random_bool(0.2)).then(|| rng.random_range(0..i));
            let account = match parent.and_then(|p| accounts.get(p as usize)) {
                Some(p) => Account {
                    parent,
                    owner: p.owner,
                    segment: p.segment,
                },
                None => Account {
                    parent: None,
                    owner: i,
                    segment: rng.random_range(0..SEGMENTS.len() as u8),
                },
            };
            accounts.push(account);
        }

        let owners: Vec<u32> = (0..counts.accounts as u32)
            .filter(|&i| accounts[i as usize].parent.is_none())
            .filter(|_| rng.random_bool(0.25))
            .collect();
        let mut net_lists = BTreeMap::new();
        for (k, &owner) in owners.iter().enumerate() {
            let len = counts.account_prices / owners.len()
                + usize::from(k < counts.account_prices % owners.len());
            let segment = &segments[accounts[owner as usize].segment as usize];
            let mut picked = std::collections::BTreeSet::new();
            while picked.len() < len {
                picked.insert(pick_visible(&mut rng, &by_root, segment));
            }
            let list: Vec<NetPrice> = picked
                .into_iter()
                .map(|product| {
                    let cents = scaled(
                        products[product as usize].list.cents,
                        rng.random_range(600..900),
                    );
                    let tiers = if rng.random_bool(0.2) {
                        let first = if rng.random_bool(0.5) { 5 } else { 10 };
                        vec![(first, scaled(cents, 970)), (first * 5, scaled(cents, 930))]
                    } else {
                        Vec::new()
                    };
                    let dated = match rng.random_range(0..20) {
                        0 => Dated::Current,
                        1 => Dated::Future,
                        _ => Dated::Always,
                    };
                    NetPrice {
                        product,
                        price: Price { cents, tiers },
                        dated,
                    }
                })
                .collect();
            net_lists.insert(owner, list);
        }

        let mut exceptions: BTreeMap<u32, Vec<(u32, bool)>> = BTreeMap::new();
        for _ in 0..counts.exceptions {
            let account = rng.random_range(0..counts.accounts as u32);
            let product = rng.random_range(0..counts.skus as u32);
            exceptions
                .entry(account)
                .or_default()
                .push((product, rng.random_bool(0.5)));
        }

        let orders = (0..counts.lines)
            .map(|_| {
                let account = rng.random_range(0..counts.accounts as u32);
                let owner = accounts[account as usize].owner;
                let segment = &segments[accounts[account as usize].segment as usize];
                let product = match net_lists.get(&owner) {
                    Some(list) if rng.random_bool(0.4) => {
                        list[rng.random_range(0..list.len())].product
                    }
                    _ => pick_visible(&mut rng, &by_root, segment),
                };
                let qty = match rng.random_range(0..10) {
                    0..6 => rng.random_range(1..6),
                    6..9 => rng.random_range(6..21),
                    _ => rng.random_range(21..101),
                };
                OrderLine {
                    account,
                    product,
                    qty,
                    day: FIRST_ORDER_DAY + rng.random_range(0..ORDER_DAYS),
                }
            })
            .collect();

        Model {
            products,
            accounts,
            net_lists,
            segments,
            exceptions,
            orders,
        }
    }

    /// Writes one file of the data set.
    pub fn write(&self, file: File, out: &mut dyn Write) -> io::Result<()> {
        let mut out = io::BufWriter::with_capacity(1 << 20, out);
        match file {
            File::Rules => self.write_rules(Document::Full, &mut out)?,
            File::RulesWithoutAccountPrices => {
                self.write_rules(Document::WithoutAccountPrices, &mut out)?
            }
            File::RulesSubset => self.write_rules(Document::Subset, &mut out)?,
            File::Orders => self.write_orders(&mut out)?,
            File::Products => {
                writeln!(out, "sku,root")?;
                for (i, p) in self.products.iter().enumerate() {
                    writeln!(out, "{},{}", sku(i as u32), root_of(p.leaf))?;
                }
            }
            File::ListPrices => {
                writeln!(out, "sku,min_qty,price_cents")?;
                for (i, p) in self.products.iter().enumerate() {
                    write_price_rows(&mut out, "", &sku(i as u32), &p.list)?;
                }
            }
            File::AccountPrices => {
                writeln!(out, "owner,sku,min_qty,price_cents")?;
                for (&owner, list) in &self.net_lists {
                    let prefix = format!("{},", account_id(owner));
                    for net in list.iter().filter(|n| n.dated == Dated::Always) {
                        write_price_rows(&mut out, &prefix, &sku(net.product), &net.price)?;
                    }
                }
            }
            File::Accounts => {
                writeln!(out, "account,owner,segment")?;
                for (i, a) in self.accounts.iter().enumerate() {
                    writeln!(
                        out,
                        "{},{},{}",
                        account_id(i as u32),
                        account_id(a.owner),
                        SEGMENTS[a.segment as usize]
                    )?;
                }
            }
            File::SegmentDiscounts => {
                writeln!(out, "segment,root,percent_hundredths")?;
                for (name, segment) in SEGMENTS.iter().zip(&self.segments) {
                    for &(root, pct) in &segment.root_discounts {
                        writeln!(out, "{name},{root},{pct}")?;
                    }
                }
            }
        }
        out.flush()
    }

    fn write_orders(&self, out: &mut impl Write) -> io::Result<()> {
        let dates: Vec<String> = (0..ORDER_DAYS).map(|d| date(FIRST_ORDER_DAY + d)).collect();
        writeln!(out, "account,sku,qty,date")?;
        for line in &self.orders {
            writeln!(
                out,
                "C{:05},SKU{:07},{},{}",
                line.account,
                line.product,
                line.qty,
                dates[(line.day - FIRST_ORDER_DAY) as usize]
            )?;
        }
        Ok(())
    }

    fn write_rules(&self, document: Document, out: &mut impl Write) -> io::Result<()> {
        let full = document != Document::Subset;
        let no_lists = BTreeMap::new();
        let net_lists = match document {
            Document::WithoutAccountPrices => &no_lists,
            _ => &self.net_lists,
        };
        let visibility = if full { "closed" } else { "open" };
        write!(
            out,
            r#"{{"format":"tarif/1","settings":{{"default_visibility":"{visibility}","timezone":"Europe/Paris","default_price_lists":["list"]}},"currencies":[{{"code":"EUR"}}],"categories":["#
        )?;
        let mut first = true;
        for root in 0..ROOTS as u8 {
            sep(out, &mut first)?;
            write!(out, r#"{{"id":"{}"}}"#, root_id(root))?;
        }
        for mid in 0..(ROOTS * MIDS_PER_ROOT) as u16 {
            let root = (mid as usize / MIDS_PER_ROOT) as u8;
            write!(
                out,
                r#",{{"id":"{}","parent":"{}"}}"#,
                mid_id(mid),
                root_id(root)
            )?;
        }
        for leaf in 0..LEAVES as u16 {
            write!(
                out,
                r#",{{"id":"{}","parent":"{}"}}"#,
                category_id(leaf),
                mid_id(mid_of(leaf))
            )?;
        }
        write!(out, r#"],"products":["#)?;
        for (i, p) in self.products.iter().enumerate() {
            let i = i as u32;
            if i > 0 {
                out.write_all(b",")?;
            }
            write!(
                out,
                r#"{{"sku":"{}","ean":"{}","mpn":"{}","family":"FAM{:06}","categories":["{}"],"brand":"brand-{:03}","cost":"{}","attrs":{{"color":"{}","voltage":{},"material":"{}"}}}}"#,
                sku(i),
                ean(i),
                mpn(i, p.brand),
                i as usize / FAMILY_SIZE,
                category_id(p.leaf),
                p.brand,
                Money(p.cost_cents),
                COLORS[p.color as usize],
                VOLTAGES[p.voltage as usize],
                MATERIALS[p.material as usize],
            )?;
        }
        write!(
            out,
            r#"],"price_lists":[{{"id":"list","currency":"EUR","prices":["#
        )?;
        for (i, p) in self.products.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            write_entry(out, &sku(i as u32), &p.list, None)?;
        }
        out.write_all(b"]}")?;
        for (&owner, list) in net_lists {
            write!(
                out,
                r#",{{"id":"net-{}","currency":"EUR","net":true,"prices":["#,
                account_id(owner)
            )?;
            let mut first = true;
            for net in list {
                let valid = match net.dated {
                    Dated::Always => None,
                    _ if !full => continue,
                    Dated::Current => Some(r#"{"from":"2026-01-01","until":"2027-01-01"}"#),
                    Dated::Future => Some(r#"{"from":"2026-09-01"}"#),
                };
                sep(out, &mut first)?;
                write_entry(out, &sku(net.product), &net.price, valid)?;
            }
            out.write_all(b"]}")?;
        }
        write!(out, r#"],"segments":["#)?;
        for (i, name) in SEGMENTS.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            write!(out, r#"{{"id":"{name}"}}"#)?;
        }
        write!(out, r#"],"accounts":["#)?;
        for (i, a) in self.accounts.iter().enumerate() {
            let id = account_id(i as u32);
            if i > 0 {
                out.write_all(b",")?;
            }
            write!(out, r#"{{"id":"{id}""#)?;
            match a.parent {
                Some(parent) => write!(out, r#","parent":"{}""#, account_id(parent))?,
                None => write!(out, r#","segments":["{}"]"#, SEGMENTS[a.segment as usize])?,
            }
            if net_lists.contains_key(&(i as u32)) {
                write!(out, r#","price_lists":["net-{id}"]"#)?;
            }
            out.write_all(b"}")?;
        }
        write!(out, r#"],"contracts":["#)?;
        for (name, segment) in SEGMENTS.iter().zip(&self.segments) {
            if name != &SEGMENTS[0] {
                out.write_all(b",")?;
            }
            write!(
                out,
                r#"{{"id":"seg-{name}","audience":{{"segments":["{name}"]}},"visibility":["#
            )?;
            if full {
                let mut first = true;
                for &root in &segment.visible_roots {
                    sep(out, &mut first)?;
                    write!(
                        out,
                        r#"{{"effect":"allow","products":{{"category":"{}"}}}}"#,
                        root_id(root)
                    )?;
                }
                for &brand in &segment.no_buy_brands {
                    write!(
                        out,
                        r#",{{"effect":"deny","products":{{"brand":"brand-{brand:03}"}},"capabilities":["buy"]}}"#
                    )?;
                }
            }
            out.write_all(br#"],"rules":["#)?;
            let mut first = true;
            for &(root, pct) in &segment.root_discounts {
                sep(out, &mut first)?;
                write!(
                    out,
                    r#"{{"id":"d-{}","step":"discount","products":{{"category":"{}"}},"percent":"{}"}}"#,
                    root_id(root),
                    root_id(root),
                    Percent(pct)
                )?;
            }
            if full {
                for &(mid, pct) in &segment.mid_discounts {
                    sep(out, &mut first)?;
                    write!(
                        out,
                        r#"{{"id":"d-{}","step":"discount","products":{{"category":"{}"}},"percent":"{}"}}"#,
                        mid_id(mid),
                        mid_id(mid),
                        Percent(pct)
                    )?;
                }
            }
            out.write_all(b"]}")?;
        }
        if full {
            write!(
                out,
                r#",{{"id":"floor","audience":"all","rules":[{{"id":"margin","step":"bounds","products":"all","min_margin_pct":"5"}}]}}"#
            )?;
            for (&account, list) in &self.exceptions {
                write!(
                    out,
                    r#",{{"id":"exc-{id}","audience":{{"accounts":["{id}"]}},"visibility":["#,
                    id = account_id(account)
                )?;
                let mut first = true;
                for &(product, allowed) in list {
                    sep(out, &mut first)?;
                    let effect = if allowed { "allow" } else { "deny" };
                    write!(
                        out,
                        r#"{{"effect":"{effect}","products":{{"sku":"{}"}}}}"#,
                        sku(product)
                    )?;
                }
                out.write_all(b"]}")?;
            }
        }
        out.write_all(b"]}\n")
    }
}

/// A product of one of the segment's visible roots: what its accounts order and negotiate.
fn pick_visible(rng: &mut ChaCha8Rng, by_root: &[Vec<u32>], segment: &Segment) -> u32 {
    loop {
        let root = segment.visible_roots[rng.random_range(0..segment.visible_roots.len())];
        let products = &by_root[root as usize];
        if !products.is_empty() {
            return products[rng.random_range(0..products.len())];
        }
    }
}

fn sep(out: &mut impl Write, first: &mut bool) -> io::Result<()> {
    if !std::mem::take(first) {
        out.write_all(b",")?;
    }
    Ok(())
}

fn write_entry(
    out: &mut impl Write,
    sku: &str,
    price: &Price,
    valid: Option<&str>,
) -> io::Result<()> {
    write!(out, r#"{{"sku":"{sku}","price":"{}""#, Money(price.cents))?;
    if !price.tiers.is_empty() {
        out.write_all(br#","tiers":["#)?;
        for (i, (min_qty, cents)) in price.tiers.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            write!(
                out,
                r#"{{"min_qty":{min_qty},"price":"{}"}}"#,
                Money(*cents)
            )?;
        }
        out.write_all(b"]")?;
    }
    if let Some(valid) = valid {
        write!(out, r#","valid":{valid}"#)?;
    }
    out.write_all(b"}")
}

fn write_price_rows(
    out: &mut impl Write,
    prefix: &str,
    sku: &str,
    price: &Price,
) -> io::Result<()> {
    writeln!(out, "{prefix}{sku},1,{}", price.cents)?;
    for (min_qty, cents) in &price.tiers {
        writeln!(out, "{prefix}{sku},{min_qty},{cents}")?;
    }
    Ok(())
}

/// Writes every file of a data set into `dir`.
pub fn write_all(model: &Model, dir: &std::path::Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for file in File::ALL {
        let mut out = std::fs::File::create(dir.join(file.name()))?;
        model.write(file, &mut out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eans_have_a_valid_check_digit() {
        for product in [0, 1, 7, 999_999] {
            let ean = ean(product);
            let weighted: u32 = ean
                .bytes()
                .enumerate()
                .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
                .sum();
            assert_eq!((ean.len(), weighted % 10), (13, 0), "{ean}");
        }
    }

    #[test]
    fn dates() {
        assert_eq!(date(FIRST_ORDER_DAY), "2025-01-01");
        assert_eq!(date(FIRST_ORDER_DAY + ORDER_DAYS - 1), "2026-05-31");
    }
}
