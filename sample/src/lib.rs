//! A realistic sample rules document, generated in code: an electrical and tools distributor with
//! about 3,200 products, 40 accounts and the contracts such a business really runs.
//!
//! The catalog is a category tree (tools, electrical, fasteners, safety) of branded variant
//! families with technical attributes, valid EANs, manufacturer references and legacy numbers;
//! cable is sold by the half metre and screws by boxes of 100. The commercial side has a public
//! list with volume tiers and a dated price rise, a derived reseller list, an installer list, a
//! key account's net list, a public framework agreement with a reserved range, category discounts
//! with quantity tiers, a copper surcharge, margin floors, a dated promotion and an exclusive
//! launch promotion that suppresses it.
//!
//! Generation is deterministic (a fixed-seed SplitMix64, iteration over ordered collections only),
//! so every run on every machine gives the same bytes: examples, docs and tests may quote its SKUs
//! and prices. The products and instant in [`showcase`] are the ones the examples talk about.
//!
//! ```
//! let doc = tarif_sample::distributor();
//! assert!(doc["products"].as_array().map_or(0, Vec::len) > 3000);
//! ```

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

/// Products, accounts and an instant that the examples and the README quote; all exist in
/// [`distributor`].
pub mod showcase {
    /// An instant at which the spring promotion and the Makita launch offer both run.
    pub const AT: &str = "2027-03-18T10:00:00+01:00";
    /// Makita 18 V combi drill, 2 × 5.0 Ah kit in a case: on the exclusive launch offer.
    pub const DRILL: &str = "DRL-MAK-DHP487-K5-L";
    /// Nexans R2V 3G2.5 copper cable, sold by the metre in multiples of 0.5 m.
    pub const CABLE: &str = "CAB-NEX-R2V3G-2.5";
    /// The same Nexans cable in 3G1.5: one family with [`CABLE`], whose drum tier counts both.
    pub const CABLE_THIN: &str = "CAB-NEX-R2V3G-1.5";
    /// The key account's drum discount: its tier reads the metres of the whole cable family
    /// in an order.
    pub const CABLE_DRUMS: &str = "CTR-BATIMAX-2027/cable-drums";
    /// Schneider iC60N C16 1P+N breaker: on the installers' list and a key account's net list.
    pub const BREAKER: &str = "MCB-SCH-IC60NC1PN-16A";
    /// Bosch 18 V 5.0 Ah battery: a low-margin product where floors bite.
    pub const BATTERY: &str = "BAT-BOS-GBA18V-5.0AH";
    /// SPAX wood screw 4.0 × 40, priced per piece, sold by boxes of 100.
    pub const SCREW: &str = "SCR-SPX-WOOD4-40";
    /// Philips street light, part of the range reserved to public buyers.
    pub const STREET_LIGHT: &str = "STL-PHI-LUMA2-60W-T2";
    /// A walk-in customer with no segment: public prices.
    pub const WALK_IN: &str = "C-COMPTOIR-001";
    /// A reseller.
    pub const RESELLER: &str = "R-ELECDIS";
    /// A branch of an installer, inheriting its parent's segment and part numbers.
    pub const INSTALLER_BRANCH: &str = "I-VOLTA-LYON";
    /// A city under the public framework agreement.
    pub const PUBLIC_BODY: &str = "P-VILLE-LYON";
    /// A site of a key account with a net price list.
    pub const KEY_ACCOUNT_SITE: &str = "K-BATIMAX-PARIS";
    /// The key account's own part number for [`CABLE`], usable by all its sites.
    pub const KEY_ACCOUNT_ALIAS: &str = "BMX-100001";
    /// A buyer at [`KEY_ACCOUNT_SITE`], with an order limit.
    pub const KEY_ACCOUNT_BUYER: &str = "julien.petit";
    /// The key account group's approver, who approves its sites' large orders.
    pub const KEY_ACCOUNT_APPROVER: &str = "claire.martin";
}

const SEED: u64 = 0x7A21_F0C5_D15C_0001;

/// The sample document as a JSON value.
pub fn distributor() -> Value {
    Generator::new().document()
}

/// The sample document as pretty-printed JSON text.
pub fn distributor_json() -> String {
    format!("{:#}", distributor())
}

/// SplitMix64: tiny, well distributed, and fully determined by its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi` (the modulo bias is irrelevant at these ranges).
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi.saturating_sub(lo) + 1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Brand {
    name: &'static str,
    code: &'static str,
    /// GS1 company prefix (7 digits) of the brand's EANs.
    gs1: &'static str,
}

const fn brand(name: &'static str, code: &'static str, gs1: &'static str) -> Brand {
    Brand { name, code, gs1 }
}

const BOSCH: Brand = brand("Bosch", "BOS", "3165140");
const MAKITA: Brand = brand("Makita", "MAK", "0088381");
const DEWALT: Brand = brand("DeWalt", "DEW", "5035048");
const MILWAUKEE: Brand = brand("Milwaukee", "MIL", "4058546");
const METABO: Brand = brand("Metabo", "MET", "4007430");
const FACOM: Brand = brand("Facom", "FAC", "3148515");
const STANLEY: Brand = brand("Stanley", "STA", "3253561");
const WERA: Brand = brand("Wera", "WER", "4013288");
const KNIPEX: Brand = brand("Knipex", "KNI", "4003773");
const NEXANS: Brand = brand("Nexans", "NEX", "3541970");
const PRYSMIAN: Brand = brand("Prysmian", "PRY", "8003920");
const GENERAL_CABLE: Brand = brand("General Cable", "GCB", "8424450");
const SCHNEIDER: Brand = brand("Schneider Electric", "SCH", "3606480");
const LEGRAND: Brand = brand("Legrand", "LEG", "3245060");
const HAGER: Brand = brand("Hager", "HAG", "3250612");
const ABB: Brand = brand("ABB", "ABB", "4016779");
const PHILIPS: Brand = brand("Philips", "PHI", "8718696");
const LEDVANCE: Brand = brand("Ledvance", "LDV", "4058075");
const SYLVANIA: Brand = brand("Sylvania", "SYL", "5410288");
const THORN: Brand = brand("Thorn", "THO", "5055312");
const SPAX: Brand = brand("SPAX", "SPX", "4003530");
const FISCHER: Brand = brand("Fischer", "FIS", "4006209");
const SPIT: Brand = brand("Spit", "SPI", "3324830");
const ACTON: Brand = brand("Acton", "ACT", "3371020");
const ANSELL: Brand = brand("Ansell", "ANS", "5400113");
const MAPA: Brand = brand("Mapa", "MPA", "3154490");
const PARADE: Brand = brand("Parade", "PAR", "3607840");
const UVEX: Brand = brand("Uvex", "UVX", "4031101");

const POWER_TOOL_BRANDS: [Brand; 5] = [BOSCH, MAKITA, DEWALT, MILWAUKEE, METABO];

/// Money is carried as integer ten-thousandths of a euro until it is written out.
const fn eur(cents: u64) -> u64 {
    cents * 100
}

fn money2(amount: u64) -> String {
    let cents = (amount + 50) / 100;
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn money4(amount: u64) -> String {
    format!("{}.{:04}", amount / 10_000, amount % 10_000)
}

/// A catalog price as a distributor prints it: x.90 above 20 €, whole tens of cents above 5 €.
fn list_price(amount: u64) -> u64 {
    let cents = (amount + 50) / 100;
    let nice = if cents >= 2_000 {
        (cents + 10) / 100 * 100 - 10
    } else if cents >= 500 {
        (cents + 5) / 10 * 10
    } else {
        cents.max(1)
    };
    nice * 100
}

fn scale(amount: u64, percent: u64) -> u64 {
    amount * percent / 100
}

/// The 13-digit EAN of `body` (12 digits), with its check digit.
fn ean13(body: &str) -> String {
    let sum: u32 = body
        .chars()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { d } else { 3 * d })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// A section in tenths of mm², as cable makers write it: `2.5`, `10`.
fn tenths(value: u64) -> String {
    if value % 10 == 0 {
        (value / 10).to_string()
    } else {
        format!("{}.{}", value / 10, value % 10)
    }
}

fn tenths_value(value: u64) -> Value {
    if value % 10 == 0 {
        json!(value / 10)
    } else {
        json!(value as f64 / 10.0)
    }
}

/// Which public list prices a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listing {
    /// `list-eur`, prices in cents.
    Public,
    /// `list-eur-pieces`: per-piece prices with four decimals.
    Pieces,
    /// Only the public framework list: the reserved range.
    Framework,
}

/// A product's part in battery-platform relations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Platform {
    None,
    /// A cordless tool of this voltage.
    Tool(u64),
    /// A battery pack of this voltage.
    Pack(u64),
    /// A charger for the brand's packs.
    Charger,
}

struct AxisValue {
    label: String,
    code: String,
    /// Price of this value relative to the family's base, in percent.
    factor: u64,
    attrs: Vec<(&'static str, Value)>,
    platform: Option<Platform>,
}

fn val(label: impl Into<String>, code: impl Into<String>, factor: u64) -> AxisValue {
    AxisValue {
        label: label.into(),
        code: code.into(),
        factor,
        attrs: Vec::new(),
        platform: None,
    }
}

impl AxisValue {
    fn attr(mut self, key: &'static str, value: Value) -> Self {
        self.attrs.push((key, value));
        self
    }

