//! `make demo`: compiles the sample distributor document, then shows what five customers see,
//! what they pay for the same six products and why, how references resolve, and the explanation
//! of one surprising price, a quick order pasted from a spreadsheet, one customer's own catalog,
//! filtered and counted, an ERP delta applied, diffed and snapshotted, and a sales quote with
//! prices set by hand, placed after the price change. Everything is priced at a fixed instant, so only the timings
//! differ from run to run.

use std::error::Error;

use serde_json::Value;
use tarif::{
    Capability, Decimal, Engine, Facet, Filter, Instant, Order, OrderLine, Placing, PricedOrder,
    Quote, QuoteDraft, QuoteRequest, RelationKind, SalesQuote, SearchQuery, Source, Status,
    TextOptions,
};
use tarif_sample::{self as sample, showcase};

const CUSTOMERS: [&str; 5] = [
    showcase::WALK_IN,
    showcase::RESELLER,
    showcase::INSTALLER_BRANCH,
    showcase::PUBLIC_BODY,
    showcase::KEY_ACCOUNT_SITE,
];

/// The products every customer is quoted, with a quantity that makes sense for each.
const LINES: [(&str, &str); 6] = [
    (showcase::DRILL, "1"),
    (showcase::CABLE, "100"),
    (showcase::BREAKER, "10"),
    (showcase::BATTERY, "2"),
    (showcase::SCREW, "500"),
    (showcase::STREET_LIGHT, "4"),
];

fn main() -> Result<(), Box<dyn Error>> {
    let doc = sample::distributor();
    let engine = Engine::from_json(&doc.to_string())?;
    let at = engine.parse_instant(showcase::AT)?;
    let products = doc["products"].as_array().map_or(&[][..], Vec::as_slice);
    let accounts = doc["accounts"].as_array().map_or(&[][..], Vec::as_slice);
    println!(
        "Tarif demo: the sample distributor, {} products, {} accounts, engine {}",
        engine.skus().len(),
        engine.accounts().len(),
        engine.engine_version()
    );
    println!("Every answer below is at {} (Europe/Paris).", showcase::AT);

    section("What each customer may see, see the price of, and buy");
    let mut table = Table::new(&["customer", "who", "see", "price", "buy"]);
    for customer in CUSTOMERS {
        let mut counts = [0_usize; 3];
        for sku in engine.skus() {
            let caps = engine.visibility(customer, sku, Some(at))?;
            for (count, allowed) in counts.iter_mut().zip([caps.see, caps.price, caps.buy]) {
                *count += usize::from(allowed);
            }
        }
        let [see, price, buy] = counts.map(|c| c.to_string());
        table.row([
            customer.to_string(),
            profile(accounts, customer),
            see,
            price,
            buy,
        ]);
    }
    table.print();

    section("The same products, five customers");
    for (sku, qty) in LINES {
        let qty: Decimal = qty.parse()?;
        println!("\n{sku}  {}  × {qty}", product_name(products, sku));
        let mut table = Table::new(&[
            "customer",
            "list",
            "base",
            "unit",
            "line",
            "buy",
            "price set by",
        ]);
        for customer in CUSTOMERS {
            let request = QuoteRequest::new(customer, sku, qty).at(at);
            table.row(match engine.quote(&request) {
                Ok(quote) => quote_row(customer, &quote),
                Err(e) => {
                    let mut row = vec![customer.to_string()];
                    row.extend(["", "", "", "", ""].map(String::from));
                    row.push(e.code().to_string());
                    row
                }
            });
        }
        table.print();
    }

    section("Which product does this reference mean?");
    let drill_ean = field(products, showcase::DRILL, "ean");
    let light_ean = field(products, showcase::STREET_LIGHT, "ean");
    let lookups = [
        (
            "EAN as scanned, spaced",
            showcase::WALK_IN,
            spaced(&drill_ean),
        ),
        (
            "customer part number",
            showcase::KEY_ACCOUNT_SITE,
            " bmx-100001 ".to_string(),
        ),
        (
            "reserved range, by EAN",
            showcase::WALK_IN,
            light_ean.clone(),
        ),
        ("same, public buyer", showcase::PUBLIC_BODY, light_ean),
    ];
    let mut table = Table::new(&["lookup", "customer", "reference", "answer"]);
    for (what, customer, reference) in lookups {
        let answer = match engine.lookup_at(customer, &reference, at) {
            Ok(sku) => sku.to_string(),
            Err(e) => e.code().to_string(),
        };
        table.row([
            what.to_string(),
            customer.to_string(),
            format!("{reference:?}"),
            answer,
        ]);
    }
    table.print();

    quick_order(&engine, products, at)?;

    catalog(&engine, at)?;

    section("Why does Elecdis not get the spring 10 % off on the new Makita drill?");
    let request = QuoteRequest::new(showcase::RESELLER, showcase::DRILL, Decimal::ONE).at(at);
    println!("{}", engine.explain(&request)?);

    erp_sync(&engine, at)?;
    sales_quote(&engine, at)?;
    Ok(())
}

