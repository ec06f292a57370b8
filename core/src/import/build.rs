//! Builds the `tarif/1` text from the tables, row by row, straight into the output buffer (no
//! JSON tree per row), and remembers where each element came from so that the compiler's
//! diagnostics can be sent back to a file, row and column.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use serde_json::value::RawValue;

use super::error::{ImportCode, ImportDiagnostic, Location};
use super::manifest::{AttrKind, DocumentPart, FileFormat, Manifest, TableSpec, TABLES};
use super::table::{self, Need, Source, Wanted};
#[cfg(feature = "arrow")]
use arrow_array::RecordBatch;

/// How a cell becomes a document value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Money,
    Qty,
    Int,
    Bool,
    Multi,
}

struct Field {
    name: &'static str,
    kind: Kind,
    required: bool,
}

const fn f(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        required: false,
    }
}

const fn req(name: &'static str) -> Field {
    Field {
        name,
        kind: Kind::Text,
        required: true,
    }
}

use Kind::*;

const CATEGORIES: &[Field] = &[req("id"), f("parent", Text), f("name", Text)];
const PRODUCTS: &[Field] = &[
    req("sku"),
    f("name", Text),
    f("ean", Text),
    f("mpn", Text),
    f("refs", Multi),
    f("family", Text),
    f("categories", Multi),
    f("brand", Text),
    f("cost", Money),
    f("order_min", Qty),
    f("order_multiple", Qty),
];
const PRICE_LISTS: &[Field] = &[
    req("id"),
    f("name", Text),
    f("currency", Text),
    f("net", Bool),
    f("priority", Int),
    f("valid_from", Text),
    f("valid_until", Text),
    f("tier_mode", Text),
    f("tier_basis", Text),
    f("from_list", Text),
    f("percent", Money),
];
const PRICES: &[Field] = &[
    req("list"),
    req("sku"),
    f("price", Money),
    f("min_qty", Qty),
    f("valid_from", Text),
    f("valid_until", Text),
    f("priority", Int),
    f("tier_mode", Text),
    f("tier_basis", Text),
    f("entry_min_qty", Qty),
    f("entry_max_qty", Qty),
    f("exclusive", Bool),
];
const SEGMENTS: &[Field] = &[req("id"), f("name", Text), f("price_lists", Multi)];
const ACCOUNTS: &[Field] = &[
    req("id"),
    f("name", Text),
    f("parent", Text),
    f("segments", Multi),
    f("currency", Text),
    f("price_lists", Multi),
];
const ACCOUNT_PRICES: &[Field] = &[
    req("account"),
    req("sku"),
    f("price", Money),
    f("min_qty", Qty),
    f("valid_from", Text),
    f("valid_until", Text),
    f("priority", Int),
    f("tier_mode", Text),
    f("tier_basis", Text),
    f("entry_min_qty", Qty),
    f("entry_max_qty", Qty),
    f("exclusive", Bool),
];

const STOCK: &[Field] = &[
    req("sku"),
    f("warehouse", Text),
    f("available", Qty),
    f("lead_time_days", Int),
];

fn fields_of(table: &str) -> &'static [Field] {
    match table {
        "categories" => CATEGORIES,
        "products" => PRODUCTS,
        "price_lists" => PRICE_LISTS,
        "prices" => PRICES,
        "segments" => SEGMENTS,
        "accounts" => ACCOUNTS,
        "account_prices" => ACCOUNT_PRICES,
        "stock" => STOCK,
        _ => &[],
    }
}

/// Where one table was read from and which column holds each field, for locating diagnostics.
#[derive(Debug, Clone, Default)]
struct TableInfo {
    file: String,
    /// Field (or `attrs.NAME`, `axes.NAME`) → column, for the columns the table has.
    columns: HashMap<String, String>,
}

#[derive(Debug, Clone, Default)]
struct EntrySrc {
    first_row: u64,
    base_row: Option<u64>,
    tiers: Vec<u64>,
}

#[derive(Debug, Clone)]
struct ListSrc {
    table: &'static str,
    row: u64,
    entry_table: &'static str,
    entries: Vec<EntrySrc>,
}

/// Document path → table, row and column of what it was built from.
#[derive(Debug, Clone, Default)]
pub(crate) struct SourceMap {
    tables: HashMap<&'static str, TableInfo>,
    rows: HashMap<&'static str, Vec<u64>>,
    lists: Vec<ListSrc>,
    /// Per stock record: the row of its own fields (else its first warehouse's), and the row
    /// of each warehouse.
    stock: Vec<(u64, Vec<u64>)>,
}

fn split_path(path: &str) -> Vec<(&str, Option<usize>)> {
    path.split('.')
        .map(|seg| match seg.split_once('[') {
            Some((name, rest)) => (name, rest.trim_end_matches(']').parse().ok()),
            None => (seg, None),
        })
        .collect()
}

impl SourceMap {
    /// The table, row and column a document path was built from.
    pub(crate) fn locate(&self, path: &str) -> Option<Location> {
        let segs = split_path(path);
        let (&(section, index), rest) = segs.split_first()?;
        let index = index?;
        let (table, row, rest, in_entry) = match section {
            "price_lists" => {
                let list = self.lists.get(index)?;
                match rest.split_first() {
                    Some((&("prices", Some(j)), rest)) => {
                        let entry = list.entries.get(j)?;
                        match rest.split_first() {
                            Some((&("tiers", Some(k)), rest)) => {
                                (list.entry_table, *entry.tiers.get(k)?, rest, false)
                            }
                            _ => (
                                list.entry_table,
                                entry.base_row.unwrap_or(entry.first_row),
                                rest,
                                true,
                            ),
                        }
                    }
                    _ => (list.table, list.row, rest, false),
                }
            }
            "categories" | "products" | "segments" | "accounts" => {
                let table = TABLES.iter().find(|t| **t == section)?;
                (*table, *self.rows.get(table)?.get(index)?, rest, false)
            }
            "stock" => {
                let (row, warehouses) = self.stock.get(index)?;
                match rest.split_first() {
                    Some((&("warehouses", Some(j)), rest)) => {
                        ("stock", *warehouses.get(j)?, rest, false)
                    }
                    _ => ("stock", *row, rest, false),
                }
            }
            _ => return None,
        };
        let info = self.tables.get(table)?;
        let field = match rest {
            [] => None,
            [("valid", _), (bound, _), ..] => Some(format!("valid_{bound}")),
            [("valid", _)] => Some(
                if info.columns.contains_key("valid_from") {
                    "valid_from"
                } else {
                    "valid_until"
                }
                .to_string(),
            ),
            [("order", _), (what, _), ..] => Some(format!("order_{what}")),
            [(map @ ("attrs" | "axes"), _), (name, _), ..] => Some(format!("{map}.{name}")),
            [(name @ ("min_qty" | "max_qty"), _), ..] if in_entry => Some(format!("entry_{name}")),
            [("id", _)] if table == "stock" => Some("warehouse".to_string()),
            [(name, _), ..] => Some((*name).to_string()),
        };
        Some(Location {
            file: info.file.clone(),
            row: Some(row),
            column: field.and_then(|f| info.columns.get(&f).cloned()),
        })
    }
}