    fn platform(mut self, platform: Platform) -> Self {
        self.platform = Some(platform);
        self
    }
}

struct Axis {
    name: &'static str,
    values: Vec<AxisValue>,
}

/// A variant family: every combination of its axes' values is one product.
struct Family {
    category: &'static str,
    prefix: &'static str,
    brand: Brand,
    model: String,
    noun: String,
    base: u64,
    /// Cost as a share of the list price, in percent (drawn per product).
    cost_pct: (u64, u64),
    attrs: Vec<(&'static str, Value)>,
    axes: Vec<Axis>,
    order: Option<Value>,
    listing: Listing,
    platform: Platform,
    replaced_by: Option<String>,
}

impl Family {
    fn new(
        category: &'static str,
        prefix: &'static str,
        brand: Brand,
        model: impl Into<String>,
        noun: impl Into<String>,
        base: u64,
    ) -> Family {
        Family {
            category,
            prefix,
            brand,
            model: model.into(),
            noun: noun.into(),
            base,
            cost_pct: (55, 68),
            attrs: Vec::new(),
            axes: Vec::new(),
            order: None,
            listing: Listing::Public,
            platform: Platform::None,
            replaced_by: None,
        }
    }

    fn attr(mut self, key: &'static str, value: Value) -> Self {
        self.attrs.push((key, value));
        self
    }

    fn axis(mut self, name: &'static str, values: Vec<AxisValue>) -> Self {
        self.axes.push(Axis { name, values });
        self
    }

    fn cost(mut self, lo: u64, hi: u64) -> Self {
        self.cost_pct = (lo, hi);
        self
    }

    fn order(mut self, min: &str, multiple: &str) -> Self {
        self.order = Some(json!({"min": min, "multiple": multiple}));
        self
    }

    fn listing(mut self, listing: Listing) -> Self {
        self.listing = listing;
        self
    }

    fn platform(mut self, platform: Platform) -> Self {
        self.platform = platform;
        self
    }

    /// Marks the family discontinued, each variant replaced by the same variant of `model`.
    fn replaced_by(mut self, model: &str) -> Self {
        self.replaced_by = Some(model.to_string());
        self.attr("status", json!("discontinued"))
    }
}

fn sku_of(prefix: &str, brand: Brand, model: &str, codes: &[&str]) -> String {
    let mut sku = format!("{prefix}-{}-{model}", brand.code);
    for code in codes {
        sku.push('-');
        sku.push_str(code);
    }
    sku
}

/// One product before it is written out; relations are filled in once the catalog is complete.
struct Draft {
    sku: String,
    name: String,
    ean: String,
    mpn: String,
    refs: Vec<String>,
    family: Option<String>,
    axes: Vec<(&'static str, String)>,
    category: &'static str,
    brand: Brand,
    cost: String,
    attrs: Map<String, Value>,
    order: Option<Value>,
    requires: Vec<String>,
    accessories: Vec<String>,
    compatible: Vec<String>,
    replaced_by: Option<String>,
    platform: Platform,
    price: u64,
    listing: Listing,
}

impl Draft {
    fn to_json(&self) -> Value {
        let mut product = Map::new();
        product.insert("sku".into(), json!(self.sku));
        product.insert("name".into(), json!(self.name));
        product.insert("ean".into(), json!(self.ean));
        product.insert("mpn".into(), json!(self.mpn));
        if !self.refs.is_empty() {
            product.insert("refs".into(), json!(self.refs));
        }
        if let Some(family) = &self.family {
            product.insert("family".into(), json!(family));
            let axes: Map<String, Value> = self
                .axes
                .iter()
                .map(|(k, v)| ((*k).to_string(), json!(v)))
                .collect();
            product.insert("axes".into(), Value::Object(axes));
        }
        product.insert("categories".into(), json!([self.category]));
        product.insert("brand".into(), json!(self.brand.name));
        product.insert("cost".into(), json!(self.cost));
        product.insert("attrs".into(), Value::Object(self.attrs.clone()));
        if let Some(order) = &self.order {
            product.insert("order".into(), order.clone());
        }
        let mut relations = Map::new();
        for (key, list) in [
            ("requires", &self.requires),
            ("accessories", &self.accessories),
            ("compatible", &self.compatible),
        ] {
            if !list.is_empty() {
                relations.insert(key.into(), json!(list));
            }
        }
        if let Some(next) = &self.replaced_by {
            relations.insert("replaced_by".into(), json!(next));
        }
        if !relations.is_empty() {
            product.insert("relations".into(), Value::Object(relations));
        }
        Value::Object(product)
    }
}

struct Generator {
    rng: Rng,
    drafts: Vec<Draft>,
    item_numbers: BTreeMap<&'static str, u64>,
    legacy_number: u64,
}

impl Generator {
    fn new() -> Generator {
        Generator {
            rng: Rng(SEED),
            drafts: Vec::new(),
            item_numbers: BTreeMap::new(),
            legacy_number: 204_117,
        }
    }

    fn document(mut self) -> Value {
        self.power_tools();
        self.hand_tools();
        self.safety();
        self.cables();
        self.protection();
        self.wiring_devices();
        self.lighting();
        self.enclosures();
        self.fasteners();
        self.link_platforms();
        let price_lists = self.price_lists();
        json!({
            "format": "tarif/1",
            "settings": settings(),
            "currencies": [{"code": "EUR", "scale": 2}],
            "categories": categories(),
            "products": self.drafts.iter().map(Draft::to_json).collect::<Vec<_>>(),
            "price_lists": price_lists,
            "segments": segments(),
            "accounts": accounts(),
            "contracts": contracts(),
        })
    }

    /// Expands a family into its variants.
    fn family(&mut self, family: Family) {
        let mut combos: Vec<Vec<&AxisValue>> = vec![Vec::new()];
        for axis in &family.axes {
            combos = combos
                .iter()
                .flat_map(|combo| {
                    axis.values.iter().map(move |value| {
                        let mut next = combo.clone();
                        next.push(value);
                        next
                    })
                })
                .collect();
        }
        let has_variants = !family.axes.is_empty();
        let family_id = format!("{}-{}", family.brand.code, family.model);
        for combo in combos {
            let codes: Vec<&str> = combo.iter().map(|v| v.code.as_str()).collect();
            let sku = sku_of(family.prefix, family.brand, &family.model, &codes);
            let mut price = family.base;
            let mut attrs: Map<String, Value> = family
                .attrs
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.clone()))
                .collect();
            let mut platform = family.platform;
            let mut name = format!("{} {} {}", family.brand.name, family.model, family.noun);
            let mut axes = Vec::new();
            for (axis, value) in family.axes.iter().zip(&combo) {
                price = scale(price, value.factor);
                attrs.extend(
                    value
                        .attrs
                        .iter()
                        .map(|(k, v)| ((*k).to_string(), v.clone())),
                );
                platform = value.platform.unwrap_or(platform);
                name.push_str(", ");
                name.push_str(&value.label);
                axes.push((axis.name, value.label.clone()));
            }
            let price = match family.listing {
                Listing::Pieces => price.max(1),
                Listing::Public | Listing::Framework => list_price(price),
            };
            let cost_share = self.rng.range(family.cost_pct.0, family.cost_pct.1);
            let cost = match family.listing {
                Listing::Pieces => money4(scale(price, cost_share).max(1)),
                Listing::Public | Listing::Framework => money2(scale(price, cost_share).max(100)),
            };
            let mut refs = Vec::new();
            if self.rng.chance(25) {
                self.legacy_number += self.rng.range(1, 40);
                refs.push(format!("L{:06}", self.legacy_number));
            }
            let replaced_by = family
                .replaced_by
                .as_deref()
                .map(|model| sku_of(family.prefix, family.brand, model, &codes));
            let draft = Draft {
                ean: self.next_ean(family.brand),
                mpn: format!("{}-{}{}", family.brand.code, family.model, codes.concat()),
                refs,
                family: has_variants.then(|| family_id.clone()),
                axes,
                category: family.category,
                brand: family.brand,
                cost,
                attrs,
                order: family.order.clone(),
                requires: Vec::new(),
                accessories: Vec::new(),
                compatible: Vec::new(),
                replaced_by,
                platform,
                price,
                listing: family.listing,
                name,
                sku,
            };
            self.drafts.push(draft);
        }
    }

    fn next_ean(&mut self, brand: Brand) -> String {
        let item = self.item_numbers.entry(brand.code).or_insert(0);
        *item += 1;
        ean13(&format!("{}{:05}", brand.gs1, *item))
    }