/// The ERP sends a delta: a list price increase and a new line in the resellers' contract.
/// Applied, it gives a new engine (the old one keeps answering), the entities it changed, and
/// the lines whose price moved. Timings vary from run to run; every other figure does not.
fn erp_sync(engine: &Engine, at: Instant) -> Result<(), Box<dyn Error>> {
    section("ERP sync: a price increase and a new contract line, applied as a delta");
    let delta = serde_json::json!({
        "format": "tarif/1-changes",
        "engine_version": engine.engine_version(),
        "upsert": {
            "prices": [{"list": "list-eur", "sku": showcase::DRILL, "price": "459.80"}],
            "rules": [{"contract": "CTR-RESELLERS-2027", "id": "breakers-8", "step": "discount",
                       "products": {"sku": showcase::BREAKER}, "percent": "-8"}]
        }
    });
    println!("{}", serde_json::to_string_pretty(&delta)?);
    let started = std::time::Instant::now();
    let next = engine
        .apply(&delta.to_string(), &tarif::CompileOptions::default())?
        .engine;
    println!(
        "\napplied in {:.1} ms: engine {} → {}",
        started.elapsed().as_secs_f64() * 1e3,
        engine.engine_version(),
        next.engine_version()
    );
    println!("\nWhat changed:");
    for change in engine.diff(&next)?.changes {
        println!("  {change}");
    }
    let lines: Vec<(&str, &str)> = CUSTOMERS
        .iter()
        .flat_map(|c| LINES.iter().map(move |(sku, _)| (*c, *sku)))
        .collect();
    let accounts: Vec<&str> = lines.iter().map(|l| l.0).collect();
    let skus: Vec<&str> = lines.iter().map(|l| l.1).collect();
    let qtys: Vec<Decimal> = CUSTOMERS
        .iter()
        .flat_map(|_| LINES.iter().map(|(_, q)| q.parse::<Decimal>()))
        .collect::<Result<_, _>>()?;
    let changed = engine.changed_lines(
        &next,
        &accounts,
        &skus,
        &qtys,
        tarif::BatchAt::One(at),
        None,
    )?;
    println!(
        "\nThe {} lines of the five customers above, repriced: {} changed",
        lines.len(),
        changed.rows.len()
    );
    let mut table = Table::new(&["customer", "product", "qty", "before", "after"]);
    for (i, &row) in changed.rows.iter().enumerate() {
        let amount = |out: &tarif::BatchResult| match out.status.get(i) {
            Some(Status::Ok) => out
                .line_total
                .get(i)
                .map_or(String::new(), |t| t.to_string()),
            Some(status) => status.code().to_string(),
            None => String::new(),
        };
        table.row([
            accounts.get(row).unwrap_or(&"").to_string(),
            skus.get(row).unwrap_or(&"").to_string(),
            qtys.get(row).map_or(String::new(), |q| q.to_string()),
            amount(&changed.before),
            amount(&changed.after),
        ]);
    }
    table.print();

    // A service restarts from the compiled engine, not from the document.
    let path = std::env::temp_dir().join(format!("tarif-demo-{}.snap", std::process::id()));
    let started = std::time::Instant::now();
    next.save(&path)?;
    let saved = started.elapsed();
    let started = std::time::Instant::now();
    let reopened = Engine::open(&path)?;
    let opened = started.elapsed();
    let size = std::fs::metadata(&path)?.len();
    std::fs::remove_file(&path)?;
    let drill = QuoteRequest::new(showcase::RESELLER, showcase::DRILL, Decimal::ONE).at(at);
    println!(
        "\nsnapshot of {}: {:.1} MB, saved in {:.1} ms, reopened in {:.1} ms without compiling; \
         the reopened engine quotes the drill at {} for {}",
        reopened.engine_version(),
        size as f64 / 1e6,
        saved.as_secs_f64() * 1e3,
        opened.as_secs_f64() * 1e3,
        reopened.quote(&drill)?.unit_price,
        showcase::RESELLER
    );
    Ok(())
}