/// The JSON text under construction.
struct Out {
    buf: Vec<u8>,
}

impl Out {
    fn raw(&mut self, text: &str) {
        self.buf.extend_from_slice(text.as_bytes());
    }

    fn string(&mut self, text: &str) {
        // Writing a string into a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut self.buf, text);
    }

    fn key(&mut self, first: &mut bool, key: &str) {
        if !*first {
            self.buf.push(b',');
        }
        *first = false;
        self.string(key);
        self.buf.push(b':');
    }

    fn text(&mut self, first: &mut bool, key: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.key(first, key);
            self.string(value);
        }
    }

    fn list<'a>(&mut self, first: &mut bool, key: &str, values: impl IntoIterator<Item = &'a str>) {
        let mut values = values.into_iter().peekable();
        if values.peek().is_none() {
            return;
        }
        self.key(first, key);
        self.buf.push(b'[');
        for (i, v) in values.enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            self.string(v);
        }
        self.buf.push(b']');
    }
}

/// Checks a decimal written the way an export writes it and returns it as the document writes
/// it (`12,50` → `12.50` when decimal commas are allowed).
pub(crate) fn decimal(text: &str, comma: bool) -> Option<String> {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (int, frac) = match unsigned.split_once('.') {
        Some(parts) => parts,
        None if comma => unsigned.split_once(',').unwrap_or((unsigned, "")),
        None => (unsigned, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let dotted = unsigned.len() > int.len();
    if !digits(int)
        || !digits(frac)
        || int.is_empty() && frac.is_empty()
        || dotted && frac.is_empty()
    {
        return None;
    }
    let negative = text.starts_with('-');
    let mut out = String::with_capacity(text.len());
    if negative {
        out.push('-');
    }
    out.push_str(if int.is_empty() { "0" } else { int });
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    Decimal::from_str_exact(&out).ok().map(|_| out)
}

fn boolean(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" => Some(true),
        "false" | "0" | "no" | "n" => Some(false),
        _ => None,
    }
}

/// A value read from a cell, ready to write.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Val {
    Text(String),
    Int(i64),
    Bool(bool),
    Multi(Vec<String>),
}

impl Val {
    fn text(&self) -> Option<&str> {
        match self {
            Val::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// The current row's cells turned into values, with the problems they have.
struct Row<'r> {
    table: &'static str,
    file: &'r str,
    line: u64,
    fields: &'static [Field],
    columns: &'r [String],
    values: Vec<Option<Val>>,
    extra: &'r [Option<&'r str>],
}

impl Row<'_> {
    fn get(&self, name: &str) -> Option<&Val> {
        let i = self.fields.iter().position(|f| f.name == name)?;
        self.values.get(i)?.as_ref()
    }

    fn text(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Val::text)
    }

    fn multi(&self, name: &str) -> &[String] {
        match self.get(name) {
            Some(Val::Multi(v)) => v,
            _ => &[],
        }
    }

    fn int(&self, name: &str) -> Option<i64> {
        match self.get(name) {
            Some(Val::Int(v)) => Some(*v),
            _ => None,
        }
    }

    fn boolean(&self, name: &str) -> Option<bool> {
        match self.get(name) {
            Some(Val::Bool(v)) => Some(*v),
            _ => None,
        }
    }

    fn at(&self, name: &str) -> Location {
        let column = self
            .fields
            .iter()
            .position(|f| f.name == name)
            .and_then(|i| self.columns.get(i))
            .cloned();
        Location {
            file: self.file.to_string(),
            row: Some(self.line),
            column,
        }
    }
}

/// A price entry being gathered from its rows: one row per tier, grouped by list, SKU and
/// validity.
#[derive(Debug, Default)]
struct Entry {
    sku: String,
    from: Option<String>,
    until: Option<String>,
    price: Option<String>,
    priority: Option<i64>,
    tier_mode: Option<String>,
    tier_basis: Option<String>,
    min: Option<String>,
    max: Option<String>,
    exclusive: Option<bool>,
    tiers: Vec<(Decimal, String, Option<String>, u64)>,
    src: EntrySrc,
}

struct List {
    id: String,
    /// The list's fields, written, without the braces and `prices`.
    head: Vec<u8>,
    entries: Vec<Entry>,
    by_key: HashMap<(String, Option<String>, Option<String>), usize>,
    src: ListSrc,
}

struct Account {
    id: String,
    head: Vec<u8>,
    currency: Option<String>,
    price_lists: Vec<String>,
    row: u64,
}

/// The tables handed over as Arrow batches instead of files.
#[cfg(feature = "arrow")]
pub(crate) type Batches = BTreeMap<String, Vec<RecordBatch>>;
#[cfg(not(feature = "arrow"))]
pub(crate) type Batches = BTreeMap<String, ()>;

pub(crate) struct Built {
    pub json: String,
    pub sources: SourceMap,
}

struct Builder<'m> {
    manifest: &'m Manifest,
    batches: &'m Batches,
    problems: Vec<ImportDiagnostic>,
    out: Out,
    sources: SourceMap,
    lists: Vec<List>,
    list_ids: HashMap<String, usize>,
    accounts: Vec<Account>,
    account_ids: HashMap<String, usize>,
}

/// A product's stock record gathered from its rows: one without a warehouse for the record's
/// own fields, one per warehouse.
struct StockRecord {
    sku: String,
    own: Option<StockRow>,
    warehouses: Vec<(String, StockRow)>,
}

struct StockRow {
    available: Option<String>,
    lead_time_days: Option<i64>,
    line: u64,
}