    fn power_tools(&mut self) {
        type Models = [(&'static str, u64, u64); 6];
        // (model, volts, base price in euros); the first model of each brand is discontinued and
        // replaced by the second.
        const DRILLS: [(Brand, Models); 5] = [
            (
                BOSCH,
                [
                    ("GSR18V21", 18, 119),
                    ("GSR18V45", 18, 139),
                    ("GSB18V55", 18, 179),
                    ("GSR18V90C", 18, 259),
                    ("GSR12V15", 12, 99),
                    ("GSB12V35", 12, 149),
                ],
            ),
            (
                MAKITA,
                [
                    ("DHP482", 18, 139),
                    ("DHP487", 18, 169),
                    ("DHP484", 18, 189),
                    ("DHP486", 18, 269),
                    ("DF333D", 12, 109),
                    ("HP333D", 12, 119),
                ],
            ),
            (
                DEWALT,
                [
                    ("DCD776", 18, 129),
                    ("DCD778", 18, 149),
                    ("DCD796", 18, 199),
                    ("DCD999", 18, 289),
                    ("DCD701", 12, 109),
                    ("DCD706", 12, 129),
                ],
            ),
            (
                MILWAUKEE,
                [
                    ("M18BDD", 18, 139),
                    ("M18BLDD2", 18, 169),
                    ("M18FPD3", 18, 299),
                    ("M18ONEPD3", 18, 339),
                    ("M12BDD", 12, 99),
                    ("M12FPD2", 12, 189),
                ],
            ),
            (
                METABO,
                [
                    ("BS18L", 18, 119),
                    ("BS18LBL", 18, 149),
                    ("SB18LTBL", 18, 229),
                    ("BS18LTXBL", 18, 279),
                    ("BS12", 12, 99),
                    ("POWERMAXXSB", 12, 129),
                ],
            ),
        ];
        for (brand, models) in DRILLS {
            let successor = models.get(1).map(|m| m.0);
            for (i, (model, volts, base)) in models.into_iter().enumerate() {
                let mut family = Family::new(
                    "drills",
                    "DRL",
                    brand,
                    model,
                    format!("{volts} V drill driver"),
                    eur(base * 100),
                )
                .attr("voltage", json!(volts))
                .attr("powered", json!(true))
                .attr("certifications", json!(["CE"]))
                .platform(Platform::Tool(volts))
                .axis("kit", kits(volts))
                .axis(
                    "packaging",
                    vec![val("cardboard box", "C", 100), val("carry case", "L", 108)],
                );
                if let (0, Some(next)) = (i, successor) {
                    family = family.replaced_by(next);
                }
                self.family(family);
            }
        }
        for brand in POWER_TOOL_BRANDS {
            for (model, volts, base) in [
                ("ID120", 12, 99),
                ("ID150", 18, 139),
                ("ID170", 18, 179),
                ("ID180", 18, 219),
            ] {
                self.family(
                    Family::new(
                        "impact-drivers",
                        "IMP",
                        brand,
                        model,
                        format!("{volts} V impact driver"),
                        eur(base * 100),
                    )
                    .attr("voltage", json!(volts))
                    .attr("powered", json!(true))
                    .platform(Platform::Tool(volts))
                    .axis("kit", kits(volts))
                    .axis(
                        "packaging",
                        vec![val("cardboard box", "C", 100), val("carry case", "L", 108)],
                    ),
                );
            }
            for (model, noun, base, blade) in [
                ("CS18", "circular saw", 189, 165),
                ("PS18", "plunge saw", 349, 165),
                ("JS18", "jigsaw", 169, 0),
                ("RS18", "reciprocating saw", 179, 0),
                ("MS18", "mitre saw", 429, 216),
            ] {
                let mut family = Family::new("saws", "SAW", brand, model, noun, eur(base * 100))
                    .axis(
                        "power",
                        vec![
                            val("18 V bare", "Z", 100)
                                .attr("voltage", json!(18))
                                .attr("powered", json!(true))
                                .platform(Platform::Tool(18)),
                            val("18 V, 2 × 5.0 Ah", "K5", 230)
                                .attr("voltage", json!(18))
                                .attr("powered", json!(true))
                                .platform(Platform::Tool(18)),
                            val("230 V corded", "M", 90)
                                .attr("voltage", json!(230))
                                .attr("powered", json!(true)),
                        ],
                    );
                if blade > 0 {
                    family = family.attr("blade_mm", json!(blade));
                }
                self.family(family);
            }
            for (model, base) in [
                ("AG18", 129),
                ("AG18B", 179),
                ("AG18X", 219),
                ("AG18XL", 249),
            ] {
                self.family(
                    Family::new(
                        "grinders",
                        "GRD",
                        brand,
                        model,
                        "18 V angle grinder",
                        eur(base * 100),
                    )
                    .attr("voltage", json!(18))
                    .attr("powered", json!(true))
                    .platform(Platform::Tool(18))
                    .axis(
                        "disc",
                        vec![
                            val("115 mm", "115", 100).attr("disc_mm", json!(115)),
                            val("125 mm", "125", 104).attr("disc_mm", json!(125)),
                        ],
                    )
                    .axis("kit", kits(18)),
                );
            }
        }
        const PACKS: [(Brand, &str, &str); 5] = [
            (BOSCH, "GBA12V", "GBA18V"),
            (MAKITA, "BL10", "BL18"),
            (DEWALT, "DCB12", "DCB18"),
            (MILWAUKEE, "M12B", "M18B"),
            (METABO, "LIHD12", "LIHD18"),
        ];
        for (brand, small, large) in PACKS {
            for (model, volts, capacities) in [
                (small, 12, &[20_u64, 30, 40, 60][..]),
                (large, 18, &[20, 30, 40, 50, 60, 80][..]),
            ] {
                let values = capacities
                    .iter()
                    .map(|&ah| {
                        let label = format!("{}.{} Ah", ah / 10, ah % 10);
                        val(
                            label,
                            format!("{}.{}AH", ah / 10, ah % 10),
                            100 + (ah - 20) * 22 / 10,
                        )
                        .attr("capacity_ah", tenths_value(ah))
                    })
                    .collect();
                self.family(
                    Family::new(
                        "batteries",
                        "BAT",
                        brand,
                        model,
                        format!("{volts} V battery"),
                        eur(if volts == 12 { 4_900 } else { 6_900 }),
                    )
                    .attr("voltage", json!(volts))
                    .cost(80, 88)
                    .platform(Platform::Pack(volts))
                    .axis("capacity", values),
                );
            }
            self.family(
                Family::new(
                    "batteries",
                    "CHG",
                    brand,
                    "CHARGER",
                    "charger 12-18 V",
                    eur(3_900),
                )
                .attr("voltage", json!([12, 18]))
                .cost(70, 78)
                .platform(Platform::Charger)
                .axis(
                    "type",
                    vec![
                        val("standard", "STD", 100),
                        val("fast", "FAST", 160),
                        val("dual bay", "DUAL", 240),
                    ],
                ),
            );
        }
        for brand in [BOSCH, DEWALT, MAKITA] {
            self.family(
                Family::new(
                    "bits",
                    "BIT",
                    brand,
                    "HSSG",
                    "HSS-G metal drill bit",
                    eur(190),
                )
                .attr("material", json!("HSS-G"))
                .cost(45, 55)
                .axis(
                    "diameter",
                    (10..=130_u64)
                        .step_by(5)
                        .map(|d| {
                            val(format!("Ø {} mm", tenths(d)), tenths(d), 100 + (d - 10) * 4)
                                .attr("diameter_mm", tenths_value(d))
                        })
                        .collect(),
                ),
            );
            self.family(
                Family::new(
                    "bits",
                    "BIT",
                    brand,
                    "SDSPLUS",
                    "SDS-plus concrete bit",
                    eur(390),
                )
                .attr("shank", json!("SDS-plus"))
                .cost(45, 55)
                .axis(
                    "diameter",
                    [5_u64, 6, 8, 10, 12, 14, 16, 20]
                        .iter()
                        .map(|&d| {
                            val(format!("Ø {d} mm"), d.to_string(), 100 + (d - 5) * 18)
                                .attr("diameter_mm", json!(d))
                        })
                        .collect(),
                )
                .axis(
                    "length",
                    [110_u64, 160, 210]
                        .iter()
                        .map(|&l| {
                            val(format!("{l} mm"), format!("L{l}"), 100 + (l - 110) / 2)
                                .attr("length_mm", json!(l))
                        })
                        .collect(),
                ),
            );
            self.family(
                Family::new(
                    "bits",
                    "BIT",
                    brand,
                    "WOOD",
                    "brad-point wood bit",
                    eur(290),
                )
                .attr("material", json!("CV steel"))
                .cost(45, 55)
                .axis(
                    "diameter",
                    (3..=12_u64)
                        .map(|d| {
                            val(format!("Ø {d} mm"), d.to_string(), 100 + (d - 3) * 15)
                                .attr("diameter_mm", json!(d))
                        })
                        .collect(),
                ),
            );
        }
    }

    fn hand_tools(&mut self) {
        const TIPS: [&str; 14] = [
            "PZ1", "PZ2", "PZ3", "PH1", "PH2", "SL3", "SL4", "SL5.5", "SL6.5", "T10", "T15", "T20",
            "T25", "T30",
        ];
        for brand in [FACOM, STANLEY, WERA, KNIPEX] {
            self.family(
                Family::new(
                    "hand-tools",
                    "HND",
                    brand,
                    "COMBI",
                    "combination spanner",
                    eur(490),
                )
                .attr("finish", json!("chrome"))
                .axis(
                    "size",
                    (6..=32_u64)
                        .map(|s| {
                            val(format!("{s} mm"), s.to_string(), 100 + (s - 6) * 12)
                                .attr("size_mm", json!(s))
                        })
                        .collect(),
                ),
            );
            for (model, noun, base) in [
                ("PLCOMB", "combination pliers", 1_890),
                ("PLNOSE", "long-nose pliers", 1_790),
                ("PLDIAG", "diagonal cutters", 1_990),
                ("PLPUMP", "water pump pliers", 2_490),
            ] {
                self.family(
                    Family::new("hand-tools", "HND", brand, model, noun, eur(base))
                        .attr("insulated", json!(false))
                        .axis(
                            "length",
                            [(160_u64, 100), (180, 110), (200, 125), (250, 150)]
                                .iter()
                                .map(|&(l, f)| {
                                    val(format!("{l} mm"), l.to_string(), f)
                                        .attr("length_mm", json!(l))
                                })
                                .collect(),
                        ),
                );
            }
            for (model, noun, insulated, base) in [
                ("SDVDE", "1000 V insulated screwdriver", true, 890),
                ("SDSTD", "screwdriver", false, 590),
            ] {
                let mut family = Family::new("hand-tools", "HND", brand, model, noun, eur(base))
                    .attr("insulated", json!(insulated))
                    .axis(
                        "tip",
                        TIPS.iter()
                            .map(|&t| val(t, t, 100).attr("tip", json!(t)))
                            .collect(),
                    );
                if insulated {
                    family = family.attr("certifications", json!(["CE", "IEC 60900"]));
                }
                self.family(family);
            }
        }
    }

    fn safety(&mut self) {
        for brand in [ANSELL, MAPA] {
            for (model, noun, base) in [
                ("NITRILE", "nitrile coated gloves", 390),
                ("CUT5", "cut-resistant gloves level 5", 890),
                ("THERMO", "winter work gloves", 690),
                ("CHEM", "chemical protection gloves", 590),
                ("LEATHER", "leather work gloves", 490),
            ] {
                self.family(
                    Family::new("gloves", "GLV", brand, model, noun, eur(base))
                        .cost(40, 50)
                        // Gloves are packed by the dozen pairs.
                        .order("12", "12")
                        .axis(
                            "size",
                            (7..=11_u64)
                                .map(|s| val(format!("size {s}"), s.to_string(), 100))
                                .collect(),
                        ),
                );
            }
        }
        for brand in [PARADE, UVEX] {
            for (model, noun, class, base) in [
                ("ROCK", "safety boots", "S3", 8_900),
                ("TRAIL", "safety trainers", "S1P", 6_900),
                ("ALPIN", "winter safety boots", "S3", 11_900),
                ("LIGHT", "lightweight safety shoes", "S1", 5_900),
                ("ESD", "ESD safety shoes", "S2", 7_900),
            ] {
                self.family(
                    Family::new("footwear", "SHO", brand, model, noun, eur(base))
                        .attr("protection_class", json!(class))
                        .cost(50, 60)
                        .axis(
                            "size",
                            (38..=47_u64)
                                .map(|s| {
                                    val(format!("EU {s}"), s.to_string(), 100)
                                        .attr("eu_size", json!(s))
                                })
                                .collect(),
                        ),
                );
            }
        }
    }

    fn cables(&mut self) {
        const COPPER: [u64; 7] = [15, 25, 40, 60, 100, 160, 250];
        const RUBBER: [u64; 6] = [15, 25, 40, 60, 100, 160];
        const WIRE: [u64; 4] = [15, 25, 40, 60];
        const ALUMINIUM: [u64; 6] = [160, 250, 350, 500, 700, 950];
        const COLOURS: [(&str, &str); 6] = [
            ("blue", "BU"),
            ("brown", "BN"),
            ("black", "BK"),
            ("green-yellow", "GNYE"),
            ("grey", "GY"),
            ("red", "RD"),
        ];
        // Sections in tenths of mm²; a bigger section costs a little less per mm² of conductor.
        let sections = |list: &[u64], economy: u64| -> Vec<AxisValue> {
            let first = list.first().copied().unwrap_or(1).max(1);
            list.iter()
                .map(|&s| {
                    let factor = (s * 100 / first * economy / 100).max(100);
                    val(format!("{} mm²", tenths(s)), tenths(s), factor)
                        .attr("section_mm2", tenths_value(s))
                })
                .collect()
        };
        const MULTI_CORE: [CableType; 3] = [
            ("R2V", "power cable", "Cu", &[2, 3, 4, 5], &COPPER, 40),
            ("H07RNF", "rubber cable", "Cu", &[2, 3, 4, 5], &RUBBER, 70),
            ("AR2V", "aluminium cable", "Al", &[1, 4], &ALUMINIUM, 95),
        ];
        for brand in [NEXANS, PRYSMIAN, GENERAL_CABLE] {
            for (kind, noun, conductor, cores, list, rate) in MULTI_CORE {
                for &n in cores {
                    // 3G: three cores, one of them the green-yellow earth; 2X: no earth core.
                    let notation = if n == 2 || conductor == "Al" {
                        "X"
                    } else {
                        "G"
                    };
                    self.family(
                        Family::new(
                            "cables",
                            "CAB",
                            brand,
                            format!("{kind}{n}{notation}"),
                            noun,
                            eur(rate * n),
                        )
                        .attr("conductor", json!(conductor))
                        .attr("cores", json!(n))
                        .attr("voltage_rating", json!("0.6/1 kV"))
                        .attr("certifications", json!(["CE", "NF"]))
                        .cost(58, 68)
                        .order("1", "0.5")
                        .axis("section", sections(list, 90)),
                    );
                }
            }
            for (kind, noun, rate) in [("H07VU", "rigid", 24), ("H07VK", "flexible", 29)] {
                self.family(
                    Family::new(
                        "cables",
                        "CAB",
                        brand,
                        kind,
                        format!("single-core {noun} wire"),
                        eur(rate),
                    )
                    .attr("conductor", json!("Cu"))
                    .attr("cores", json!(1))
                    .attr("voltage_rating", json!("450/750 V"))
                    .cost(58, 66)
                    .order("1", "0.5")
                    .axis("section", sections(&WIRE, 100))
                    .axis(
                        "colour",
                        COLOURS
                            .iter()
                            .map(|&(c, code)| val(c, code, 100).attr("color", json!(c)))
                            .collect(),
                    ),
                );
            }
        }
    }

    fn protection(&mut self) {
        const RATINGS: [(u64, u64); 10] = [
            (2, 100),
            (6, 100),
            (10, 100),
            (16, 100),
            (20, 100),
            (25, 105),
            (32, 110),
            (40, 125),
            (50, 150),
            (63, 170),
        ];
        const POLES: [(&str, &str, u64); 4] = [
            ("1P+N", "1PN", 100),
            ("2P", "2P", 160),
            ("3P", "3P", 260),
            ("4P", "4P", 340),
        ];
        for (brand, mcb, rccb, base) in [
            (SCHNEIDER, "IC60N", "ILD", 1_890),
            (LEGRAND, "DX3", "DX3ID", 1_790),
            (HAGER, "MCN", "CDA", 1_690),
            (ABB, "S200", "F200", 1_990),
        ] {
            for (curve, curve_factor) in [("B", 100), ("C", 100), ("D", 140)] {
                for (poles, code, factor) in POLES {
                    self.family(
                        Family::new(
                            "breakers",
                            "MCB",
                            brand,
                            format!("{mcb}{curve}{code}"),
                            format!("miniature circuit breaker curve {curve} {poles}"),
                            eur(scale(base, curve_factor * factor / 100)),
                        )
                        .attr("curve", json!(curve))
                        .attr("poles", json!(poles))
                        .attr("breaking_ka", json!(if brand == HAGER { 6 } else { 10 }))
                        .attr("certifications", json!(["CE", "NF"]))
                        .cost(50, 62)
                        .axis(
                            "rating",
                            RATINGS
                                .iter()
                                .map(|&(a, f)| {
                                    val(format!("{a} A"), format!("{a}A"), f)
                                        .attr("rating_a", json!(a))
                                })
                                .collect(),
                        ),
                    );
                }
            }
            for (kind, kind_factor) in [("AC", 100), ("A", 130), ("F", 180)] {
                for sensitivity in [30_u64, 300] {
                    self.family(
                        Family::new(
                            "rcds",
                            "RCD",
                            brand,
                            format!("{rccb}{kind}{sensitivity}"),
                            format!("residual current switch type {kind} {sensitivity} mA"),
                            eur(scale(base * 3, kind_factor)),
                        )
                        .attr("rcd_type", json!(kind))
                        .attr("sensitivity_ma", json!(sensitivity))
                        .cost(50, 62)
                        .axis(
                            "rating",
                            [(25_u64, 100), (40, 115), (63, 150)]
                                .iter()
                                .map(|&(a, f)| {
                                    val(format!("{a} A"), format!("{a}A"), f)
                                        .attr("rating_a", json!(a))
                                })
                                .collect(),
                        )
                        .axis(
                            "poles",
                            vec![
                                val("2P", "2P", 100).attr("poles", json!("2P")),
                                val("4P", "4P", 190).attr("poles", json!("4P")),
                            ],
                        ),
                    );
                }
            }
        }
    }

    fn wiring_devices(&mut self) {
        const FUNCTIONS: [(&str, &str, u64); 8] = [
            ("cover plate, 1 gang", "PLT1", 100),
            ("socket 2P+E", "SOCK", 160),
            ("USB A+C socket", "USB", 620),
            ("switch", "SW", 150),
            ("two-way switch", "SW2", 170),
            ("push button", "PB", 160),
            ("LED dimmer", "DIM", 780),
            ("RJ45 Cat6 socket", "RJ45", 390),
        ];
        const FINISHES: [(&str, &str, u64); 3] = [
            ("white", "WH", 100),
            ("aluminium", "AL", 145),
            ("anthracite", "AN", 150),
        ];
        for (brand, ranges) in [
            (
                LEGRAND,
                [("CELIANE", 690), ("MOSAIC", 390), ("DOOXIE", 290)],
            ),
            (SCHNEIDER, [("ODACE", 490), ("UNICA", 450), ("MUREVA", 590)]),
            (
                HAGER,
                [("GALLERY", 550), ("ESSENSYA", 290), ("KALLYSTA", 640)],
            ),
        ] {
            for (range, base) in ranges {
                self.family(
                    Family::new(
                        "wiring-devices",
                        "WD",
                        brand,
                        range,
                        "wiring device",
                        eur(base),
                    )
                    .attr("range", json!(range))
                    .axis(
                        "function",
                        FUNCTIONS
                            .iter()
                            .map(|&(label, code, f)| {
                                val(label, code, f).attr("function", json!(code.to_lowercase()))
                            })
                            .collect(),
                    )
                    .axis(
                        "finish",
                        FINISHES
                            .iter()
                            .map(|&(label, code, f)| {
                                val(label, code, f).attr("finish", json!(label))
                            })
                            .collect(),
                    ),
                );
            }
        }
        // A mechanism is sold without its plate: it requires the plate of its range and finish.
        for draft in &mut self.drafts {
            if draft.category != "wiring-devices" || draft.sku.contains("-PLT1-") {
                continue;
            }
            if let Some((head, finish)) = draft.sku.rsplit_once('-') {
                if let Some((range, _function)) = head.rsplit_once('-') {
                    draft.requires.push(format!("{range}-PLT1-{finish}"));
                }
            }
        }
    }

    fn lighting(&mut self) {
        const CCT: [u64; 3] = [3_000, 4_000, 6_500];
        for brand in [PHILIPS, LEDVANCE, SYLVANIA] {
            for (model, noun, ip, powers, base) in [
                (
                    "PANEL600",
                    "LED panel 600 × 600",
                    "IP20",
                    [25_u64, 33, 40],
                    4_900,
                ),
                ("DOWN", "LED downlight", "IP44", [7, 12, 18], 1_690),
                ("FLOOD", "LED floodlight", "IP65", [20, 50, 100], 3_490),
                ("BATTEN", "LED batten", "IP65", [18, 36, 54], 2_990),
                ("HIGHBAY", "LED high bay", "IP65", [100, 150, 200], 14_900),
            ] {
                let first = powers.first().copied().unwrap_or(1).max(1);
                self.family(
                    Family::new("lighting", "LUM", brand, model, noun, eur(base))
                        .attr("ip_rating", json!(ip))
                        .axis(
                            "power",
                            powers
                                .iter()
                                .map(|&w| {
                                    val(format!("{w} W"), format!("{w}W"), 60 + 40 * w / first)
                                        .attr("power_w", json!(w))
                                        .attr("lumen", json!(w * 125))
                                })
                                .collect(),
                        )
                        .axis(
                            "colour temperature",
                            CCT.iter()
                                .map(|&k| {
                                    val(format!("{k} K"), format!("{}K", k / 100), 100)
                                        .attr("cct_k", json!(k))
                                })
                                .collect(),
                        ),
                );
            }
        }
        for (brand, models) in [
            (PHILIPS, ["LUMA1", "LUMA2", "CITYSOUL", "DIGISTREET"]),
            (THORN, ["ISARO", "R2L2", "OPTIFLOOD", "PLURIO"]),
        ] {
            for (i, model) in (0_u64..).zip(models) {
                self.family(
                    Family::new(
                        "street-lighting",
                        "STL",
                        brand,
                        model,
                        "LED street light",
                        eur(38_900 + i * 6_000),
                    )
                    .attr("ip_rating", json!("IP66"))
                    .attr("ik_rating", json!("IK09"))
                    .cost(58, 64)
                    .listing(Listing::Framework)
                    .axis(
                        "power",
                        [(30_u64, 100), (60, 118), (90, 136), (120, 155)]
                            .iter()
                            .map(|&(w, f)| {
                                val(format!("{w} W"), format!("{w}W"), f)
                                    .attr("power_w", json!(w))
                                    .attr("lumen", json!(w * 150))
                            })
                            .collect(),
                    )
                    .axis(
                        "optic",
                        vec![
                            val("type II", "T2", 100).attr("optic", json!("II")),
                            val("type III", "T3", 100).attr("optic", json!("III")),
                        ],
                    ),
                );
            }
        }
    }

    fn enclosures(&mut self) {
        for (brand, model, base) in [
            (SCHNEIDER, "RESI9", 3_490),
            (LEGRAND, "DRIVIA", 3_290),
            (HAGER, "VOLTA", 3_690),
        ] {
            for (mounting, code, factor) in [("surface", "S", 100), ("flush", "F", 125)] {
                self.family(
                    Family::new(
                        "enclosures",
                        "ENC",
                        brand,
                        format!("{model}{code}"),
                        format!("{mounting}-mounted distribution board"),
                        eur(scale(base, factor)),
                    )
                    .attr("mounting", json!(mounting))
                    .attr("ip_rating", json!("IP30"))
                    .axis(
                        "rows",
                        (1..=4_u64)
                            .map(|r| {
                                val(format!("{r} row"), format!("{r}R"), 100 + (r - 1) * 70)
                                    .attr("rows", json!(r))
                            })
                            .collect(),
                    )
                    .axis(
                        "modules per row",
                        [13_u64, 18]
                            .iter()
                            .map(|&m| {
                                val(format!("{m} modules"), format!("{m}M"), 100 + (m - 13) * 4)
                                    .attr("modules", json!(m))
                            })
                            .collect(),
                    ),
                );
            }
        }
    }

    fn fasteners(&mut self) {
        const LENGTHS: [u64; 11] = [16, 20, 25, 30, 35, 40, 45, 50, 60, 70, 80];
        for brand in [SPAX, FISCHER] {
            // Base price per piece, in ten-thousandths of a euro, for Ø 3.0 × 16 mm.
            for (kind, noun, drive, base) in [
                ("WOOD", "wood screw, countersunk", "TX", 190),
                ("CHIP", "chipboard screw", "PZ", 120),
                ("DECK", "stainless decking screw", "TX", 420),
                ("SELF", "self-tapping screw, hex head", "HEX", 260),
            ] {
                for diameter in [30_u64, 35, 40, 45, 50, 60] {
                    self.family(
                        Family::new(
                            "screws",
                            "SCR",
                            brand,
                            format!("{kind}{}", tenths(diameter)),
                            format!("{noun} Ø {} mm", tenths(diameter)),
                            scale(base, 100 + (diameter - 30) * 6),
                        )
                        .attr("drive", json!(drive))
                        .attr("diameter_mm", tenths_value(diameter))
                        .attr(
                            "material",
                            json!(if kind == "DECK" {
                                "A2 stainless"
                            } else {
                                "zinc-plated steel"
                            }),
                        )
                        .cost(38, 48)
                        .order("100", "100")
                        .listing(Listing::Pieces)
                        .axis(
                            "length",
                            LENGTHS
                                .iter()
                                .map(|&l| {
                                    val(format!("{l} mm"), l.to_string(), 100 + (l - 16) * 3)
                                        .attr("length_mm", json!(l))
                                })
                                .collect(),
                        ),
                    );
                }
            }
        }
        for brand in [FISCHER, SPIT] {
            for (kind, noun, base) in [
                ("SX", "nylon wall plug", 90),
                ("HM", "hollow-wall metal anchor", 1_100),
                ("SXRL", "frame fixing with screw", 1_900),
            ] {
                self.family(
                    Family::new("anchors", "ANC", brand, kind, noun, base)
                        .cost(38, 48)
                        .order("50", "50")
                        .listing(Listing::Pieces)
                        .axis(
                            "diameter",
                            [5_u64, 6, 8, 10, 12, 14]
                                .iter()
                                .map(|&d| {
                                    val(format!("Ø {d} mm"), d.to_string(), 100 + (d - 5) * 25)
                                        .attr("diameter_mm", json!(d))
                                })
                                .collect(),
                        ),
                );
            }
        }
        for (kind, noun, material, base) in [
            (
                "HB88",
                "hex bolt DIN 933 class 8.8",
                "zinc-plated steel",
                900,
            ),
            ("HBA2", "hex bolt DIN 933 A2", "A2 stainless", 2_100),
        ] {
            for (thread, factor) in [
                ("M6", 100),
                ("M8", 150),
                ("M10", 230),
                ("M12", 330),
                ("M16", 600),
            ] {
                self.family(
                    Family::new(
                        "bolts",
                        "BLT",
                        ACTON,
                        format!("{kind}{thread}"),
                        format!("{noun} {thread}"),
                        scale(base, factor),
                    )
                    .attr("thread", json!(thread))
                    .attr("material", json!(material))
                    .cost(38, 48)
                    .order("25", "25")
                    .listing(Listing::Pieces)
                    .axis(
                        "length",
                        [20_u64, 30, 40, 50, 60, 80, 100]
                            .iter()
                            .map(|&l| {
                                val(format!("{l} mm"), l.to_string(), 100 + (l - 20) * 2)
                                    .attr("length_mm", json!(l))
                            })
                            .collect(),
                    ),
                );
            }
        }
    }

    /// Cordless tools list their brand's packs and charger as accessories; packs list the tools
    /// they fit as compatible.
    fn link_platforms(&mut self) {
        let mut packs: BTreeMap<(&str, u64), Vec<String>> = BTreeMap::new();
        let mut chargers: BTreeMap<&str, String> = BTreeMap::new();
        let mut tools: BTreeMap<(&str, u64), Vec<String>> = BTreeMap::new();
        for draft in &self.drafts {
            match draft.platform {
                // The mid-range packs are the ones a shop suggests.
                Platform::Pack(volts)
                    if draft.sku.ends_with("-4.0AH") || draft.sku.ends_with("-5.0AH") =>
                {
                    packs
                        .entry((draft.brand.code, volts))
                        .or_default()
                        .push(draft.sku.clone());
                }
                Platform::Charger if draft.sku.ends_with("-FAST") => {
                    chargers.insert(draft.brand.code, draft.sku.clone());
                }
                Platform::Tool(volts)
                    if draft.replaced_by.is_none() && draft.sku.ends_with("-Z-C") =>
                {
                    tools
                        .entry((draft.brand.code, volts))
                        .or_default()
                        .push(draft.sku.clone());
                }
                _ => {}
            }
        }
        for draft in &mut self.drafts {
            match draft.platform {
                Platform::Tool(volts) => {
                    if let Some(list) = packs.get(&(draft.brand.code, volts)) {
                        draft.accessories.extend(list.iter().cloned());
                    }
                    if let Some(charger) = chargers.get(draft.brand.code) {
                        draft.accessories.push(charger.clone());
                    }
                }
                Platform::Pack(volts) => {
                    if let Some(list) = tools.get(&(draft.brand.code, volts)) {
                        draft.compatible.extend(list.iter().take(6).cloned());
                    }
                }
                Platform::Charger | Platform::None => {}
            }
        }
    }

    /// The public lists (with tiers and a dated rise), the installers' and the key account's
    /// lists, and the public framework list; entries follow the catalog order.
    fn price_lists(&mut self) -> Value {
        let mut public = Vec::new();
        let mut pieces = Vec::new();
        let mut installers = Vec::new();
        let mut batimax = Vec::new();
        let mut framework = Vec::new();
        for draft in &self.drafts {
            let p = draft.price;
            match draft.listing {
                Listing::Pieces => pieces.push(json!({
                    "sku": draft.sku,
                    "price": money4(p),
                    "tiers": [
                        {"min_qty": 1000, "price": money4(scale(p, 88).max(1))},
                        {"min_qty": 5000, "price": money4(scale(p, 78).max(1))},
                    ],
                })),
                Listing::Framework => framework.push(json!({
                    "sku": draft.sku,
                    "price": money2(list_price(scale(p, 72))),
                })),
                Listing::Public => {
                    let is_cable = draft.category == "cables";
                    let steps = if is_cable && (draft.sku.contains("-R2V") || self.rng.chance(40)) {
                        Some([(100, 94), (500, 88)])
                    } else if !is_cable && self.rng.chance(15) {
                        Some([(5, 95), (10, 90)])
                    } else {
                        None
                    };
                    if draft.brand == NEXANS {
                        // Nexans raises its prices by 6 % on 1 April: the list carries both.
                        let raised = list_price(scale(p, 106));
                        let until = json!({"until": "2027-04-01"});
                        public.push(public_entry(&draft.sku, p, steps, Some(until)));
                        let from = json!({"from": "2027-04-01"});
                        public.push(public_entry(&draft.sku, raised, steps, Some(from)));
                    } else {
                        public.push(public_entry(&draft.sku, p, steps, None));
                    }
                    let is_mcb = draft.category == "breakers";
                    if is_cable {
                        installers.push(json!({
                            "sku": draft.sku,
                            "price": money2(scale(p, 82)),
                            "tiers": [
                                {"min_qty": 100, "price": money2(scale(p, 78))},
                                {"min_qty": 500, "price": money2(scale(p, 72))},
                            ],
                        }));
                    } else if is_mcb {
                        installers.push(json!({"sku": draft.sku, "price": money2(scale(p, 80))}));
                    }
                    let batimax_range = (draft.category == "drills"
                        && draft.brand == MAKITA
                        && draft.replaced_by.is_none())
                        || (is_mcb && draft.brand == SCHNEIDER && draft.sku.contains("C1PN"));
                    if batimax_range {
                        batimax.push(json!({"sku": draft.sku, "price": money2(scale(p, 79))}));
                    }
                }
            }
        }
        json!([
            {"id": "list-eur", "name": "Public price list 2027", "currency": "EUR",
             "prices": public},
            {"id": "list-eur-pieces", "name": "Public price list 2027, fasteners per piece",
             "currency": "EUR",
             // Per-piece prices keep four decimals; only the line total is rounded to the cent.
             "rounding": {"mode": "half_up", "stage": "line", "unit_scale": 4},
             "prices": pieces},
            {"id": "resellers-eur", "name": "Reseller list: public list less 22 %",
             "currency": "EUR", "from_list": "list-eur", "percent": "-22"},
            {"id": "installers-eur", "name": "Installer list: cables and breakers",
             "currency": "EUR", "prices": installers},
            {"id": "batimax-net", "name": "Batimax negotiated net prices 2027", "currency": "EUR",
             "net": true, "valid": {"from": "2027-01-01", "until": "2028-01-01"},
             "prices": batimax},
            {"id": "framework-public-2025", "name": "Framework agreement 2025-041 price schedule",
             "currency": "EUR", "net": true, "priority": 10,
             "valid": {"from": "2025-07-01", "until": "2029-07-01"}, "prices": framework},
        ])
    }
}

/// A multi-core cable type: (type, noun, conductor, core counts, sections in tenths of mm², price
/// per metre of one core of the smallest section, in cents).
type CableType = (
    &'static str,
    &'static str,
    &'static str,
    &'static [u64],
    &'static [u64],
    u64,
);

/// Battery kits of a cordless tool.
fn kits(volts: u64) -> Vec<AxisValue> {
    let big = if volts == 12 {
        "2 × 4.0 Ah"
    } else {
        "2 × 5.0 Ah"
    };
    vec![
        val("bare tool", "Z", 100).attr("kit", json!("bare")),
        val("2 × 2.0 Ah", "K2", 165).attr("kit", json!("2x2.0Ah")),
        val(big, "K5", 240).attr("kit", json!(big.replace(' ', "").replace('×', "x"))),
    ]
}

/// A public list entry; tiers at `(min_qty, percent of price)` are dropped when rounding makes
/// them not decrease.
fn public_entry(
    sku: &str,
    price: u64,
    steps: Option<[(u64, u64); 2]>,
    valid: Option<Value>,
) -> Value {
    let mut entry = Map::new();
    entry.insert("sku".into(), json!(sku));
    entry.insert("price".into(), json!(money2(price)));
    let mut last = price;
    let mut tiers = Vec::new();
    for (min_qty, percent) in steps.into_iter().flatten() {
        let tier = list_price(scale(price, percent));
        if tier >= last {
            tiers.clear();
            break;
        }
        last = tier;
        tiers.push(json!({"min_qty": min_qty, "price": money2(tier)}));
    }
    if !tiers.is_empty() {
        entry.insert("tiers".into(), Value::Array(tiers));
    }
    if let Some(valid) = valid {
        entry.insert("valid".into(), valid);
    }
    Value::Object(entry)
}

fn settings() -> Value {
    json!({
        "default_visibility": "open",
        "timezone": "Europe/Paris",
        "default_currency": "EUR",
        "procedure": [
            {"step": "base", "select": "most_specific", "required": true},
            {"step": "discount", "select": "most_specific"},
            // Promotions never stack with each other: the best one wins.
            {"step": "promo", "select": "best"},
            // Surcharges (copper, WEEE) all add up.
            {"step": "surcharge", "select": "all"},
            {"step": "round", "select": "most_specific"},
            {"step": "bounds", "select": "most_specific", "always": true},
            // Legal fees (WEEE eco-participation) are owed whatever the commercial terms: an
            // exclusive net price or launch offer skips the steps above, never this one, and
            // no floor or rounding rule touches the fee.
            {"step": "fees", "select": "all", "always": true},
        ],
        "rounding": {"mode": "half_up", "stage": "unit"},
        "default_price_lists": ["list-eur", "list-eur-pieces"],
        "facets": {
            "attributes": ["voltage", "kit", "capacity_ah", "diameter_mm", "length_mm",
                           "section_mm2", "cores", "conductor", "color", "curve", "poles",
                           "rating_a", "rcd_type", "sensitivity_ma", "finish", "function",
                           "power_w", "cct_k", "ip_rating", "rows", "modules", "material",
                           "status", "certifications"],
            "numeric": ["voltage", "capacity_ah", "diameter_mm", "length_mm", "section_mm2",
                        "rating_a", "power_w", "cct_k"],
        },
    })
}

fn categories() -> Value {
    json!([
        {"id": "tools", "name": "Tools"},
        {"id": "power-tools", "parent": "tools", "name": "Power tools"},
        {"id": "drills", "parent": "power-tools", "name": "Drills and drill drivers"},
        {"id": "impact-drivers", "parent": "power-tools", "name": "Impact drivers"},
        {"id": "saws", "parent": "power-tools", "name": "Saws"},
        {"id": "grinders", "parent": "power-tools", "name": "Angle grinders"},
        {"id": "batteries", "parent": "tools", "name": "Batteries and chargers"},
        {"id": "bits", "parent": "tools", "name": "Drill bits"},
        {"id": "hand-tools", "parent": "tools", "name": "Hand tools"},
        {"id": "electrical", "name": "Electrical"},
        {"id": "cables", "parent": "electrical", "name": "Cables and wires"},
        {"id": "protection", "parent": "electrical", "name": "Circuit protection"},
        {"id": "breakers", "parent": "protection", "name": "Circuit breakers"},
        {"id": "rcds", "parent": "protection", "name": "Residual current devices"},
        {"id": "wiring-devices", "parent": "electrical", "name": "Switches and sockets"},
        {"id": "lighting", "parent": "electrical", "name": "Lighting"},
        {"id": "street-lighting", "parent": "lighting", "name": "Street lighting (public range)"},
        {"id": "enclosures", "parent": "electrical", "name": "Distribution boards"},
        {"id": "fasteners", "name": "Fasteners"},
        {"id": "screws", "parent": "fasteners", "name": "Screws"},
        {"id": "anchors", "parent": "fasteners", "name": "Anchors and plugs"},
        {"id": "bolts", "parent": "fasteners", "name": "Bolts"},
        {"id": "safety", "name": "Safety and PPE"},
        {"id": "gloves", "parent": "safety", "name": "Gloves"},
        {"id": "footwear", "parent": "safety", "name": "Safety footwear"},
    ])
}

fn segments() -> Value {
    json!([
        {"id": "resellers", "name": "Resellers", "price_lists": ["resellers-eur"]},
        {"id": "installers", "name": "Electrical installers", "price_lists": ["installers-eur"]},
        {"id": "public-sector", "name": "Public buyers", "price_lists": ["framework-public-2025"]},
        {"id": "key-accounts", "name": "Key accounts"},
    ])
}

fn accounts() -> Value {
    use showcase::{
        BATTERY, BREAKER, CABLE, DRILL, KEY_ACCOUNT_ALIAS, KEY_ACCOUNT_APPROVER, KEY_ACCOUNT_BUYER,
        KEY_ACCOUNT_SITE, SCREW, STREET_LIGHT,
    };
    // (id, name, parent, segments); branches inherit their parent's segments and terms.
    const ACCOUNTS: [(&str, &str, Option<&str>, &[&str]); 40] = [
        ("R-ELECDIS", "Elecdis Distribution", None, &["resellers"]),
        ("R-ELECDIS-LILLE", "Elecdis Lille", Some("R-ELECDIS"), &[]),
        ("R-ELECDIS-ROUEN", "Elecdis Rouen", Some("R-ELECDIS"), &[]),
        ("R-BRICOPRO", "Bricopro", None, &["resellers"]),
        (
            "R-QUINCAILLERIE-MARTIN",
            "Quincaillerie Martin",
            None,
            &["resellers"],
        ),
        ("R-NORDELEC", "Nord Elec Négoce", None, &["resellers"]),
        (
            "R-SUDOUEST-MAT",
            "Sud-Ouest Matériaux",
            None,
            &["resellers"],
        ),
        ("R-ALPES-OUTILLAGE", "Alpes Outillage", None, &["resellers"]),
        (
            "R-RHONE-DISTRIB",
            "Rhône Distribution",
            None,
            &["resellers"],
        ),
        ("R-BREIZH-ELEC", "Breizh Elec", None, &["resellers"]),
        ("R-ATLANTIC-FIX", "Atlantic Fixations", None, &["resellers"]),
        ("I-VOLTA", "Volta Électricité", None, &["installers"]),
        (
            "I-VOLTA-LYON",
            "Volta Électricité, agence de Lyon",
            Some("I-VOLTA"),
            &[],
        ),
        (
            "I-VOLTA-GRENOBLE",
            "Volta Électricité, agence de Grenoble",
            Some("I-VOLTA"),
            &[],
        ),
        ("I-LUMEN", "Lumen Installations", None, &["installers"]),
        (
            "I-AMPERE-SERVICES",
            "Ampère Services",
            None,
            &["installers"],
        ),
        ("I-ELEC-PLUS", "Elec Plus", None, &["installers"]),
        ("I-DUPONT-ELEC", "Dupont Électricité", None, &["installers"]),
        ("I-THERMOCLIM", "Thermoclim", None, &["installers"]),
        ("I-DOMOTEC", "Domotec", None, &["installers"]),
        ("I-BATI-ELEC", "Bati Elec", None, &["installers"]),
        ("I-CABLAGE-OUEST", "Câblage Ouest", None, &["installers"]),
        ("I-SOLAIRE-NRJ", "Solaire NRJ", None, &["installers"]),
        (
            "I-PRO-RENOV",
            "Pro Rénov",
            None,
            &["installers", "resellers"],
        ),
        ("I-ECLAIRAGE-SUD", "Éclairage Sud", None, &["installers"]),
        ("P-VILLE-LYON", "Ville de Lyon", None, &["public-sector"]),
        (
            "P-VILLE-LYON-VOIRIE",
            "Ville de Lyon, voirie",
            Some("P-VILLE-LYON"),
            &[],
        ),
        ("P-CHU-NANTES", "CHU de Nantes", None, &["public-sector"]),
        (
            "P-REGION-ARA",
            "Région Auvergne-Rhône-Alpes",
            None,
            &["public-sector"],
        ),
        ("P-LYCEE-AMPERE", "Lycée Ampère", None, &["public-sector"]),
        ("P-SDIS-38", "SDIS de l'Isère", None, &["public-sector"]),
        (
            "K-BATIMAX",
            "Batimax Construction",
            None,
            &["installers", "key-accounts"],
        ),
        (
            "K-BATIMAX-PARIS",
            "Batimax, chantiers Île-de-France",
            Some("K-BATIMAX"),
            &[],
        ),
        (
            "K-BATIMAX-MARSEILLE",
            "Batimax, chantiers Provence",
            Some("K-BATIMAX"),
            &[],
        ),
        ("K-RAILNET", "Railnet Maintenance", None, &["key-accounts"]),
        (
            "K-INDUSTRIA",
            "Industria Facilities",
            None,
            &["key-accounts", "resellers"],
        ),
        ("C-COMPTOIR-001", "Counter sales, Lyon", None, &[]),
        ("C-ARTISAN-DURAND", "Durand, artisan", None, &[]),
        ("C-WEB-GUEST", "Web shop, guest checkout", None, &[]),
        (
            "C-ASSOC-SPORTS",
            "Association sportive de Villeurbanne",
            None,
            &[],
        ),
    ];
    let accounts = ACCOUNTS.iter().map(|&(id, name, parent, segments)| {
        let mut account = Map::new();
        account.insert("id".into(), json!(id));
        account.insert("name".into(), json!(name));
        if let Some(parent) = parent {
            account.insert("parent".into(), json!(parent));
        }
        if !segments.is_empty() {
            account.insert("segments".into(), json!(segments));
            account.insert("currency".into(), json!("EUR"));
        }
        // Customers' own part numbers, as their purchasing systems send them.
        let aliases = match id {
            "I-VOLTA" => json!({"VOLTA-R2V-3G25": CABLE, "VOLTA-PERCU-18": DRILL}),
            "K-BATIMAX" => json!({
                KEY_ACCOUNT_ALIAS: CABLE,
                "BMX-100002": BREAKER,
                "BMX-100003": SCREW,
                "BMX-100004": DRILL,
                "BMX-100005": BATTERY,
            }),
            "P-VILLE-LYON" => json!({"LYON-ECL-060-T2": STREET_LIGHT}),
            _ => Value::Null,
        };
        if !aliases.is_null() {
            account.insert("aliases".into(), aliases);
        }
        if id == "K-BATIMAX" {
            account.insert("price_lists".into(), json!(["batimax-net"]));
            // The group approves its sites' large orders centrally.
            account.insert(
                "users".into(),
                json!([{"id": KEY_ACCOUNT_APPROVER, "name": "Claire Martin",
                        "roles": ["approver"]}]),
            );
            account.insert(
                "approvals".into(),
                json!([{"id": "large-orders", "kind": "total_above", "threshold": "150.00",
                        "role": "approver"}]),
            );
        }
        if id == KEY_ACCOUNT_SITE {
            account.insert(
                "users".into(),
                json!([{"id": KEY_ACCOUNT_BUYER, "name": "Julien Petit", "roles": ["buyer"],
                        "limit": "2000.00"}]),
            );
        }
        Value::Object(account)
    });
    Value::Array(accounts.collect())
}

fn contracts() -> Value {
    let copper = |id: &str, range: Value, amount: &str| {
        json!({"id": id, "step": "surcharge",
               "products": {"all_of": [{"category": "cables"},
                                       {"attr": {"key": "conductor", "eq": "Cu"}},
                                       {"attr": range}]},
               "amount": amount})
    };
    json!([
        {
            "id": "CTR-CATALOG",
            "name": "Catalog policy and surcharges",
            "audience": "all",
            "visibility": [
                {"id": "reserved-range", "effect": "deny",
                 "products": {"category": "street-lighting"}},
                {"id": "discontinued", "effect": "deny", "capabilities": ["buy"],
                 "products": {"attr": {"key": "status", "eq": "discontinued"}}},
            ],
            "rules": [
                copper("copper-small", json!({"key": "section_mm2", "max": "2.5"}), "0.06"),
                copper("copper-medium", json!({"key": "section_mm2", "min": "4", "max": "10"}),
                       "0.21"),
                copper("copper-large", json!({"key": "section_mm2", "min": "16"}), "0.84"),
                {"id": "weee", "step": "fees",
                 "products": {"attr": {"key": "powered", "eq": true}}, "amount": "0.42"},
                {"id": "floor", "step": "bounds", "products": "all", "min_margin_pct": "10"},
            ],
        },
        {
            "id": "CTR-INSTALLERS-2027",
            "name": "Installer terms 2027",
            "audience": {"segments": ["installers"]},
            "valid": {"from": "2027-01-01", "until": "2028-01-01"},
            "rules": [
                {"id": "tools", "step": "discount", "products": {"category": "tools"},
                 "percent": "-12", "tiers": [{"min_qty": 5, "percent": "-15"},
                                            {"min_qty": 20, "percent": "-18"}]},
                {"id": "drills", "step": "discount", "products": {"category": "drills"},
                 "percent": "-15", "tiers": [{"min_qty": 5, "percent": "-18"}]},
                {"id": "batteries", "step": "discount", "products": {"category": "batteries"},
                 "percent": "-25"},
                {"id": "lighting", "step": "discount", "products": {"category": "lighting"},
                 "percent": "-20", "tiers": [{"min_qty": 50, "percent": "-25"}]},
                {"id": "wiring", "step": "discount", "products": {"category": "wiring-devices"},
                 "percent": "-22"},
                {"id": "rcds", "step": "discount", "products": {"category": "rcds"},
                 "percent": "-18"},
                {"id": "enclosures", "step": "discount", "products": {"category": "enclosures"},
                 "percent": "-15"},
                {"id": "fasteners", "step": "discount", "products": {"category": "fasteners"},
                 "percent": "-30", "tiers": [{"min_qty": 1000, "percent": "-35"},
                                            {"min_qty": 5000, "percent": "-40"}]},
            ],
        },
        {
            "id": "CTR-RESELLERS-2027",
            "name": "Reseller terms 2027",
            "audience": {"segments": ["resellers"]},
            "valid": {"from": "2027-01-01", "until": "2028-01-01"},
            "visibility": [
                // Hager is distributed to installers only.
                {"id": "hager-direct", "effect": "deny", "products": {"brand": "Hager"}},
            ],
            "rules": [
                {"id": "tools-volume", "step": "discount", "products": {"category": "tools"},
                 "percent": "-3", "tiers": [{"min_qty": 10, "percent": "-6"}]},
                {"id": "fasteners", "step": "discount", "products": {"category": "fasteners"},
                 "percent": "-25", "tiers": [{"min_qty": 5000, "percent": "-30"}]},
                {"id": "floor", "step": "bounds", "products": "all", "min_margin_pct": "6"},
            ],
        },
        {
            "id": "CTR-PUBLIC-2025-041",
            "name": "Framework agreement 2025-041 (public buyers)",
            "audience": {"segments": ["public-sector"]},
            "valid": {"from": "2025-07-01", "until": "2029-07-01"},
            "priority": 5,
            "visibility": [
                {"id": "reserved-range", "effect": "allow",
                 "products": {"category": "street-lighting"}},
            ],
            "rules": [
                {"id": "electrical", "step": "discount", "products": {"category": "electrical"},
                 "percent": "-12"},
                {"id": "lighting", "step": "discount", "products": {"category": "lighting"},
                 "percent": "-18"},
                {"id": "tools", "step": "discount", "products": {"category": "tools"},
                 "percent": "-8"},
                {"id": "safety", "step": "discount", "products": {"category": "safety"},
                 "percent": "-15"},
            ],
        },
        {
            "id": "CTR-KEY-ACCOUNTS-2027",
            "name": "Key account terms 2027",
            "audience": {"segments": ["key-accounts"]},
            "valid": {"from": "2027-01-01", "until": "2028-01-01"},
            "rules": [
                {"id": "global", "step": "discount", "products": "all", "percent": "-15",
                 "tiers": [{"min_qty": 50, "percent": "-17"}, {"min_qty": 200, "percent": "-20"}]},
                // Power tools carry price points; rounding cheap items to .90 would cut too deep.
                {"id": "price-points", "step": "round", "products": {"category": "power-tools"},
                 "round_to": {"ending": "0.90", "mode": "down"}},
                {"id": "floor", "step": "bounds", "products": "all", "min_margin_pct": "8"},
            ],
        },
        {
            "id": "CTR-BATIMAX-2027",
            "name": "Batimax group agreement 2027",
            "audience": {"accounts": ["K-BATIMAX"]},
            "valid": {"from": "2027-01-01", "until": "2028-01-01"},
            "rules": [
                {"id": "fasteners", "step": "discount", "products": {"category": "fasteners"},
                 "percent": "-38"},
                // Cable comes off one drum whatever the section: from 100 m of the R2V 3G
                // family in one order, all its sections counted together, 6 % off on top of
                // the key-account discount (hence the promo step, after it).
                {"id": "cable-drums", "step": "promo", "products": {"family": "NEX-R2V3G"},
                 "tier_basis": "family", "tiers": [{"min_qty": 100, "percent": "-6"}]},
            ],
            "order_conditions": [
                {"id": "volume", "kind": "order_discount", "min_subtotal": "1000.00",
                 "percent": "3"},
                {"id": "carriage", "kind": "shipping", "charge": "25.00",
                 "free_from": "500.00"},
            ],
        },
        {
            "id": "CTR-BATIMAX-SITES",
            "name": "Batimax sites: power tools are bought centrally",
            "audience": {"accounts": ["K-BATIMAX-PARIS", "K-BATIMAX-MARSEILLE"]},
            "visibility": [
                {"id": "central-purchasing", "effect": "deny", "capabilities": ["buy"],
                 "products": {"category": "power-tools"}},
            ],
        },
        {
            "id": "PROMO-SPRING-2027",
            "name": "Spring offer: 10 % off drills, 15 % off saws",
            "audience": "all",
            "valid": {"from": "2027-03-01", "until": "2027-04-01"},
            "rules": [
                {"id": "drills", "step": "promo", "products": {"category": "drills"},
                 "percent": "-10"},
                {"id": "saws", "step": "promo", "products": {"category": "saws"},
                 "percent": "-15"},
            ],
        },
        {
            "id": "PROMO-MAKITA-DHP487",
            "name": "Makita DHP487 launch: 8 % off, not combinable",
            "audience": "all",
            "valid": {"from": "2027-03-15", "until": "2027-05-01"},
            "rules": [
                {"id": "launch", "step": "promo", "products": {"family": "MAK-DHP487"},
                 "percent": "-8", "exclusive": true},
            ],
        },
    ])
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;
    use tarif::document::{Document, Item};

    fn errors<T>(what: &str, items: &[Item<T>], out: &mut Vec<String>) {
        for (i, item) in items.iter().enumerate() {
            if let Item::Err { path, message } = item {
                out.push(format!("{what}[{i}]{path}: {message}"));
            }
        }
    }

    #[test]
    fn generation_is_deterministic() {
        assert_eq!(distributor_json(), distributor_json());
    }

    #[test]
    fn parses_as_a_document_without_errors() {
        let doc: Document = serde_json::from_value(distributor()).expect("document parses");
        let mut out = Vec::new();
        assert!(matches!(doc.settings, Some(Item::Ok(_))), "settings parse");
        errors("currencies", &doc.currencies, &mut out);
        errors("categories", &doc.categories, &mut out);
        errors("products", &doc.products, &mut out);
        errors("price_lists", &doc.price_lists, &mut out);
        errors("segments", &doc.segments, &mut out);
        errors("accounts", &doc.accounts, &mut out);
        errors("contracts", &doc.contracts, &mut out);
        for list in doc.price_lists.iter().filter_map(Item::ok) {
            errors(&list.id, &list.prices, &mut out);
        }
        for contract in doc.contracts.iter().filter_map(Item::ok) {
            errors(&contract.id, &contract.rules, &mut out);
            errors(&contract.id, &contract.visibility, &mut out);
        }
        assert!(out.is_empty(), "{out:#?}");
        assert!(
            (3_000..=5_000).contains(&doc.products.len()),
            "{}",
            doc.products.len()
        );
        assert_eq!(doc.accounts.len(), 40);
    }

    #[test]
    fn references_identifiers_and_barcodes_are_valid() {
        let doc: Document = serde_json::from_value(distributor()).expect("document parses");
        let products: Vec<_> = doc.products.iter().filter_map(Item::ok).collect();
        let skus: BTreeSet<&str> = products.iter().map(|p| p.sku.as_str()).collect();
        assert_eq!(skus.len(), products.len(), "duplicate SKU");
        let eans: BTreeSet<_> = products.iter().filter_map(|p| p.ean.as_deref()).collect();
        assert_eq!(eans.len(), products.len(), "duplicate or missing EAN");
        let mpns: BTreeSet<_> = products.iter().filter_map(|p| p.mpn.as_deref()).collect();
        assert_eq!(mpns.len(), products.len(), "duplicate or missing MPN");
        for ean in eans {
            let digits: Vec<u32> = ean.chars().filter_map(|c| c.to_digit(10)).collect();
            assert_eq!(digits.len(), 13, "{ean}");
            let sum: u32 = digits
                .iter()
                .enumerate()
                .map(|(i, d)| d * [1, 3][i % 2])
                .sum();
            assert_eq!(sum % 10, 0, "bad check digit in {ean}");
        }
        let categories: BTreeSet<_> = doc
            .categories
            .iter()
            .filter_map(Item::ok)
            .map(|c| c.id.as_str())
            .collect();
        let mut targets = Vec::new();
        for product in &products {
            assert!(product
                .categories
                .iter()
                .all(|c| categories.contains(c.as_str())));
            if let Some(r) = &product.relations {
                targets.extend(r.requires.iter().chain(&r.accessories).chain(&r.compatible));
                targets.extend(&r.replaced_by);
            }
        }
        for list in doc.price_lists.iter().filter_map(Item::ok) {
            targets.extend(list.prices.iter().filter_map(Item::ok).map(|e| &e.sku));
        }
        for account in doc.accounts.iter().filter_map(Item::ok) {
            targets.extend(account.aliases.values());
        }
        let missing: Vec<_> = targets
            .iter()
            .filter(|t| !skus.contains(t.as_str()))
            .collect();
        assert!(missing.is_empty(), "unknown SKUs: {missing:?}");
        for sku in [
            showcase::DRILL,
            showcase::CABLE,
            showcase::BREAKER,
            showcase::BATTERY,
            showcase::SCREW,
            showcase::STREET_LIGHT,
        ] {
            assert!(skus.contains(sku), "{sku}");
        }
    }

    #[test]
    fn compiles_without_unexpected_warnings() {
        let compiled = tarif::Engine::compile(&distributor_json(), &Default::default())
            .unwrap_or_else(|e| panic!("{e}"));
        // The reserved range is hidden from everyone, so its missing everyone-level price is
        // no warning either.
        assert!(compiled.warnings.is_empty(), "{:#?}", compiled.warnings);
        let engine = compiled.engine;
        for account in [
            showcase::WALK_IN,
            showcase::RESELLER,
            showcase::INSTALLER_BRANCH,
            showcase::PUBLIC_BODY,
            showcase::KEY_ACCOUNT_SITE,
        ] {
            assert!(engine.accounts().any(|a| a == account), "{account}");
        }
        assert_eq!(
            engine.lookup(showcase::KEY_ACCOUNT_SITE, showcase::KEY_ACCOUNT_ALIAS),
            Ok(showcase::CABLE)
        );
    }

    /// The copies the Python and npm packages ship as data, relative to the workspace root.
    const SHIPPED: [&str; 2] = [
        "bindings-python/python/tarif/sample.json",
        "bindings-node/sample.json",
    ];

    /// The packages' `sample_document()` reads these files instead of running this crate, so
    /// they must be exactly its output. `TARIF_BLESS=1` rewrites them.
    #[test]
    fn committed_copies_are_current() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let text = distributor_json() + "\n";
        let bless = std::env::var_os("TARIF_BLESS").is_some();
        for copy in SHIPPED {
            let path = root.join(copy);
            if bless {
                std::fs::write(&path, &text).unwrap_or_else(|e| panic!("{copy}: {e}"));
                continue;
            }
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                committed == text,
                "{copy} is not the current sample document: regenerate it with \
                 `TARIF_BLESS=1 cargo test -p tarif-sample` and commit it"
            );
        }
    }
}