/// A sales rep quotes the key account's site with a price set by hand: under the floor of the
/// key accounts' contract it is refused, within it the quote is signed; placed a week later,
/// after the ERP raised the account's net price, the order keeps the quoted prices.
fn sales_quote(engine: &Engine, at: Instant) -> Result<(), Box<dyn Error>> {
    section(&format!(
        "A sales quote for {}: prices set by hand within the floors, signed, placed after the price change",
        showcase::KEY_ACCOUNT_SITE
    ));
    let key = b"the sales team's quote key, 32 B";
    const DAY: i64 = 86_400_000_000;
    let order = Order::new(
        showcase::KEY_ACCOUNT_SITE,
        vec![
            OrderLine::new(showcase::BREAKER, 40.into()),
            OrderLine::new(showcase::CABLE, 100.into()),
        ],
    )
    .at(at);
    let draft = |breaker: &str| -> Result<QuoteDraft<'_>, Box<dyn Error>> {
        Ok(QuoteDraft {
            order: order.clone(),
            manual_prices: vec![Some(breaker.parse()?)],
            valid_until: Instant(at.0 + 30 * DAY),
            number: Some("DEV-2027-0042"),
        })
    };
    let too_low = engine.prepare_quote(&draft("12.00")?, key)?;
    if let Some(Err(error)) = too_low.order.lines.first() {
        println!("breaker at 12.00: {error} ({})", error.code());
    }
    let prepared = engine.prepare_quote(&draft("13.90")?, key)?;
    let document = prepared.document.ok_or("the quote was not issued")?;
    let quote = SalesQuote::verify(&document, key)?;
    println!(
        "breaker at 13.90: quote {} signed ({} bytes of JSON), total {} EUR, valid until {}",
        quote.number.as_deref().unwrap_or(""),
        document.len(),
        quote.total,
        quote.valid_until
    );
    let raise = serde_json::json!({"format": "tarif/1-changes", "upsert": {"prices": [
        {"list": "batimax-net", "sku": showcase::BREAKER, "price": "15.60"}]}});
    let next = engine
        .apply(&raise.to_string(), &tarif::CompileOptions::default())?
        .engine;
    println!("a week later the ERP raises Batimax's net price of the breaker to 15.60; the order placed against the quote:");
    let placing = Placing {
        at: Some(Instant(at.0 + 7 * DAY)),
        ..Placing::default()
    };
    let placed = next.place_quote(&quote, &placing)?;
    let mut table = Table::new(&["product", "qty", "rules today", "quoted", "line total"]);
    for ((line, outcome), locked) in quote.lines.iter().zip(&placed.lines).zip(&placed.overrides) {
        let today = locked
            .and_then(|o| o.rules_unit_price)
            .map_or(String::new(), |p| p.to_string());
        table.row([
            line.sku.clone(),
            line.qty.to_string(),
            today,
            line.unit_price.to_string(),
            outcome
                .as_ref()
                .map_or_else(|e| e.code().to_string(), |q| q.line_total.to_string()),
        ]);
    }
    table.print();
    print_totals(&placed);
    if let Some(placed_quote) = &placed.placed_quote {
        println!(
            "placed against {} priced by engine {}: the rules have {}changed since",
            placed_quote.number.unwrap_or(""),
            placed_quote.engine_version,
            if placed_quote.rules_changed {
                ""
            } else {
                "not "
            }
        );
    }
    let forged = document.replacen("\"unit_price\": \"13.90\"", "\"unit_price\": \"3.90\"", 1);
    if let Err(error) = SalesQuote::verify(&forged, key) {
        println!(
            "the same document with the breaker at 3.90: {error} ({})",
            error.code()
        );
    }
    Ok(())
}