pub(crate) fn build(
    manifest: &Manifest,
    batches: &Batches,
) -> Result<Built, Vec<ImportDiagnostic>> {
    let mut b = Builder {
        manifest,
        batches,
        problems: Vec::new(),
        out: Out {
            buf: Vec::with_capacity(1 << 20),
        },
        sources: SourceMap::default(),
        lists: Vec::new(),
        list_ids: HashMap::new(),
        accounts: Vec::new(),
        account_ids: HashMap::new(),
    };
    for name in batches.keys() {
        if !TABLES.contains(&name.as_str()) {
            b.problems.push(ImportDiagnostic::at(
                ImportCode::Manifest,
                Location {
                    file: name.clone(),
                    row: None,
                    column: None,
                },
                format!(
                    "unknown table `{name}`: expected one of {}",
                    TABLES.join(", ")
                ),
            ));
        }
    }
    b.out.raw("{\"format\":\"tarif/1\"");
    b.document_part();
    b.categories();
    b.products();
    b.price_lists();
    b.prices("prices");
    b.segments();
    b.accounts_table();
    b.prices("account_prices");
    b.write_lists();
    b.write_accounts();
    b.stock();
    b.out.raw("}");
    if !b.problems.is_empty() {
        return Err(b.problems);
    }
    match String::from_utf8(b.out.buf) {
        Ok(json) => Ok(Built {
            json,
            sources: b.sources,
        }),
        Err(e) => Err(vec![ImportDiagnostic::at(
            ImportCode::Encoding,
            Location {
                file: manifest.name.clone(),
                row: None,
                column: None,
            },
            format!("the built document is not utf-8: {e}"),
        )]),
    }
}

impl<'m> Builder<'m> {
    fn has(&self, table: &str) -> bool {
        self.manifest.tables.contains_key(table) || self.batches.contains_key(table)
    }

    fn document_part(&mut self) {
        let (text, file) = match &self.manifest.document {
            None => return,
            Some(DocumentPart::Inline(raw)) => (raw.get().to_string(), self.manifest.name.clone()),
            Some(DocumentPart::File(path)) => {
                match std::fs::read_to_string(self.manifest.resolve(path)) {
                    Ok(text) => (text, path.clone()),
                    Err(e) => {
                        self.problems.push(ImportDiagnostic::at(
                            ImportCode::Io,
                            Location {
                                file: path.clone(),
                                row: None,
                                column: None,
                            },
                            format!("cannot read `{path}`: {e}"),
                        ));
                        return;
                    }
                }
            }
        };
        let here = |column: Option<String>| Location {
            file: file.clone(),
            row: None,
            column,
        };
        let sections: BTreeMap<String, Box<RawValue>> = match serde_json::from_str(&text) {
            Ok(s) => s,
            Err(e) => {
                self.problems.push(ImportDiagnostic::at(
                    ImportCode::Manifest,
                    here(Some("document".into())),
                    format!("`document` must be an object holding `settings`, `currencies`, `contracts`: {e}"),
                ));
                return;
            }
        };
        for (key, value) in &sections {
            if matches!(key.as_str(), "settings" | "currencies" | "contracts") {
                self.out.raw(",");
                self.out.string(key);
                self.out.raw(":");
                self.out.raw(value.get());
            } else if key != "format" {
                self.problems.push(ImportDiagnostic::at(
                    ImportCode::Manifest,
                    here(Some(format!("document.{key}"))),
                    format!("`{key}` comes from the tables: `document` holds only `settings`, `currencies`, `contracts`"),
                ));
            }
        }
    }