/// One customer's catalog under filters, as a shop's listing page asks for it: a page of
/// families with their variants and prices, and how many products each other choice would give.
fn catalog(engine: &Engine, at: Instant) -> Result<(), Box<dyn Error>> {
    let customer = showcase::INSTALLER_BRANCH;
    section(&format!(
        "{customer} browses 18 V power tools it can order (page 1, by SKU)"
    ));
    let query = SearchQuery::new()
        .filter(Filter::Category(vec!["power-tools".into()]))
        .filter(Filter::any_of("voltage", ["18"]))
        .capability(Capability::Buy)
        .group_variants(true)
        .page(0, 6)
        .prices(Decimal::ONE)
        .facet(Facet::Brand)
        .facet(Facet::attr("voltage"))
        .facet(Facet::Category);
    let page = engine.search(customer, &query, Some(at))?;
    println!(
        "{} families or products match; the first {}:",
        page.total,
        page.rows.len()
    );
    let mut table = Table::new(&["sku", "brand", "variants", "unit price"]);
    for row in &page.rows {
        let price = match &row.price {
            Some(p) if p.status == Status::Ok => format!("{} {}", p.unit_price, p.currency),
            Some(p) => p.status.code().to_string(),
            None => String::new(),
        };
        // A family row names its variants by their axes, e.g. "6: bare tool/carry case, …".
        let first_axes = row.variants.first().map(|v| {
            let axes: Vec<&str> = v.axes.iter().map(|(_, value)| value.as_str()).collect();
            axes.join("/")
        });
        let variants = match (row.variants.len(), first_axes) {
            (n, Some(axes)) if n > 1 && !axes.is_empty() => format!("{n}: {axes}, …"),
            (n, _) => n.to_string(),
        };
        table.row([
            row.sku.clone(),
            row.brand.clone().unwrap_or_default(),
            variants,
            price,
        ]);
    }
    table.print();
    for counts in &page.facets {
        let name = match &counts.facet {
            Facet::Attr(name) => format!("{name} (its own filter left out)"),
            Facet::Brand => "brand".into(),
            Facet::Category => "category".into(),
            Facet::Family => "family".into(),
            Facet::InStock => "in_stock".into(),
        };
        let values: Vec<String> = counts
            .values
            .iter()
            .map(|v| format!("{} {}", v.value, v.count))
            .collect();
        println!("  {name}: {}", values.join(" · "));
    }
    let accessories = engine.related(
        customer,
        showcase::DRILL,
        RelationKind::Accessories,
        Some(at),
    )?;
    let skus: Vec<&str> = accessories.iter().map(|r| r.sku.as_str()).collect();
    println!(
        "Accessories of {} it may see: {}",
        showcase::DRILL,
        skus.join(", ")
    );
    Ok(())
}

/// A key account's site pastes a list from a spreadsheet (French header, `;`, decimal commas,
/// an EAN, a duplicate, a typo, a quantity off the box size, a product it may see but not buy):
/// each line is resolved as `lookup` does, then what resolved is priced as one order.
fn quick_order(engine: &Engine, products: &[Value], at: Instant) -> Result<(), Box<dyn Error>> {
    section(&format!(
        "Quick order: {} pastes a list, it is read, resolved and priced as one order",
        showcase::KEY_ACCOUNT_SITE
    ));
    let cable_ean = field(products, showcase::CABLE, "ean");
    let pasted = format!(
        "Référence;Quantité\n{breaker};4\n{cable_ean};12,5\n{screw};250\nDRL-NOPE-1;3\n{breaker};6\n{drill};1\n{cable_thin};90\n",
        breaker = showcase::BREAKER,
        cable_thin = showcase::CABLE_THIN,
        drill = showcase::DRILL,
        screw = showcase::SCREW,
    );
    println!("{pasted}");
    let options = TextOptions {
        at: Some(at),
        ..TextOptions::default()
    };
    let text = engine.parse_order_lines(showcase::KEY_ACCOUNT_SITE, &pasted, options)?;
    let mut table = Table::new(&["line", "reference", "qty", "product", "reading"]);
    for line in &text.lines {
        let merged = line.merged.iter().map(|l| format!(" + line {l}"));
        table.row([
            format!("{}{}", line.line, merged.collect::<String>()),
            line.reference.clone(),
            line.qty.map(|q| q.to_string()).unwrap_or_default(),
            line.sku.unwrap_or("").to_string(),
            match &line.error {
                Some(e) => format!("{}: {e}", e.code()),
                None => "ok".to_string(),
            },
        ]);
    }
    table.print();
    let order = Order::new(showcase::KEY_ACCOUNT_SITE, text.order_lines())
        .at(at)
        .user(showcase::KEY_ACCOUNT_BUYER);
    let priced = engine.price_order(&order)?;
    let mut table = Table::new(&["product", "qty", "unit", "line total"]);
    for (line, outcome) in order.lines.iter().zip(&priced.lines) {
        table.row(match outcome {
            Ok(quote) => [
                quote.sku.to_string(),
                quote.qty.to_string(),
                quote.unit_price.to_string(),
                quote.line_total.to_string(),
            ],
            Err(e) => [
                line.reference.to_string(),
                line.qty.to_string(),
                e.code().to_string(),
                String::new(),
            ],
        });
    }
    table.print();
    print_drums(&priced);
    print_totals(&priced);
    print_approval(&priced);
    delivered_to_two_sites(engine, at)
}

/// The lines whose tier read the whole cable family of the order, not their own metres.
fn print_drums(priced: &PricedOrder<'_>) {
    let drums: Vec<&Quote<'_>> = priced
        .lines
        .iter()
        .flatten()
        .filter(|q| {
            q.steps
                .iter()
                .any(|s| s.rule.to_string() == showcase::CABLE_DRUMS)
        })
        .collect();
    if drums.is_empty() {
        return;
    }
    let metres: Decimal = drums.iter().map(|q| q.qty).sum();
    let each: Vec<String> = drums
        .iter()
        .map(|q| format!("{} m {}", q.qty, q.sku))
        .collect();
    println!(
        "cable drums: {} = {metres} m of one family reach the 100 m tier of `{}` together \
         (its tier_basis is the family), so the drum discount applies to each of them; alone, \
         each line would be below it",
        each.join(" + "),
        showcase::CABLE_DRUMS
    );
}

/// The subtotal, each order-level adjustment with its reason, and the total.
fn print_totals(priced: &PricedOrder<'_>) {
    println!("subtotal: {} {}", priced.subtotal, priced.currency);
    for adjustment in &priced.adjustments {
        println!(
            "  {:>8}  {} ({})",
            adjustment.amount, adjustment.id, adjustment.why
        );
    }
    println!("order total: {} {}", priced.total, priced.currency);
}

/// Whether the buyer may place the order as it is, and whose approval it needs if not.
fn print_approval(priced: &PricedOrder<'_>) {
    let approval = &priced.approval;
    println!(
        "placed by {}: {}",
        showcase::KEY_ACCOUNT_BUYER,
        approval.decision
    );
    for reason in &approval.reasons {
        let role = reason
            .approvers
            .role
            .as_deref()
            .map(|r| format!("the {r} role: "))
            .unwrap_or_default();
        println!(
            "  approval required from {role}{} (rule `{}`: {})",
            reason.approvers.users.join(", "),
            reason.rule,
            reason.detail
        );
    }
}

/// The group contract's order conditions: free carriage from 500.00 per delivery address and
/// 3 % off from 1,000.00, the discount shared out over the lines in exact cents for the invoice.
fn delivered_to_two_sites(engine: &Engine, at: Instant) -> Result<(), Box<dyn Error>> {
    section(&format!(
        "Order conditions: {} orders for its depot and a building site",
        showcase::KEY_ACCOUNT_SITE
    ));
    let line = |reference, qty: u32, ship_to| OrderLine {
        ship_to: Some(ship_to),
        ..OrderLine::new(reference, qty.into())
    };
    let mut order = Order::new(
        showcase::KEY_ACCOUNT_SITE,
        vec![
            line(showcase::BREAKER, 70, "DEPOT-IVRY"),
            line(showcase::CABLE, 15, "SITE-BERCY"),
        ],
    );
    order.at = Some(at);
    let priced = engine.price_order(&order)?;
    let mut table = Table::new(&["product", "qty", "ship to", "line total", "discount share"]);
    for ((line, outcome), share) in order.lines.iter().zip(&priced.lines).zip(&priced.allocated) {
        table.row([
            line.reference.to_string(),
            line.qty.to_string(),
            line.ship_to.unwrap_or("").to_string(),
            outcome
                .as_ref()
                .map_or_else(|e| e.code().to_string(), |q| q.line_total.to_string()),
            share.to_string(),
        ]);
    }
    table.print();
    print_totals(&priced);
    Ok(())
}