    /// Reads one table, calling `each` with every row whose cells are all valid.
    fn read(&mut self, table: &'static str, each: &mut dyn FnMut(&mut Self, &Row<'_>)) {
        let default = TableSpec::default();
        let manifest = self.manifest;
        let spec = manifest.tables.get(table).unwrap_or(&default);
        let fields = fields_of(table);
        let manifest_at = |what: String| Location {
            file: self.manifest.name.clone(),
            row: None,
            column: Some(format!("tables.{table}.{what}")),
        };
        let mut problems = Vec::new();
        for key in spec.columns.keys() {
            if !fields.iter().any(|f| f.name == key) {
                problems.push(ImportDiagnostic::at(
                    ImportCode::UnknownField,
                    manifest_at(format!("columns.{key}")),
                    format!(
                        "`{key}` is not a field of `{table}`: expected one of {}",
                        fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
        if table != "products" {
            if let Some(key) = spec.attrs.keys().chain(spec.axes.keys()).next() {
                problems.push(ImportDiagnostic::at(
                    ImportCode::UnknownField,
                    manifest_at("attrs".into()),
                    format!("`{key}`: only `products` has attributes and axes"),
                ));
            }
        }
        let separator = spec.separator.clone().unwrap_or_else(|| "|".into());
        if separator.is_empty() {
            problems.push(ImportDiagnostic::at(
                ImportCode::Manifest,
                manifest_at("separator".into()),
                "the separator of multi-valued cells may not be empty",
            ));
        }
        let comma = spec.csv.decimal_comma;
        let (file, source) = match self.source(table, spec) {
            Ok(found) => found,
            Err(problem) => {
                problems.push(problem);
                self.problems.extend(problems);
                return;
            }
        };
        self.problems.extend(problems);
        let columns: Vec<String> = fields
            .iter()
            .map(|f| {
                spec.columns
                    .get(f.name)
                    .cloned()
                    .unwrap_or_else(|| f.name.to_string())
            })
            .collect();
        let attrs: Vec<(String, &str, AttrKind)> = if table == "products" {
            spec.attrs
                .iter()
                .map(|(k, a)| (format!("attrs.{k}"), a.column(), a.kind()))
                .chain(
                    spec.axes
                        .iter()
                        .map(|(k, c)| (format!("axes.{k}"), c.as_str(), AttrKind::String)),
                )
                .collect()
        } else {
            Vec::new()
        };
        let mut wanted: Vec<Wanted<'_>> = fields
            .iter()
            .zip(&columns)
            .map(|(f, column)| Wanted {
                column,
                need: if matches!(f.kind, Money | Qty) {
                    Need::Exact
                } else {
                    Need::Text
                },
                optional: !f.required && !spec.columns.contains_key(f.name),
            })
            .collect();
        wanted.extend(attrs.iter().map(|(_, column, kind)| Wanted {
            column,
            need: if *kind == AttrKind::Number {
                Need::Number
            } else {
                Need::Text
            },
            optional: false,
        }));
        let mut info = TableInfo {
            file: file.clone(),
            columns: HashMap::new(),
        };
        let mut seen = vec![false; wanted.len()];
        let mut cell_problems = Vec::new();
        let mut read_problems = Vec::new();
        let n = fields.len();
        let result = table::read(
            &source,
            &file,
            &wanted,
            &mut read_problems,
            &mut |line, cells| {
                for (s, c) in seen.iter_mut().zip(cells) {
                    *s |= c.is_some();
                }
                let mut values = Vec::with_capacity(n);
                let mut ok = true;
                for ((field, cell), column) in fields.iter().zip(cells).zip(&columns) {
                    let loc = || Location {
                        file: file.clone(),
                        row: Some(line),
                        column: Some(column.clone()),
                    };
                    let value = match (cell, field.kind) {
                        (None, _) => {
                            if field.required {
                                ok = false;
                                cell_problems.push(ImportDiagnostic::at(
                                    ImportCode::MissingValue,
                                    loc(),
                                    format!("`{}` is empty", field.name),
                                ));
                            }
                            None
                        }
                        (Some(text), Text) => Some(Val::Text((*text).to_string())),
                        (Some(text), Money | Qty) => match decimal(text, comma) {
                            Some(d) => Some(Val::Text(d)),
                            None => {
                                ok = false;
                                let hint = if !comma && text.contains(',') {
                                    " (decimal commas need `\"decimal_comma\": true` in the table's `csv` options)"
                                } else {
                                    ""
                                };
                                cell_problems.push(ImportDiagnostic::at(
                                    ImportCode::InvalidValue,
                                    loc(),
                                    format!("`{text}` is not a decimal{hint}"),
                                ));
                                None
                            }
                        },
                        (Some(text), Int) => match text.parse::<i64>() {
                            Ok(v) => Some(Val::Int(v)),
                            Err(_) => {
                                ok = false;
                                cell_problems.push(ImportDiagnostic::at(
                                    ImportCode::InvalidValue,
                                    loc(),
                                    format!("`{text}` is not an integer"),
                                ));
                                None
                            }
                        },
                        (Some(text), Bool) => match boolean(text) {
                            Some(v) => Some(Val::Bool(v)),
                            None => {
                                ok = false;
                                cell_problems.push(ImportDiagnostic::at(
                                ImportCode::InvalidValue,
                                loc(),
                                format!("`{text}` is not a boolean: expected `true`, `false`, `1`, `0`, `yes` or `no`"),
                            ));
                                None
                            }
                        },
                        (Some(text), Multi) => Some(Val::Multi(
                            text.split(separator.as_str())
                                .map(str::trim)
                                .filter(|s| !s.is_empty())
                                .map(str::to_string)
                                .collect(),
                        )),
                    };
                    values.push(value);
                }
                for ((_, column, kind), cell) in
                    attrs.iter().zip(cells.get(n..).unwrap_or_default())
                {
                    if let (AttrKind::Number | AttrKind::Boolean, Some(text)) = (kind, cell) {
                        let valid = match kind {
                            AttrKind::Number => decimal(text, comma).is_some(),
                            _ => boolean(text).is_some(),
                        };
                        if !valid {
                            ok = false;
                            cell_problems.push(ImportDiagnostic::at(
                                ImportCode::InvalidValue,
                                Location {
                                    file: file.clone(),
                                    row: Some(line),
                                    column: Some((*column).to_string()),
                                },
                                format!(
                                    "`{text}` is not a {}",
                                    if *kind == AttrKind::Number {
                                        "number"
                                    } else {
                                        "boolean"
                                    }
                                ),
                            ));
                        }
                    }
                }
                if ok {
                    let row = Row {
                        table,
                        file: &file,
                        line,
                        fields,
                        columns: &columns,
                        values,
                        extra: cells.get(n..).unwrap_or_default(),
                    };
                    each(self, &row);
                }
            },
        );
        self.problems.extend(read_problems);
        self.problems.extend(cell_problems);
        if result.is_err() {
            return;
        }
        let names = fields
            .iter()
            .map(|f| f.name)
            .chain(attrs.iter().map(|(k, _, _)| k.as_str()));
        for ((w, s), field) in wanted.iter().zip(&seen).zip(names) {
            if *s || !w.optional {
                info.columns.insert(field.to_string(), w.column.to_string());
            }
        }
        self.sources.tables.insert(table, info);
    }

    fn source(
        &self,
        table: &str,
        spec: &'m TableSpec,
    ) -> Result<(String, Source<'m>), ImportDiagnostic> {
        #[cfg(feature = "arrow")]
        if let Some(batches) = self.batches.get(table) {
            return Ok((table.to_string(), Source::Batches(batches)));
        }
        let Some(file) = &spec.file else {
            return Err(ImportDiagnostic::at(
                ImportCode::Manifest,
                Location {
                    file: self.manifest.name.clone(),
                    row: None,
                    column: Some(format!("tables.{table}")),
                },
                format!("table `{table}` names no `file`"),
            ));
        };
        let path = self.manifest.resolve(file);
        let format = spec.format.or_else(|| {
            let ext = path.extension()?.to_str()?.to_ascii_lowercase();
            match ext.as_str() {
                "csv" | "txt" | "tsv" => Some(FileFormat::Csv),
                "parquet" | "pq" => Some(FileFormat::Parquet),
                _ => None,
            }
        });
        match format {
            Some(FileFormat::Csv) => Ok((
                file.clone(),
                Source::Csv {
                    path,
                    options: &spec.csv,
                },
            )),
            #[cfg(feature = "parquet")]
            Some(FileFormat::Parquet) => Ok((file.clone(), Source::Parquet { path })),
            #[cfg(not(feature = "parquet"))]
            Some(FileFormat::Parquet) => Err(ImportDiagnostic::at(
                ImportCode::Manifest,
                Location {
                    file: file.clone(),
                    row: None,
                    column: None,
                },
                "this build of tarif reads no parquet (cargo feature `parquet`)",
            )),
            None => Err(ImportDiagnostic::at(
                ImportCode::Manifest,
                Location {
                    file: self.manifest.name.clone(),
                    row: None,
                    column: Some(format!("tables.{table}.format")),
                },
                format!("cannot tell the format of `{file}`: set `format` to `csv` or `parquet`"),
            )),
        }
    }
}

/// Reports a second row with an id already seen.
fn unique(
    seen: &mut HashMap<String, u64>,
    id: &str,
    row: &Row<'_>,
    field: &str,
    problems: &mut Vec<ImportDiagnostic>,
) -> bool {
    match seen.get(id) {
        Some(first) => {
            problems.push(ImportDiagnostic::at(
                ImportCode::Duplicate,
                row.at(field),
                format!(
                    "duplicate {} `{id}` (first at row {first})",
                    row.table.trim_end_matches('s')
                ),
            ));
            false
        }
        None => {
            seen.insert(id.to_string(), row.line);
            true
        }
    }
}

impl Builder<'_> {
    fn section(&mut self, name: &str) {
        self.out.raw(",");
        self.out.string(name);
        self.out.raw(":[");
    }

    /// Reads a table whose rows each name one element by `key` (an id, a SKU): `each` gets
    /// every valid row and its key, a second row with a key already seen is `IMPORT_DUPLICATE`.
    fn read_keyed(
        &mut self,
        table: &'static str,
        key: &str,
        each: &mut dyn FnMut(&mut Self, &Row<'_>, &str),
    ) {
        let mut seen = HashMap::new();
        self.read(table, &mut |b, row| {
            let Some(id) = row.text(key) else { return };
            if unique(&mut seen, id, row, key, &mut b.problems) {
                each(b, row, id);
            }
        });
    }

    /// Writes the document section of the same name as `table`, one object per keyed row
    /// (`write` writes its fields after the key), and remembers each element's row.
    fn write_section(
        &mut self,
        table: &'static str,
        key: &str,
        write: &mut dyn FnMut(&mut Out, &mut bool, &Row<'_>),
    ) {
        if !self.has(table) {
            return;
        }
        self.section(table);
        let mut rows = Vec::new();
        self.read_keyed(table, key, &mut |b, row, id| {
            if !rows.is_empty() {
                b.out.raw(",");
            }
            rows.push(row.line);
            let mut first = true;
            b.out.raw("{");
            b.out.text(&mut first, key, Some(id));
            write(&mut b.out, &mut first, row);
            b.out.raw("}");
        });
        self.sources.rows.insert(table, rows);
        self.out.raw("]");
    }

    fn categories(&mut self) {
        self.write_section("categories", "id", &mut |out, first, row| {
            out.text(first, "parent", row.text("parent"));
            out.text(first, "name", row.text("name"));
        });
    }

    fn products(&mut self) {
        let spec = self.manifest.tables.get("products");
        let attr_kinds: Vec<(String, AttrKind)> = spec
            .map(|s| s.attrs.iter().map(|(k, a)| (k.clone(), a.kind())).collect())
            .unwrap_or_default();
        let axes: Vec<String> = spec
            .map(|s| s.axes.keys().cloned().collect())
            .unwrap_or_default();
        let separator = spec
            .and_then(|s| s.separator.clone())
            .unwrap_or_else(|| "|".into());
        let comma = spec.is_some_and(|s| s.csv.decimal_comma);
        self.write_section("products", "sku", &mut |out, first, row| {
            for key in ["name", "ean", "mpn"] {
                out.text(first, key, row.text(key));
            }
            out.list(first, "refs", row.multi("refs").iter().map(String::as_str));
            out.text(first, "family", row.text("family"));
            let axis_cells = row.extra.get(attr_kinds.len()..).unwrap_or_default();
            if axis_cells.iter().any(Option::is_some) {
                out.key(first, "axes");
                let mut inner = true;
                out.raw("{");
                for (name, cell) in axes.iter().zip(axis_cells) {
                    out.text(&mut inner, name, *cell);
                }
                out.raw("}");
            }
            out.list(
                first,
                "categories",
                row.multi("categories").iter().map(String::as_str),
            );
            out.text(first, "brand", row.text("brand"));
            out.text(first, "cost", row.text("cost"));
            if row.extra.iter().take(attr_kinds.len()).any(Option::is_some) {
                out.key(first, "attrs");
                let mut inner = true;
                out.raw("{");
                for ((name, kind), cell) in attr_kinds.iter().zip(row.extra) {
                    let Some(text) = cell else { continue };
                    out.key(&mut inner, name);
                    match kind {
                        AttrKind::String => out.string(text),
                        AttrKind::Number => out.raw(&decimal(text, comma).unwrap_or_default()),
                        AttrKind::Boolean => out.raw(if boolean(text) == Some(true) {
                            "true"
                        } else {
                            "false"
                        }),
                        AttrKind::List => {
                            out.raw("[");
                            for (i, v) in text
                                .split(separator.as_str())
                                .map(str::trim)
                                .filter(|v| !v.is_empty())
                                .enumerate()
                            {
                                if i > 0 {
                                    out.raw(",");
                                }
                                out.string(v);
                            }
                            out.raw("]");
                        }
                    }
                }
                out.raw("}");
            }
            let (min, multiple) = (row.text("order_min"), row.text("order_multiple"));
            if min.is_some() || multiple.is_some() {
                out.key(first, "order");
                let mut inner = true;
                out.raw("{");
                out.text(&mut inner, "min", min);
                out.text(&mut inner, "multiple", multiple);
                out.raw("}");
            }
        });
    }

    fn price_lists(&mut self) {
        if !self.has("price_lists") {
            return;
        }
        self.read_keyed("price_lists", "id", &mut |b, row, id| {
            let mut head = Out { buf: Vec::new() };
            let mut first = true;
            head.text(&mut first, "id", Some(id));
            head.text(&mut first, "name", row.text("name"));
            head.text(&mut first, "currency", row.text("currency"));
            if let Some(net) = row.boolean("net") {
                head.key(&mut first, "net");
                head.raw(if net { "true" } else { "false" });
            }
            if let Some(p) = row.int("priority") {
                head.key(&mut first, "priority");
                head.raw(&p.to_string());
            }
            validity(
                &mut head,
                &mut first,
                row.text("valid_from"),
                row.text("valid_until"),
            );
            for key in ["tier_mode", "tier_basis", "from_list", "percent"] {
                head.text(&mut first, key, row.text(key));
            }
            b.list_ids.insert(id.to_string(), b.lists.len());
            b.lists.push(List {
                id: id.to_string(),
                head: head.buf,
                entries: Vec::new(),
                by_key: HashMap::new(),
                src: ListSrc {
                    table: "price_lists",
                    row: row.line,
                    entry_table: "prices",
                    entries: Vec::new(),
                },
            });
        });
    }

    fn segments(&mut self) {
        self.write_section("segments", "id", &mut |out, first, row| {
            out.text(first, "name", row.text("name"));
            let lists = row.multi("price_lists");
            out.list(first, "price_lists", lists.iter().map(String::as_str));
        });
    }

    fn accounts_table(&mut self) {
        if !self.has("accounts") {
            return;
        }
        self.read_keyed("accounts", "id", &mut |b, row, id| {
            let mut head = Out { buf: Vec::new() };
            let mut first = true;
            head.text(&mut first, "id", Some(id));
            head.text(&mut first, "name", row.text("name"));
            head.text(&mut first, "parent", row.text("parent"));
            head.list(
                &mut first,
                "segments",
                row.multi("segments").iter().map(String::as_str),
            );
            head.text(&mut first, "currency", row.text("currency"));
            b.account_ids.insert(id.to_string(), b.accounts.len());
            b.accounts.push(Account {
                id: id.to_string(),
                head: head.buf,
                currency: row.text("currency").map(str::to_string),
                price_lists: row.multi("price_lists").to_vec(),
                row: row.line,
            });
        });
    }

    /// Gathers the rows of `prices` (into the lists of `price_lists`) or of `account_prices`
    /// (into one net list per account, attached to it).
    fn prices(&mut self, table: &'static str) {
        if !self.has(table) {
            return;
        }
        let net = table == "account_prices";
        let prefix = self
            .manifest
            .tables
            .get(table)
            .and_then(|s| s.list_prefix.clone())
            .unwrap_or_else(|| "net:".into());
        self.read(table, &mut |b, row| {
            let (Some(owner), Some(sku)) = (row.text(if net { "account" } else { "list" }), row.text("sku")) else {
                return;
            };
            let list = if net {
                let Some(&a) = b.account_ids.get(owner) else {
                    b.problems.push(ImportDiagnostic::at(
                        ImportCode::UnknownReference,
                        row.at("account"),
                        format!("account `{owner}` is not in the `accounts` table"),
                    ));
                    return;
                };
                let id = format!("{prefix}{owner}");
                match b.list_ids.get(&id) {
                    Some(&l) if b.lists.get(l).is_some_and(|l| l.src.table == "accounts") => l,
                    Some(_) => {
                        b.problems.push(ImportDiagnostic::at(
                            ImportCode::Duplicate,
                            row.at("account"),
                            format!("the net list `{id}` of account `{owner}` has the id of a list of `price_lists`: set another `list_prefix`"),
                        ));
                        return;
                    }
                    None => {
                        let Some(account) = b.accounts.get_mut(a) else { return };
                        account.price_lists.push(id.clone());
                        let mut head = Out { buf: Vec::new() };
                        let mut first = true;
                        head.text(&mut first, "id", Some(&id));
                        head.text(&mut first, "currency", account.currency.as_deref());
                        head.key(&mut first, "net");
                        head.raw("true");
                        let account_row = account.row;
                        b.list_ids.insert(id.clone(), b.lists.len());
                        b.lists.push(List {
                            id,
                            head: head.buf,
                            entries: Vec::new(),
                            by_key: HashMap::new(),
                            src: ListSrc { table: "accounts", row: account_row, entry_table: "account_prices", entries: Vec::new() },
                        });
                        b.lists.len() - 1
                    }
                }
            } else {
                match b.list_ids.get(owner) {
                    Some(&l) if b.lists.get(l).is_some_and(|l| l.src.table == "price_lists") => l,
                    _ => {
                        b.problems.push(ImportDiagnostic::at(
                            ImportCode::UnknownReference,
                            row.at("list"),
                            format!("price list `{owner}` is not in the `price_lists` table"),
                        ));
                        return;
                    }
                }
            };
            let Some(list) = b.lists.get_mut(list) else { return };
            let (from, until) = (row.text("valid_from").map(str::to_string), row.text("valid_until").map(str::to_string));
            let key = (sku.to_string(), from.clone(), until.clone());
            let index = *list.by_key.entry(key).or_insert_with(|| {
                list.entries.push(Entry {
                    sku: sku.to_string(),
                    from,
                    until,
                    src: EntrySrc { first_row: row.line, ..EntrySrc::default() },
                    ..Entry::default()
                });
                list.entries.len() - 1
            });
            let Some(entry) = list.entries.get_mut(index) else { return };
            let what = || format!("`{}`/`{sku}`", list.id);
            let conflict = |field: &str, problems: &mut Vec<ImportDiagnostic>| {
                problems.push(ImportDiagnostic::at(
                    ImportCode::Conflict,
                    row.at(field),
                    format!("`{field}` of {} differs from row {} of the same entry", what(), entry.src.first_row),
                ));
            };
            macro_rules! agree {
                ($slot:expr, $value:expr, $field:expr) => {
                    if let Some(v) = $value {
                        match &$slot {
                            Some(old) if *old != v => conflict($field, &mut b.problems),
                            _ => $slot = Some(v),
                        }
                    }
                };
            }
            agree!(entry.priority, row.int("priority"), "priority");
            agree!(entry.tier_mode, row.text("tier_mode").map(str::to_string), "tier_mode");
            agree!(entry.tier_basis, row.text("tier_basis").map(str::to_string), "tier_basis");
            agree!(entry.min, row.text("entry_min_qty").map(str::to_string), "entry_min_qty");
            agree!(entry.max, row.text("entry_max_qty").map(str::to_string), "entry_max_qty");
            agree!(entry.exclusive, row.boolean("exclusive"), "exclusive");
            let price = row.text("price").map(str::to_string);
            match row.text("min_qty") {
                None => match entry.src.base_row {
                    Some(first) => b.problems.push(ImportDiagnostic::at(
                        ImportCode::Duplicate,
                        row.at("sku"),
                        format!("a second price for {} with the same validity (first at row {first}); a tier row needs `min_qty`", what()),
                    )),
                    None => {
                        entry.src.base_row = Some(row.line);
                        entry.price = price;
                    }
                },
                Some(qty) => {
                    let dec = Decimal::from_str_exact(qty).unwrap_or_default();
                    if let Some(first) = entry.tiers.iter().find(|t| t.0 == dec).map(|t| t.3) {
                        b.problems.push(ImportDiagnostic::at(
                            ImportCode::Duplicate,
                            row.at("min_qty"),
                            format!("a second tier from `{qty}` for {} (first at row {first})", what()),
                        ));
                    } else {
                        entry.tiers.push((dec, qty.to_string(), price, row.line));
                    }
                }
            }
        });
    }

    fn write_lists(&mut self) {
        if !self.has("price_lists") && !self.has("account_prices") {
            return;
        }
        self.section("price_lists");
        for (i, mut list) in std::mem::take(&mut self.lists).into_iter().enumerate() {
            if i > 0 {
                self.out.raw(",");
            }
            self.out.raw("{");
            self.out.buf.extend_from_slice(&list.head);
            if !list.entries.is_empty() {
                self.out.raw(",\"prices\":[");
                for (j, mut entry) in list.entries.into_iter().enumerate() {
                    if j > 0 {
                        self.out.raw(",");
                    }
                    // ERP exports do not promise the order of scale rows; the document wants
                    // tiers ascending.
                    entry.tiers.sort_by_key(|t| t.0);
                    entry.src.tiers = entry.tiers.iter().map(|t| t.3).collect();
                    write_entry(&mut self.out, &entry);
                    list.src.entries.push(entry.src);
                }
                self.out.raw("]");
            }
            self.out.raw("}");
            self.sources.lists.push(list.src);
        }
        self.out.raw("]");
    }

    fn write_accounts(&mut self) {
        if !self.has("accounts") {
            return;
        }
        self.section("accounts");
        let mut rows = Vec::with_capacity(self.accounts.len());
        for (i, account) in std::mem::take(&mut self.accounts).into_iter().enumerate() {
            if i > 0 {
                self.out.raw(",");
            }
            self.out.raw("{");
            self.out.buf.extend_from_slice(&account.head);
            let mut first = false;
            self.out.list(
                &mut first,
                "price_lists",
                account.price_lists.iter().map(String::as_str),
            );
            self.out.raw("}");
            rows.push(account.row);
            let _ = account.id;
        }
        self.sources.rows.insert("accounts", rows);
        self.out.raw("]");
    }
}

impl Builder<'_> {
    /// Gathers the rows of `stock` into one record per SKU (docs/spec.md §15) and writes the
    /// `stock` section.
    fn stock(&mut self) {
        if !self.has("stock") {
            return;
        }
        let mut records: Vec<StockRecord> = Vec::new();
        let mut by_sku: HashMap<String, usize> = HashMap::new();
        self.read("stock", &mut |b, row| {
            let Some(sku) = row.text("sku") else { return };
            let at = *by_sku.entry(sku.to_string()).or_insert_with(|| {
                records.push(StockRecord {
                    sku: sku.to_string(),
                    own: None,
                    warehouses: Vec::new(),
                });
                records.len() - 1
            });
            let Some(record) = records.get_mut(at) else {
                return;
            };
            let this = StockRow {
                available: row.text("available").map(str::to_string),
                lead_time_days: row.int("lead_time_days"),
                line: row.line,
            };
            let first = match row.text("warehouse") {
                Some(id) => match record.warehouses.iter().find(|(w, _)| w == id) {
                    Some((_, first)) => Some((first.line, format!("warehouse `{id}` of `{sku}`"))),
                    None => {
                        record.warehouses.push((id.to_string(), this));
                        None
                    }
                },
                None => match &record.own {
                    Some(first) => Some((first.line, format!("stock of `{sku}`"))),
                    None => {
                        record.own = Some(this);
                        None
                    }
                },
            };
            if let Some((line, what)) = first {
                let field = if row.text("warehouse").is_some() {
                    "warehouse"
                } else {
                    "sku"
                };
                b.problems.push(ImportDiagnostic::at(
                    ImportCode::Duplicate,
                    row.at(field),
                    format!("a second row for the {what} (first at row {line})"),
                ));
            }
        });
        let Some(info) = self.sources.tables.get("stock").cloned() else {
            return;
        };
        let at = |line: u64, field: &str| Location {
            file: info.file.clone(),
            row: Some(line),
            column: info
                .columns
                .get(field)
                .cloned()
                .or_else(|| Some(field.to_string())),
        };
        self.section("stock");
        for (i, record) in records.iter().enumerate() {
            let sku = &record.sku;
            let own_available = record.own.as_ref().and_then(|o| o.available.as_deref());
            match (&record.own, record.warehouses.is_empty(), own_available) {
                (Some(own), true, None) => self.problems.push(ImportDiagnostic::at(
                    ImportCode::MissingValue,
                    at(own.line, "available"),
                    format!("`available` is empty: the stock of `{sku}` needs a quantity on hand (or warehouse rows)"),
                )),
                (Some(own), false, Some(_)) => self.problems.push(ImportDiagnostic::at(
                    ImportCode::Conflict,
                    at(own.line, "available"),
                    format!("`{sku}` has warehouse rows: its row without a warehouse may give only `lead_time_days`, its quantity is theirs"),
                )),
                _ => {}
            }
            for (id, w) in &record.warehouses {
                if w.available.is_none() {
                    self.problems.push(ImportDiagnostic::at(
                        ImportCode::MissingValue,
                        at(w.line, "available"),
                        format!("`available` is empty for warehouse `{id}` of `{sku}`"),
                    ));
                }
            }
            if i > 0 {
                self.out.raw(",");
            }
            let mut first = true;
            self.out.raw("{");
            self.out.text(&mut first, "sku", Some(sku));
            let lead = |out: &mut Out, first: &mut bool, days: Option<i64>| {
                if let Some(days) = days {
                    out.key(first, "lead_time_days");
                    out.raw(&days.to_string());
                }
            };
            if let Some(own) = &record.own {
                self.out
                    .text(&mut first, "available", own.available.as_deref());
                lead(&mut self.out, &mut first, own.lead_time_days);
            }
            if !record.warehouses.is_empty() {
                self.out.key(&mut first, "warehouses");
                self.out.raw("[");
                for (j, (id, w)) in record.warehouses.iter().enumerate() {
                    if j > 0 {
                        self.out.raw(",");
                    }
                    let mut inner = true;
                    self.out.raw("{");
                    self.out.text(&mut inner, "id", Some(id));
                    self.out
                        .text(&mut inner, "available", w.available.as_deref());
                    lead(&mut self.out, &mut inner, w.lead_time_days);
                    self.out.raw("}");
                }
                self.out.raw("]");
            }
            self.out.raw("}");
            let row = record
                .own
                .as_ref()
                .or_else(|| record.warehouses.first().map(|(_, w)| w))
                .map_or(0, |r| r.line);
            let warehouses = record.warehouses.iter().map(|(_, w)| w.line).collect();
            self.sources.stock.push((row, warehouses));
        }
        self.out.raw("]");
    }
}

fn validity(out: &mut Out, first: &mut bool, from: Option<&str>, until: Option<&str>) {
    if from.is_some() || until.is_some() {
        out.key(first, "valid");
        let mut inner = true;
        out.raw("{");
        out.text(&mut inner, "from", from);
        out.text(&mut inner, "until", until);
        out.raw("}");
    }
}

fn write_entry(out: &mut Out, entry: &Entry) {
    let mut first = true;
    out.raw("{");
    out.text(&mut first, "sku", Some(&entry.sku));
    out.text(&mut first, "price", entry.price.as_deref());
    if !entry.tiers.is_empty() {
        out.key(&mut first, "tiers");
        out.raw("[");
        for (i, (_, qty, price, _)) in entry.tiers.iter().enumerate() {
            if i > 0 {
                out.raw(",");
            }
            let mut inner = true;
            out.raw("{");
            out.text(&mut inner, "min_qty", Some(qty));
            out.text(&mut inner, "price", price.as_deref());
            out.raw("}");
        }
        out.raw("]");
    }
    out.text(&mut first, "tier_mode", entry.tier_mode.as_deref());
    out.text(&mut first, "tier_basis", entry.tier_basis.as_deref());
    if let Some(p) = entry.priority {
        out.key(&mut first, "priority");
        out.raw(&p.to_string());
    }
    validity(
        out,
        &mut first,
        entry.from.as_deref(),
        entry.until.as_deref(),
    );
    out.text(&mut first, "min_qty", entry.min.as_deref());
    out.text(&mut first, "max_qty", entry.max.as_deref());
    if let Some(e) = entry.exclusive {
        out.key(&mut first, "exclusive");
        out.raw(if e { "true" } else { "false" });
    }
    out.raw("}");
}

#[cfg(test)]
mod tests {
    use super::decimal;

    #[test]
    fn decimals_are_checked_and_commas_only_when_allowed() {
        assert_eq!(decimal("12.50", false).as_deref(), Some("12.50"));
        assert_eq!(decimal("12,50", true).as_deref(), Some("12.50"));
        assert_eq!(decimal("12,50", false), None);
        assert_eq!(decimal("12,5O", true), None);
        assert_eq!(decimal("-.5", false).as_deref(), Some("-0.5"));
        assert_eq!(decimal("+3", false).as_deref(), Some("3"));
        for bad in ["", "1.", ".", "1e5", "1_000", "1.2.3", "1,000.5", " 1"] {
            assert_eq!(decimal(bad, true), None, "{bad}");
        }
    }
}

/// `tier_basis` on price lists and on the entries of `prices` and `account_prices`, read as
/// `tier_mode` is: agreed across an entry's rows, checked by the compiler at its cell.
#[cfg(test)]
#[cfg(feature = "arrow")]
mod tier_basis {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, RecordBatch, StringArray};

    use crate::compile::CompileOptions;
    use crate::import::{Importer, Manifest};

    type Column<'a> = (&'a str, Vec<Option<&'a str>>);

    fn table(columns: Vec<Column<'_>>) -> Vec<RecordBatch> {
        let arrays = columns
            .into_iter()
            .map(|(name, cells)| (name, Arc::new(StringArray::from(cells)) as ArrayRef));
        vec![RecordBatch::try_from_iter(arrays).unwrap()]
    }

    /// Lists `l` and `m` with these list-level bases, account `C`, and the `prices` rows of
    /// product `A` in `l`, their basis in column `BASIS`.
    fn importer(lists: [Option<&str>; 2], prices: Vec<Column<'_>>) -> Importer {
        let manifest = Manifest::from_json(
            r#"{"format": "tarif-import/1",
                "tables": {"prices": {"columns": {"tier_basis": "BASIS"}}},
                "document": {"currencies": [{"code": "EUR"}]}}"#,
            "manifest.json",
            ".",
        )
        .unwrap();
        Importer::new(manifest)
            .with_batches("products", table(vec![("sku", vec![Some("A")])]))
            .with_batches(
                "price_lists",
                table(vec![
                    ("id", vec![Some("l"), Some("m")]),
                    ("tier_basis", lists.to_vec()),
                ]),
            )
            .with_batches("prices", table(prices))
            .with_batches("accounts", table(vec![("id", vec![Some("C")])]))
            .with_batches(
                "account_prices",
                table(vec![
                    ("account", vec![Some("C")]),
                    ("sku", vec![Some("A")]),
                    ("price", vec![Some("1.00")]),
                    ("tier_basis", vec![Some("category")]),
                ]),
            )
    }

    fn entry_rows<'a>(basis: [Option<&'a str>; 2]) -> Vec<Column<'a>> {
        vec![
            ("list", vec![Some("l"), Some("l")]),
            ("sku", vec![Some("A"), Some("A")]),
            ("price", vec![Some("2.00"), Some("1.50")]),
            ("min_qty", vec![None, Some("10")]),
            ("BASIS", basis.to_vec()),
        ]
    }

    fn reports(err: &crate::import::ImportError) -> Vec<String> {
        err.diagnostics
            .iter()
            .map(|d| format!("{} {}", d.code.code(), d.location.as_ref().unwrap()))
            .collect()
    }

    #[test]
    fn lists_and_entries_carry_their_basis_given_on_any_row_of_the_entry() {
        let imported = importer([Some("order"), None], entry_rows([None, Some("family")]))
            .document()
            .unwrap();
        let json = imported.json();
        assert!(json.contains(
            r#"{"id":"l","tier_basis":"order","prices":[{"sku":"A","price":"2.00","tiers":[{"min_qty":"10","price":"1.50"}],"tier_basis":"family"}]}"#
        ), "{json}");
        assert!(json.contains(r#"{"id":"m"}"#), "{json}");
        assert!(
            json.contains(r#"{"sku":"A","price":"1.00","tier_basis":"category"}"#),
            "{json}"
        );
        imported.compile(&CompileOptions::default()).unwrap();
    }

    #[test]
    fn rows_of_one_entry_that_disagree_on_the_basis_are_a_conflict() {
        let err = importer([None, None], entry_rows([Some("family"), Some("order")]))
            .document()
            .unwrap_err();
        assert_eq!(reports(&err), ["IMPORT_CONFLICT prices:3:BASIS"]);
        assert_eq!(
            err.diagnostics[0].message,
            "`tier_basis` of `l`/`A` differs from row 2 of the same entry"
        );
    }

    #[test]
    fn a_basis_the_compiler_refuses_is_reported_at_its_cell() {
        let err = importer([None, Some("brand")], entry_rows([Some("lines"), None]))
            .compile(&CompileOptions::default())
            .unwrap_err();
        assert_eq!(err.code(), "COMPILE_ERROR");
        assert_eq!(
            reports(&err),
            [
                "INVALID_TYPE price_lists:3:tier_basis",
                "INVALID_TYPE prices:2:BASIS"
            ]
        );
        let paths: Vec<_> = err.diagnostics.iter().map(|d| d.path.as_deref()).collect();
        assert_eq!(
            paths,
            [
                Some("price_lists[1].tier_basis"),
                Some("price_lists[0].prices[0].tier_basis")
            ]
        );
    }
}