fn section(title: &str) {
    println!("\n== {title} ==");
}

/// The customer's segments, or its parent for a branch.
fn profile(accounts: &[Value], id: &str) -> String {
    let Some(account) = accounts.iter().find(|a| a["id"] == id) else {
        return String::new();
    };
    if let Some(parent) = account["parent"].as_str() {
        return format!("branch of {parent}");
    }
    let segments: Vec<&str> = account["segments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if segments.is_empty() {
        "no segment".to_string()
    } else {
        segments.join(" + ")
    }
}

fn quote_row(customer: &str, quote: &Quote<'_>) -> Vec<String> {
    // Bounds and rounding rules apply to every line; the interesting rule is the last one that
    // moved the price.
    let setter = quote
        .steps
        .iter()
        .rev()
        .find(|s| s.before != Some(s.after))
        .map(|s| {
            let who = match s.source {
                Source::PriceList(list) => format!("list {list}"),
                Source::Contract(_) => s.rule.to_string(),
            };
            if s.notes.is_empty() {
                format!("{}: {who}", s.step)
            } else {
                format!("{}: {who} ({})", s.step, s.notes)
            }
        })
        .unwrap_or_default();
    vec![
        customer.to_string(),
        quote
            .list_price
            .map(|p| p.to_string())
            .unwrap_or_else(|| "-".into()),
        quote.base_price.to_string(),
        quote.unit_price.to_string(),
        quote.line_total.to_string(),
        if quote.buyable { "yes" } else { "no" }.to_string(),
        setter,
    ]
}

fn field(products: &[Value], sku: &str, key: &str) -> String {
    products
        .iter()
        .find(|p| p["sku"] == sku)
        .and_then(|p| p[key].as_str())
        .unwrap_or_default()
        .to_string()
}

fn product_name(products: &[Value], sku: &str) -> String {
    field(products, sku, "name")
}

/// An EAN-13 as printed under a barcode: `0 088381 00043 5`.
fn spaced(ean: &str) -> String {
    let (first, rest) = ean.split_at(1.min(ean.len()));
    let (maker, rest) = rest.split_at(6.min(rest.len()));
    let (item, check) = rest.split_at(5.min(rest.len()));
    format!("{first} {maker} {item} {check}")
}

/// A plain-text table: text columns left-aligned, numbers right-aligned.
struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    fn row(&mut self, cells: impl IntoIterator<Item = String>) {
        self.rows.push(cells.into_iter().collect());
    }

    fn print(&self) {
        let columns = self.headers.len();
        let width = |i: usize| {
            std::iter::once(&self.headers)
                .chain(&self.rows)
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..columns).map(width).collect();
        let numeric: Vec<bool> = (0..columns)
            .map(|i| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(i))
                    .any(|c| !c.is_empty())
                    && self
                        .rows
                        .iter()
                        .filter_map(|r| r.get(i))
                        .all(|c| c.is_empty() || c == "-" || c.parse::<Decimal>().is_ok())
            })
            .collect();
        let line = |cells: &[String]| {
            let text: Vec<String> = cells
                .iter()
                .zip(&widths)
                .zip(&numeric)
                .map(|((c, &w), &right)| {
                    let pad = " ".repeat(w.saturating_sub(c.chars().count()));
                    if right {
                        format!("{pad}{c}")
                    } else {
                        format!("{c}{pad}")
                    }
                })
                .collect();
            println!("  {}", text.join("  ").trim_end());
        };
        line(&self.headers);
        let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
        line(&rule);
        for row in &self.rows {
            line(row);
        }
    }
}
