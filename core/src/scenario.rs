//! Scenario edits: the common what-if moves (set a rule's percent or price, shift a validity,
//! add or remove a rule, scale a price list), addressed by id and written as the
//! `tarif/1-changes` document that makes them (docs/spec.md §17.3).
//!
//! An edit is checked against the engine's document and turned into upserts and deletions;
//! the document itself is never touched, so a scenario never changes its base. Several edits of
//! one rule, contract or list compose in the order given and write it once.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat};
use rust_decimal::Decimal;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use crate::changes::{Problems, CHANGES_FORMAT};
use crate::compile::CompileOptions;
use crate::engine::Engine;
use crate::error::{CompileError, DiagnosticCode as Code};
use crate::instant::Instant;
use crate::load::Compiled;
use crate::model::RoundingMode;
use crate::money;

/// How an edit moves a validity (`valid: {from, until}`, §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shift {
    /// Both bounds later (or earlier, when negative) by this many days: a date bound by
    /// calendar days, an RFC 3339 bound by 24 hours a day, its offset kept. An open bound stays
    /// open.
    Days(i64),
    /// New bounds (`None`: open); both `None` removes the validity.
    To {
        /// The new `from` (inclusive).
        from: Option<String>,
        /// The new `until` (exclusive).
        until: Option<String>,
    },
}

/// One convenience edit of a scenario, addressed by id.
///
/// ```
/// use tarif::{Edit, Shift};
/// let edits = Edit::parse_list(r#"[
///   {"edit": "set_percent", "contract": "acme", "rule": "cables", "percent": "-12"},
///   {"edit": "shift_contract", "contract": "summer", "days": 7},
///   {"edit": "scale_list", "list": "public", "factor": "1.05"}]"#).unwrap();
/// assert_eq!(edits[1], Edit::ShiftContract { contract: "summer".into(), shift: Shift::Days(7) });
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Sets the percent of a rule whose action is a `percent` (alone or with `from_list`);
    /// its tiers are kept.
    SetPercent {
        /// The contract's id.
        contract: String,
        /// The rule's id in the contract.
        rule: String,
        /// The new signed percentage.
        percent: Decimal,
    },
    /// Sets the price of a rule whose action is a `price`; its tiers are kept.
    SetPrice {
        /// The contract's id.
        contract: String,
        /// The rule's id in the contract.
        rule: String,
        /// The new unit price.
        price: Decimal,
    },
    /// Moves a rule's own validity.
    ShiftRule {
        /// The contract's id.
        contract: String,
        /// The rule's id in the contract.
        rule: String,
        /// How.
        shift: Shift,
    },
    /// Moves a contract's validity (its rules' own validities are left as they are).
    ShiftContract {
        /// The contract's id.
        contract: String,
        /// How.
        shift: Shift,
    },
    /// Adds a rule (a JSON object as the document holds it, `id` included) to a contract.
    AddRule {
        /// The contract's id.
        contract: String,
        /// The rule.
        rule: Value,
    },
    /// Removes a rule from a contract.
    RemoveRule {
        /// The contract's id.
        contract: String,
        /// The rule's id in the contract.
        rule: String,
    },
    /// Multiplies every price of a list's entries and their tiers by `factor` (> 0), each
    /// rounded as a quote from that list alone rounds (§17.3).
    ScaleList {
        /// The price list's id.
        list: String,
        /// The factor, exact.
        factor: Decimal,
    },
}

impl Edit {
    /// Reads the JSON form of a list of edits: objects with `edit` (`set_percent`,
    /// `set_price`, `shift_rule`, `shift_contract`, `add_rule`, `remove_rule`, `scale_list`)
    /// and the fields of that edit (`contract`, `rule`, `list`; `percent`, `price` and
    /// `factor` as decimal strings; `days` an integer or `to` a validity object). Every
    /// problem is reported at once, at `edits[i].field`.
    ///
    /// ```
    /// let err = tarif::Edit::parse_list(r#"[{"edit": "set_price", "contract": "c", "price": 3}]"#)
    ///     .unwrap_err();
    /// let found: Vec<_> = err.diagnostics.iter().map(|d| (d.code.code(), d.path.as_str())).collect();
    /// assert_eq!(found, [("MISSING_FIELD", "edits[0].rule"), ("INVALID_TYPE", "edits[0].price")]);
    /// ```
    pub fn parse_list(json: &str) -> Result<Vec<Edit>, CompileError> {
        let mut problems = Problems::default();
        let items = match crate::changes::parse_json(json, &mut problems) {
            Some(Value::Array(items)) => items,
            Some(other) => {
                problems.push(
                    Code::InvalidType,
                    "edits",
                    format!("expected a list of edits, found `{other}`"),
                    &[],
                );
                Vec::new()
            }
            None => Vec::new(),
        };
        let edits: Vec<Edit> = items
            .into_iter()
            .enumerate()
            .filter_map(|(i, item)| read_edit(&format!("edits[{i}]"), item, &mut problems))
            .collect();
        if problems.0.is_empty() {
            Ok(edits)
        } else {
            Err(CompileError {
                diagnostics: problems.0,
            })
        }
    }
}

/// Fields an edit of each kind takes, besides `edit`.
const FIELDS: [(&str, &[&str]); 7] = [
    ("set_percent", &["contract", "rule", "percent"]),
    ("set_price", &["contract", "rule", "price"]),
    ("shift_rule", &["contract", "rule", "days", "to"]),
    ("shift_contract", &["contract", "days", "to"]),
    ("add_rule", &["contract", "rule"]),
    ("remove_rule", &["contract", "rule"]),
    ("scale_list", &["list", "factor"]),
];

fn read_edit(path: &str, item: Value, problems: &mut Problems) -> Option<Edit> {
    let Value::Object(mut map) = item else {
        problems.push(
            Code::InvalidType,
            path,
            format!("expected an edit object, found `{item}`"),
            &[],
        );
        return None;
    };
    let kind = match map.remove("edit") {
        Some(Value::String(kind)) => kind,
        Some(other) => {
            problems.push(
                Code::InvalidType,
                &format!("{path}.edit"),
                format!("expected the edit's name, found `{other}`"),
                &[],
            );
            return None;
        }
        None => {
            problems.push(
                Code::MissingField,
                &format!("{path}.edit"),
                "missing field `edit`".into(),
                &[],
            );
            return None;
        }
    };
    let Some((_, fields)) = FIELDS.iter().find(|(name, _)| *name == kind) else {
        let names: Vec<String> = FIELDS.iter().map(|(n, _)| format!("`{n}`")).collect();
        problems.push(
            Code::InvalidType,
            &format!("{path}.edit"),
            format!(
                "unknown edit `{kind}`, expected one of {}",
                names.join(", ")
            ),
            &[],
        );
        return None;
    };
    for field in map.keys().filter(|k| !fields.contains(&k.as_str())) {
        problems.push(
            Code::UnknownField,
            &format!("{path}.{field}"),
            format!("unknown field `{field}` for `{kind}`"),
            &[],
        );
    }
    let mut read = Reader {
        path,
        map: &mut map,
        problems,
        ok: true,
    };
    let edit = match kind.as_str() {
        "set_percent" => Edit::SetPercent {
            contract: read.id("contract"),
            rule: read.id("rule"),
            percent: read.decimal("percent"),
        },
        "set_price" => Edit::SetPrice {
            contract: read.id("contract"),
            rule: read.id("rule"),
            price: read.decimal("price"),
        },
        "shift_rule" => Edit::ShiftRule {
            contract: read.id("contract"),
            rule: read.id("rule"),
            shift: read.shift(),
        },
        "shift_contract" => Edit::ShiftContract {
            contract: read.id("contract"),
            shift: read.shift(),
        },
        "add_rule" => Edit::AddRule {
            contract: read.id("contract"),
            rule: read.map.remove("rule").unwrap_or_else(|| {
                read.missing("rule");
                Value::Null
            }),
        },
        "remove_rule" => Edit::RemoveRule {
            contract: read.id("contract"),
            rule: read.id("rule"),
        },
        _ => Edit::ScaleList {
            list: read.id("list"),
            factor: read.decimal("factor"),
        },
    };
    read.ok.then_some(edit)
}

/// Reads the fields of one edit, noting every problem.
struct Reader<'a> {
    path: &'a str,
    map: &'a mut Map<String, Value>,
    problems: &'a mut Problems,
    ok: bool,
}

impl Reader<'_> {
    fn fail(&mut self, code: Code, field: &str, message: String) {
        self.ok = false;
        self.problems
            .push(code, &format!("{}.{field}", self.path), message, &[]);
    }

    fn missing(&mut self, field: &str) {
        self.fail(
            Code::MissingField,
            field,
            format!("missing field `{field}`"),
        );
    }

    fn id(&mut self, field: &str) -> String {
        match self.map.remove(field) {
            Some(Value::String(id)) if !id.is_empty() => id,
            Some(other) => {
                self.fail(
                    Code::InvalidId,
                    field,
                    format!("`{field}` must be a non-empty string, found `{other}`"),
                );
                String::new()
            }
            None => {
                self.missing(field);
                String::new()
            }
        }
    }

    fn decimal(&mut self, field: &str) -> Decimal {
        match self.map.remove(field) {
            Some(Value::String(text)) => money::parse_decimal(&text).unwrap_or_else(|| {
                self.fail(
                    Code::InvalidDecimal,
                    field,
                    format!("`{text}` is not a decimal"),
                );
                Decimal::ZERO
            }),
            Some(other) => {
                self.fail(
                    Code::InvalidType,
                    field,
                    format!("`{field}` must be a decimal string (no float carries money), found `{other}`"),
                );
                Decimal::ZERO
            }
            None => {
                self.missing(field);
                Decimal::ZERO
            }
        }
    }

    fn shift(&mut self) -> Shift {
        match (self.map.remove("days"), self.map.remove("to")) {
            (Some(days), None) => match days.as_i64() {
                Some(days) => Shift::Days(days),
                None => {
                    self.fail(
                        Code::InvalidType,
                        "days",
                        format!("`days` must be an integer, found `{days}`"),
                    );
                    Shift::Days(0)
                }
            },
            (None, Some(Value::Object(mut to))) => {
                let mut bound = |name: &str| match to.remove(name) {
                    None | Some(Value::Null) => None,
                    Some(Value::String(text)) => Some(text),
                    Some(other) => {
                        self.fail(
                            Code::InvalidType,
                            &format!("to.{name}"),
                            format!("expected an instant, found `{other}`"),
                        );
                        None
                    }
                };
                let (from, until) = (bound("from"), bound("until"));
                for field in to.keys() {
                    self.fail(
                        Code::UnknownField,
                        &format!("to.{field}"),
                        format!("unknown field `{field}`, expected `from` or `until`"),
                    );
                }
                Shift::To { from, until }
            }
            (None, Some(other)) => {
                self.fail(
                    Code::InvalidType,
                    "to",
                    format!("`to` must be a validity object, found `{other}`"),
                );
                Shift::Days(0)
            }
            _ => {
                self.ok = false;
                self.problems.push(
                    Code::InvalidType,
                    self.path,
                    "a shift takes exactly one of `days` and `to`".into(),
                    &[],
                );
                Shift::Days(0)
            }
        }
    }
}

/// A contract as the edits leave it.
struct ContractWork {
    id: String,
    /// The contract without its rules (and with its visibility rules, which an upsert
    /// without them keeps).
    header: Map<String, Value>,
    /// The last edit that changed the header.
    header_edit: Option<usize>,
    /// The rule ids the document has.
    original: Vec<String>,
    rules: Vec<RuleWork>,
}

struct RuleWork {
    id: String,
    value: Map<String, Value>,
    /// Where the last edit that wrote it is (`edits[i]`, or `edits[i].rule` for the rule an
    /// edit added whole); `None`: as the document has it.
    edit: Option<String>,
}

struct ListWork {
    element: Map<String, Value>,
    edit: usize,
}

/// The changes the edits make, and for each element written, the edit that last wrote it.
struct Written {
    changes: Value,
    origins: Vec<(String, String)>,
}

/// The engine's document, parsed only where the edits look.
struct Source<'a> {
    /// Each section's text by name.
    top: BTreeMap<&'a str, &'a str>,
    contracts: Option<HashMap<String, &'a RawValue>>,
    lists: Option<HashMap<String, &'a RawValue>>,
}

impl<'a> Source<'a> {
    fn section(&self, name: &str) -> Option<Value> {
        self.top
            .get(name)
            .and_then(|text| serde_json::from_str(text).ok())
    }

    fn keyed(top: &BTreeMap<&'a str, &'a str>, name: &str) -> HashMap<String, &'a RawValue> {
        let list: Vec<&'a RawValue> = top
            .get(name)
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_default();
        let mut out = HashMap::new();
        for raw in list {
            // The first element of an id wins, as a compiled document has only one.
            out.entry(crate::changes::key_of(raw, "id")).or_insert(raw);
        }
        out
    }

    fn contract(&mut self, id: &str) -> Option<Map<String, Value>> {
        let top = &self.top;
        let raw = self
            .contracts
            .get_or_insert_with(|| Source::keyed(top, "contracts"))
            .get(id)?;
        serde_json::from_str(raw.get()).ok()
    }

    fn list(&mut self, id: &str) -> Option<Map<String, Value>> {
        let top = &self.top;
        let raw = self
            .lists
            .get_or_insert_with(|| Source::keyed(top, "price_lists"))
            .get(id)?;
        serde_json::from_str(raw.get()).ok()
    }
}

impl Engine {
    /// The `tarif/1-changes` document that makes `edits` on this engine's document, in the
    /// order given, with this engine's `engine_version` (so that it applies to this state of
    /// the rules only). `apply` of it is [`Engine::with_edits`]. An edit naming an unknown
    /// contract, rule or list, a rule without the action an edit sets, a rule id added twice,
    /// a bound that is not an instant or a factor that is not positive are reported all at
    /// once, with their path `edits[i].field`.
    ///
    /// ```
    /// use tarif::{Edit, Engine};
    /// let engine = Engine::from_json(r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
    ///   "contracts": [{"id": "acme", "audience": "all",
    ///     "rules": [{"id": "cables", "step": "discount", "products": "all", "percent": "-10"}]}]}"#).unwrap();
    /// let edits = [Edit::SetPercent { contract: "acme".into(), rule: "cables".into(), percent: "-12.5".parse().unwrap() }];
    /// let changes: serde_json::Value = serde_json::from_str(&engine.scenario_changes(&edits).unwrap()).unwrap();
    /// assert_eq!(changes["upsert"]["rules"][0]["percent"], "-12.5");
    /// assert_eq!(changes["upsert"]["rules"][0]["contract"], "acme");
    ///
    /// let err = engine.scenario_changes(&[Edit::RemoveRule { contract: "acme".into(), rule: "x".into() }]).unwrap_err();
    /// assert_eq!((err.diagnostics[0].code.code(), err.diagnostics[0].path.as_str()), ("UNKNOWN_ID", "edits[0].rule"));
    /// ```
    pub fn scenario_changes(&self, edits: &[Edit]) -> Result<String, CompileError> {
        self.write_edits(edits).map(|w| w.changes.to_string())
    }

    /// This engine's document with `edits` made ([`Engine::scenario_changes`], then
    /// [`Engine::apply`]); `self` is untouched. The compiler's diagnostics about an element an
    /// edit wrote point at that edit (`edits[i]`, then the path inside the element).
    ///
    /// ```
    /// use tarif::{CompileOptions, Edit, Engine, QuoteRequest};
    /// let base = Engine::from_json(r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
    ///   "settings": {"default_price_lists": ["l"]}, "products": [{"sku": "A"}],
    ///   "price_lists": [{"id": "l", "prices": [{"sku": "A", "price": "9.99"}]}],
    ///   "accounts": [{"id": "C"}]}"#).unwrap();
    /// let dearer = base.with_edits(&[Edit::ScaleList { list: "l".into(), factor: "1.1".parse().unwrap() }],
    ///                              &CompileOptions::default()).unwrap().engine;
    /// let price = |e: &Engine| e.quote(&QuoteRequest::new("C", "A", 1.into())).unwrap().unit_price.to_string();
    /// assert_eq!((price(&base), price(&dearer)), ("9.99".into(), "10.99".into()));
    /// ```
    pub fn with_edits(
        &self,
        edits: &[Edit],
        options: &CompileOptions,
    ) -> Result<Compiled, CompileError> {
        let written = self.write_edits(edits)?;
        let locate = |mut list: Vec<crate::error::Diagnostic>| {
            for d in &mut list {
                let origin = written.origins.iter().find(|(changes, _)| {
                    d.path.strip_prefix(changes.as_str()).is_some_and(|rest| {
                        rest.is_empty() || rest.starts_with('.') || rest.starts_with('[')
                    })
                });
                if let Some((changes, edit)) = origin {
                    d.path = format!("{edit}{}", d.path.get(changes.len()..).unwrap_or(""));
                }
            }
            list
        };
        match self.apply(&written.changes.to_string(), options) {
            Ok(compiled) => Ok(Compiled {
                warnings: locate(compiled.warnings),
                engine: compiled.engine,
            }),
            Err(e) => Err(CompileError {
                diagnostics: locate(e.diagnostics),
            }),
        }
    }

    fn write_edits(&self, edits: &[Edit]) -> Result<Written, CompileError> {
        let mut problems = Problems::default();
        let Some(document) = self.source.as_ref() else {
            problems.push(
                Code::NoSource,
                "",
                "this engine was compiled with `discard_source`: there is no document to edit"
                    .into(),
                &[],
            );
            return Err(CompileError {
                diagnostics: problems.0,
            });
        };
        let mut source = Source {
            top: document.texts(),
            contracts: None,
            lists: None,
        };
        let mut contracts: Vec<ContractWork> = Vec::new();
        let mut lists: Vec<(String, ListWork)> = Vec::new();
        for (i, edit) in edits.iter().enumerate() {
            let path = format!("edits[{i}]");
            let mut edit_problems = Problems::default();
            match edit {
                Edit::ScaleList { list, factor } => {
                    let at = lists.iter().position(|(id, _)| id == list);
                    let element = match at.and_then(|at| lists.get(at)) {
                        Some((_, work)) => Some(work.element.clone()),
                        None => source.list(list),
                    };
                    let Some(mut element) = element else {
                        problems.push(
                            Code::UnknownId,
                            &format!("{path}.list"),
                            format!("no price list `{list}` in the document"),
                            &[list],
                        );
                        continue;
                    };
                    let (scale, mode) = self.list_rounding(&element, &source);
                    scale_list(
                        &mut element,
                        *factor,
                        scale,
                        mode,
                        &path,
                        &mut edit_problems,
                    );
                    if edit_problems.0.is_empty() {
                        let work = ListWork { element, edit: i };
                        match at.and_then(|at| lists.get_mut(at)) {
                            Some(slot) => slot.1 = work,
                            None => lists.push((list.clone(), work)),
                        }
                    }
                }
                Edit::SetPercent { contract, .. }
                | Edit::SetPrice { contract, .. }
                | Edit::ShiftRule { contract, .. }
                | Edit::ShiftContract { contract, .. }
                | Edit::AddRule { contract, .. }
                | Edit::RemoveRule { contract, .. } => {
                    let at = match contracts.iter().position(|c| &c.id == contract) {
                        Some(at) => at,
                        None => match source.contract(contract) {
                            Some(element) => {
                                contracts.push(ContractWork::new(contract, element));
                                contracts.len() - 1
                            }
                            None => {
                                problems.push(
                                    Code::UnknownId,
                                    &format!("{path}.contract"),
                                    format!("no contract `{contract}` in the document"),
                                    &[contract],
                                );
                                continue;
                            }
                        },
                    };
                    if let Some(work) = contracts.get_mut(at) {
                        let zone = self.timezone();
                        work.edit(edit, i, &path, zone, &mut edit_problems);
                    }
                }
            }
            problems.0.extend(edit_problems.0);
        }
        if !problems.0.is_empty() {
            return Err(CompileError {
                diagnostics: problems.0,
            });
        }
        Ok(write_changes(self.engine_version(), contracts, lists))
    }

    /// The scale and mode a quote priced from `list` alone rounds to (§6.7, §17.3): the first
    /// policy of the list's, its currency's and the settings', taken whole.
    fn list_rounding(&self, list: &Map<String, Value>, source: &Source) -> (u32, RoundingMode) {
        let settings = source.section("settings").unwrap_or(Value::Null);
        let currency = list
            .get("currency")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                settings
                    .get("default_currency")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .or_else(|| self.currencies().next().map(str::to_string));
        let currencies = source.section("currencies").unwrap_or(Value::Null);
        let currency_rounding = currencies.as_array().and_then(|all| {
            all.iter()
                .find(|c| c.get("code").and_then(Value::as_str) == currency.as_deref())
                .and_then(|c| c.get("rounding"))
        });
        let policy = list
            .get("rounding")
            .or(currency_rounding)
            .or(settings.get("rounding"));
        let mode = policy
            .and_then(|p| p.get("mode"))
            .and_then(|m| serde_json::from_value(m.clone()).ok())
            .unwrap_or(RoundingMode::HalfUp);
        let scale = policy
            .and_then(|p| p.get("scale"))
            .and_then(Value::as_u64)
            .and_then(|s| u32::try_from(s).ok())
            .or_else(|| self.currency_scale(currency.as_deref()))
            .unwrap_or(2);
        (scale, mode)
    }
}

impl ContractWork {
    fn new(id: &str, mut element: Map<String, Value>) -> ContractWork {
        let rules: Vec<RuleWork> = match element.remove("rules") {
            Some(Value::Array(rules)) => rules
                .into_iter()
                .filter_map(|rule| match rule {
                    Value::Object(value) => Some(RuleWork {
                        id: value
                            .get("id")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                        value,
                        edit: None,
                    }),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        ContractWork {
            id: id.to_string(),
            header: element,
            header_edit: None,
            original: rules.iter().map(|r| r.id.clone()).collect(),
            rules,
        }
    }

    fn edit(
        &mut self,
        edit: &Edit,
        i: usize,
        path: &str,
        zone: chrono_tz::Tz,
        problems: &mut Problems,
    ) {
        let contract = self.id.clone();
        let rule_at = |rules: &[RuleWork], rule: &str, problems: &mut Problems| {
            let at = rules.iter().position(|r| r.id == rule);
            if at.is_none() {
                problems.push(
                    Code::UnknownId,
                    &format!("{path}.rule"),
                    format!("no rule `{rule}` in contract `{contract}`"),
                    &[rule],
                );
            }
            at
        };
        match edit {
            Edit::SetPercent { rule, percent, .. }
            | Edit::SetPrice {
                rule,
                price: percent,
                ..
            } => {
                let field = if matches!(edit, Edit::SetPercent { .. }) {
                    "percent"
                } else {
                    "price"
                };
                let Some(work) =
                    rule_at(&self.rules, rule, problems).and_then(|at| self.rules.get_mut(at))
                else {
                    return;
                };
                if !work.value.contains_key(field) {
                    problems.push(
                        Code::RuleActions,
                        &format!("{path}.{field}"),
                        format!("rule `{}/{rule}` has no `{field}` to set: an edit keeps a rule's kind of action", self.id),
                        &[rule],
                    );
                    return;
                }
                work.value
                    .insert(field.into(), Value::String(percent.to_string()));
                work.edit = Some(path.to_string());
            }
            Edit::ShiftRule { rule, shift, .. } => {
                let Some(work) =
                    rule_at(&self.rules, rule, problems).and_then(|at| self.rules.get_mut(at))
                else {
                    return;
                };
                if shift_validity(&mut work.value, shift, path, zone, problems) {
                    work.edit = Some(path.to_string());
                }
            }
            Edit::ShiftContract { shift, .. } => {
                if shift_validity(&mut self.header, shift, path, zone, problems) {
                    self.header_edit = Some(i);
                }
            }
            Edit::RemoveRule { rule, .. } => {
                if let Some(at) = rule_at(&self.rules, rule, problems) {
                    self.rules.remove(at);
                }
            }
            Edit::AddRule { rule, .. } => {
                let rule_path = format!("{path}.rule");
                let Value::Object(value) = rule else {
                    problems.push(
                        Code::InvalidType,
                        &rule_path,
                        format!("expected a rule object, found `{rule}`"),
                        &[],
                    );
                    return;
                };
                if value.contains_key("contract") {
                    problems.push(
                        Code::UnknownField,
                        &format!("{rule_path}.contract"),
                        "a rule added by an edit takes its contract from the edit".into(),
                        &[],
                    );
                    return;
                }
                let id = match value.get("id") {
                    Some(Value::String(id)) if !id.is_empty() => id.clone(),
                    Some(other) => {
                        problems.push(
                            Code::InvalidId,
                            &format!("{rule_path}.id"),
                            format!("`id` must be a non-empty string, found `{other}`"),
                            &[],
                        );
                        return;
                    }
                    None => {
                        problems.push(
                            Code::MissingField,
                            &rule_path,
                            "missing field `id`".into(),
                            &[],
                        );
                        return;
                    }
                };
                if self.rules.iter().any(|r| r.id == id) {
                    problems.push(
                        Code::DuplicateId,
                        &format!("{rule_path}.id"),
                        format!("contract `{}` already has a rule `{id}`", self.id),
                        &[&id],
                    );
                    return;
                }
                self.rules.push(RuleWork {
                    id,
                    value: value.clone(),
                    edit: Some(rule_path),
                });
            }
            Edit::ScaleList { .. } => {}
        }
    }
}

/// Moves the `valid` of an element; whether anything was written.
fn shift_validity(
    element: &mut Map<String, Value>,
    shift: &Shift,
    path: &str,
    zone: chrono_tz::Tz,
    problems: &mut Problems,
) -> bool {
    match shift {
        Shift::Days(days) => {
            let Some(Value::Object(valid)) = element.get_mut("valid") else {
                return true;
            };
            let mut ok = true;
            for bound in ["from", "until"] {
                let Some(Value::String(text)) = valid.get(bound) else {
                    continue;
                };
                match shift_instant(text, *days) {
                    Some(moved) => {
                        valid.insert(bound.into(), Value::String(moved));
                    }
                    None => {
                        ok = false;
                        problems.push(
                            Code::InvalidInstant,
                            &format!("{path}.days"),
                            format!("`{text}` moved by {days} days is not an instant"),
                            &[],
                        );
                    }
                }
            }
            ok
        }
        Shift::To { from, until } => {
            let parse = |field: &str, text: &Option<String>, problems: &mut Problems| match text {
                None => Some(None),
                Some(text) => match Instant::parse_in_zone(text, zone) {
                    Some(instant) => Some(Some(instant)),
                    None => {
                        problems.push(
                            Code::InvalidInstant,
                            &format!("{path}.to.{field}"),
                            format!("`{text}` is not an RFC 3339 instant or a date"),
                            &[],
                        );
                        None
                    }
                },
            };
            let (Some(start), Some(end)) = (
                parse("from", from, problems),
                parse("until", until, problems),
            ) else {
                return false;
            };
            if let (Some(start), Some(end)) = (start, end) {
                if start >= end {
                    problems.push(
                        Code::InvalidInterval,
                        &format!("{path}.to"),
                        "`from` must be before `until`".into(),
                        &[],
                    );
                    return false;
                }
            }
            let mut valid = Map::new();
            if let Some(from) = from {
                valid.insert("from".into(), Value::String(from.clone()));
            }
            if let Some(until) = until {
                valid.insert("until".into(), Value::String(until.clone()));
            }
            if valid.is_empty() {
                element.remove("valid");
            } else {
                element.insert("valid".into(), Value::Object(valid));
            }
            true
        }
    }
}

/// A date moved by calendar days, an RFC 3339 instant by 24 hours a day (its offset kept).
fn shift_instant(text: &str, days: i64) -> Option<String> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let moved = date.checked_add_signed(Duration::try_days(days)?)?;
        return Some(moved.format("%Y-%m-%d").to_string());
    }
    let instant = DateTime::parse_from_rfc3339(text).ok()?;
    let moved = instant.checked_add_signed(Duration::try_days(days)?)?;
    Some(moved.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// Multiplies the prices of a list's entries and tiers by `factor`, rounded.
fn scale_list(
    list: &mut Map<String, Value>,
    factor: Decimal,
    scale: u32,
    mode: RoundingMode,
    path: &str,
    problems: &mut Problems,
) {
    let id = list
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if factor <= Decimal::ZERO {
        problems.push(
            Code::InvalidDecimal,
            &format!("{path}.factor"),
            format!("a list is scaled by a positive factor, not `{factor}`"),
            &[],
        );
        return;
    }
    let mut scale_price = |holder: &mut Map<String, Value>, sku: &str| {
        let Some(Value::String(text)) = holder.get("price") else {
            return;
        };
        let Some(price) = money::parse_decimal(text) else {
            return;
        };
        match money::mul(price, factor) {
            Some(scaled) => {
                let rounded = money::round(scaled, scale, mode);
                holder.insert("price".into(), Value::String(rounded.to_string()));
            }
            None => problems.push(
                Code::InvalidDecimal,
                &format!("{path}.factor"),
                format!("`{text}` × `{factor}` (list `{id}`, `{sku}`) does not fit a decimal"),
                &[],
            ),
        }
    };
    let Some(Value::Array(entries)) = list.get_mut("prices") else {
        return;
    };
    for entry in entries.iter_mut() {
        let Value::Object(entry) = entry else {
            continue;
        };
        let sku = entry
            .get("sku")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        scale_price(entry, &sku);
        if let Some(Value::Array(tiers)) = entry.get_mut("tiers") {
            for tier in tiers.iter_mut() {
                if let Value::Object(tier) = tier {
                    scale_price(tier, &sku);
                }
            }
        }
    }
}

/// The changes document of the edited contracts and lists, with where each element came from.
fn write_changes(
    engine_version: &str,
    contracts: Vec<ContractWork>,
    lists: Vec<(String, ListWork)>,
) -> Written {
    let mut origins = Vec::new();
    let mut upsert_contracts = Vec::new();
    let mut upsert_rules = Vec::new();
    let mut delete_rules = Vec::new();
    for contract in contracts {
        if let Some(edit) = contract.header_edit {
            origins.push((
                format!("upsert.contracts[{}]", upsert_contracts.len()),
                format!("edits[{edit}]"),
            ));
            let mut header = contract.header;
            // A contract upsert without `visibility` keeps the document's.
            header.remove("visibility");
            upsert_contracts.push(Value::Object(header));
        }
        for id in &contract.original {
            if !contract.rules.iter().any(|r| &r.id == id) {
                delete_rules.push(json!({"contract": contract.id, "id": id}));
            }
        }
        for rule in contract.rules {
            let Some(edit) = rule.edit else {
                continue;
            };
            origins.push((format!("upsert.rules[{}]", upsert_rules.len()), edit));
            let mut value = Map::new();
            value.insert("contract".into(), Value::String(contract.id.clone()));
            value.extend(rule.value);
            upsert_rules.push(Value::Object(value));
        }
    }
    let mut upsert_lists = Vec::new();
    for (_, list) in lists {
        origins.push((
            format!("upsert.price_lists[{}]", upsert_lists.len()),
            format!("edits[{}]", list.edit),
        ));
        upsert_lists.push(Value::Object(list.element));
    }
    let mut upsert = Map::new();
    let mut delete = Map::new();
    for (section, list) in [
        ("price_lists", upsert_lists),
        ("contracts", upsert_contracts),
        ("rules", upsert_rules),
    ] {
        if !list.is_empty() {
            upsert.insert(section.into(), Value::Array(list));
        }
    }
    if !delete_rules.is_empty() {
        delete.insert("rules".into(), Value::Array(delete_rules));
    }
    let mut changes = Map::new();
    changes.insert("format".into(), Value::String(CHANGES_FORMAT.into()));
    changes.insert(
        "engine_version".into(),
        Value::String(engine_version.into()),
    );
    if !upsert.is_empty() {
        changes.insert("upsert".into(), Value::Object(upsert));
    }
    if !delete.is_empty() {
        changes.insert("delete".into(), Value::Object(delete));
    }
    Written {
        changes: Value::Object(changes),
        origins,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::{Edit, Shift};
    use crate::{CompileOptions, Engine, QuoteRequest};

    const DOC: &str = r#"{"format": "tarif/1",
      "settings": {"default_price_lists": ["pub"], "timezone": "Europe/Paris"},
      "currencies": [{"code": "EUR"}, {"code": "JPY"}],
      "products": [{"sku": "A"}, {"sku": "B"}],
      "price_lists": [
        {"id": "pub", "prices": [{"sku": "A", "price": "10.00", "tiers": [{"min_qty": 10, "price": "9.05"}]},
                                 {"sku": "B", "price": "3.35"}]},
        {"id": "even", "rounding": {"mode": "half_even"}, "prices": [{"sku": "A", "price": "0.25"}]},
        {"id": "yen", "currency": "JPY", "prices": [{"sku": "A", "price": "1005"}]}],
      "accounts": [{"id": "C"}],
      "contracts": [{"id": "acme", "audience": {"accounts": ["C"]}, "currency": "EUR",
        "valid": {"from": "2026-01-01", "until": "2030-07-01T00:00:00+02:00"},
        "visibility": [{"effect": "deny", "products": {"sku": "B"}, "capabilities": ["buy"]}],
        "rules": [
          {"id": "ten", "step": "discount", "products": "all", "percent": "-10"},
          {"id": "fixed", "step": "discount", "products": {"sku": "B"}, "price": "3.00"},
          {"id": "promo", "step": "discount", "products": {"sku": "A"}, "percent": "-5", "valid": {"from": "2026-03-01"}}]}]}"#;

    fn engine() -> Engine {
        Engine::from_json(DOC).unwrap()
    }

    fn changes(engine: &Engine, edits: &[Edit]) -> Value {
        serde_json::from_str(&engine.scenario_changes(edits).unwrap()).unwrap()
    }

    fn d(text: &str) -> rust_decimal::Decimal {
        text.parse().unwrap()
    }

    fn problems(engine: &Engine, edits: &[Edit]) -> Vec<(String, String)> {
        engine
            .scenario_changes(edits)
            .unwrap_err()
            .diagnostics
            .into_iter()
            .map(|d| (d.code.code().to_string(), d.path))
            .collect()
    }

    #[test]
    fn edits_of_one_rule_compose_into_one_upsert() {
        let engine = engine();
        let out = changes(
            &engine,
            &[
                Edit::SetPercent {
                    contract: "acme".into(),
                    rule: "promo".into(),
                    percent: d("-7.5"),
                },
                Edit::ShiftRule {
                    contract: "acme".into(),
                    rule: "promo".into(),
                    shift: Shift::Days(-3),
                },
                Edit::SetPrice {
                    contract: "acme".into(),
                    rule: "fixed".into(),
                    price: d("2.90"),
                },
            ],
        );
        assert_eq!(
            out,
            json!({"format": "tarif/1-changes", "engine_version": engine.engine_version(),
                   "upsert": {"rules": [
                       {"contract": "acme", "id": "fixed", "step": "discount", "products": {"sku": "B"}, "price": "2.90"},
                       {"contract": "acme", "id": "promo", "step": "discount", "products": {"sku": "A"}, "percent": "-7.5",
                        "valid": {"from": "2026-02-26"}}]}})
        );
    }

    #[test]
    fn a_contract_shift_writes_its_header_only() {
        let engine = engine();
        let out = changes(
            &engine,
            &[Edit::ShiftContract {
                contract: "acme".into(),
                shift: Shift::Days(31),
            }],
        );
        assert_eq!(
            out["upsert"]["contracts"],
            json!([{"id": "acme", "audience": {"accounts": ["C"]}, "currency": "EUR",
                    "valid": {"from": "2026-02-01", "until": "2030-08-01T00:00:00+02:00"}}])
        );
        let out = changes(
            &engine,
            &[Edit::ShiftContract {
                contract: "acme".into(),
                shift: Shift::To {
                    from: None,
                    until: None,
                },
            }],
        );
        assert!(out["upsert"]["contracts"][0].get("valid").is_none());
        let next = engine
            .with_edits(
                &[Edit::ShiftContract {
                    contract: "acme".into(),
                    shift: Shift::Days(31),
                }],
                &CompileOptions::default(),
            )
            .unwrap()
            .engine;
        // The rules and visibility rules stay: only the header moved.
        let doc: Value = serde_json::from_str(next.source().unwrap()).unwrap();
        assert_eq!(doc["contracts"][0]["rules"].as_array().unwrap().len(), 3);
        assert_eq!(
            doc["contracts"][0]["visibility"].as_array().unwrap().len(),
            1
        );
    }

    #[test]
    fn added_and_removed_rules_net_out() {
        let engine = engine();
        let rule = json!({"id": "new", "step": "discount", "products": "all", "percent": "-1"});
        let add = Edit::AddRule {
            contract: "acme".into(),
            rule: rule.clone(),
        };
        let remove = |id: &str| Edit::RemoveRule {
            contract: "acme".into(),
            rule: id.into(),
        };
        // Added then removed: nothing to write.
        assert!(changes(&engine, &[add.clone(), remove("new")])
            .get("upsert")
            .is_none());
        // Removed: a deletion; removed then added again: an upsert in its place, no deletion.
        assert_eq!(
            changes(&engine, &[remove("ten")])["delete"],
            json!({"rules": [{"contract": "acme", "id": "ten"}]})
        );
        let again = Edit::AddRule {
            contract: "acme".into(),
            rule: json!({"id": "ten", "step": "discount", "products": "all", "percent": "-11"}),
        };
        let out = changes(&engine, &[remove("ten"), again]);
        assert!(out.get("delete").is_none());
        assert_eq!(out["upsert"]["rules"][0]["percent"], "-11");
        let out = changes(&engine, &[add]);
        assert_eq!(out["upsert"]["rules"][0]["contract"], "acme");
        assert_eq!(out["upsert"]["rules"][0]["id"], "new");
    }

    #[test]
    fn a_list_scales_at_the_scale_and_mode_of_its_rounding() {
        let engine = engine();
        let scale = |list: &str, factor: &str| {
            changes(
                &engine,
                &[Edit::ScaleList {
                    list: list.into(),
                    factor: d(factor),
                }],
            )["upsert"]["price_lists"][0]
                .clone()
        };
        let public = scale("pub", "1.05");
        // 10.50, 9.5025 → 9.50, 3.5175 → 3.52: EUR's 2 decimals, half_up.
        assert_eq!(public["prices"][0]["price"], "10.50");
        assert_eq!(public["prices"][0]["tiers"][0]["price"], "9.50");
        assert_eq!(public["prices"][1]["price"], "3.52");
        // 0.25 × 1.1 = 0.275: half_even, the list's own policy, gives 0.28; 1005 × 1.1 = 1105.5 yen → 1106.
        assert_eq!(scale("even", "1.1")["prices"][0]["price"], "0.28");
        assert_eq!(scale("yen", "1.1")["prices"][0]["price"], "1106");
        assert_eq!(scale("even", "1.3")["prices"][0]["price"], "0.32");
    }

    #[test]
    fn unknown_ids_and_bad_edits_are_all_reported_with_their_path() {
        let engine = engine();
        let found = problems(
            &engine,
            &[
                Edit::SetPercent {
                    contract: "nope".into(),
                    rule: "ten".into(),
                    percent: d("1"),
                },
                Edit::SetPercent {
                    contract: "acme".into(),
                    rule: "nope".into(),
                    percent: d("1"),
                },
                Edit::SetPercent {
                    contract: "acme".into(),
                    rule: "fixed".into(),
                    percent: d("1"),
                },
                Edit::ScaleList {
                    list: "nope".into(),
                    factor: d("2"),
                },
                Edit::ScaleList {
                    list: "pub".into(),
                    factor: d("0"),
                },
                Edit::AddRule {
                    contract: "acme".into(),
                    rule: json!({"id": "ten", "step": "discount", "products": "all", "percent": "1"}),
                },
                Edit::ShiftRule {
                    contract: "acme".into(),
                    rule: "ten".into(),
                    shift: Shift::To {
                        from: Some("2026-05-01".into()),
                        until: Some("2026-04-01".into()),
                    },
                },
                Edit::ShiftRule {
                    contract: "acme".into(),
                    rule: "ten".into(),
                    shift: Shift::To {
                        from: Some("soon".into()),
                        until: None,
                    },
                },
            ],
        );
        let expected = [
            ("UNKNOWN_ID", "edits[0].contract"),
            ("UNKNOWN_ID", "edits[1].rule"),
            ("RULE_ACTIONS", "edits[2].percent"),
            ("UNKNOWN_ID", "edits[3].list"),
            ("INVALID_DECIMAL", "edits[4].factor"),
            ("DUPLICATE_ID", "edits[5].rule.id"),
            ("INVALID_INTERVAL", "edits[6].to"),
            ("INVALID_INSTANT", "edits[7].to.from"),
        ];
        let expected: Vec<_> = expected
            .iter()
            .map(|(c, p)| (c.to_string(), p.to_string()))
            .collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn a_scenario_never_changes_its_base() {
        let engine = engine();
        let version = engine.engine_version().to_string();
        let at = engine.parse_instant("2026-04-01").unwrap();
        let price = |e: &Engine| {
            e.quote(&QuoteRequest::new("C", "A", 1.into()).at(at))
                .unwrap()
                .unit_price
        };
        let before = price(&engine);
        let next = engine
            .with_edits(
                &[Edit::SetPercent {
                    contract: "acme".into(),
                    rule: "promo".into(),
                    percent: d("-20"),
                }],
                &CompileOptions::default(),
            )
            .unwrap()
            .engine;
        assert_ne!(price(&next), before);
        assert_eq!(
            (engine.engine_version(), price(&engine)),
            (version.as_str(), before)
        );
        // Changes made for one engine do not apply to another state of the rules.
        let stale = engine
            .scenario_changes(&[Edit::RemoveRule {
                contract: "acme".into(),
                rule: "ten".into(),
            }])
            .unwrap();
        let err = next.apply(&stale, &CompileOptions::default()).unwrap_err();
        assert_eq!(err.diagnostics[0].code.code(), "VERSION_MISMATCH");
    }

    #[test]
    fn compile_problems_point_at_the_edit() {
        let engine = engine();
        let err = engine
            .with_edits(
                &[
                    Edit::SetPrice { contract: "acme".into(), rule: "fixed".into(), price: d("1") },
                    Edit::AddRule {
                        contract: "acme".into(),
                        rule: json!({"id": "bad", "step": "discount", "products": "all", "percent": "-150"}),
                    },
                ],
                &CompileOptions::default(),
            )
            .unwrap_err();
        let found: Vec<_> = err
            .diagnostics
            .iter()
            .map(|d| (d.code.code(), d.path.as_str()))
            .collect();
        assert_eq!(found, [("INVALID_PERCENT", "edits[1].rule.percent")]);
    }

    #[test]
    fn the_json_form_reads_every_edit_and_reports_every_problem() {
        let edits = Edit::parse_list(
            r#"[{"edit": "set_percent", "contract": "c", "rule": "r", "percent": "-12.5"},
                {"edit": "set_price", "contract": "c", "rule": "r", "price": "3"},
                {"edit": "shift_rule", "contract": "c", "rule": "r", "to": {"from": "2026-01-01", "until": null}},
                {"edit": "shift_contract", "contract": "c", "days": -7},
                {"edit": "add_rule", "contract": "c", "rule": {"id": "x"}},
                {"edit": "remove_rule", "contract": "c", "rule": "r"},
                {"edit": "scale_list", "list": "l", "factor": "1.05"}]"#,
        )
        .unwrap();
        assert_eq!(edits.len(), 7);
        assert_eq!(
            edits[2],
            Edit::ShiftRule {
                contract: "c".into(),
                rule: "r".into(),
                shift: Shift::To {
                    from: Some("2026-01-01".into()),
                    until: None
                }
            }
        );
        let err = Edit::parse_list(
            r#"[{"edit": "grow"}, {"edit": "scale_list", "list": "", "factor": "x", "extra": 1},
                {"edit": "shift_contract", "contract": "c", "days": 1, "to": {}}, 3]"#,
        )
        .unwrap_err();
        let found: Vec<_> = err
            .diagnostics
            .iter()
            .map(|d| (d.code.code(), d.path.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("INVALID_TYPE", "edits[0].edit"),
                ("UNKNOWN_FIELD", "edits[1].extra"),
                ("INVALID_ID", "edits[1].list"),
                ("INVALID_DECIMAL", "edits[1].factor"),
                ("INVALID_TYPE", "edits[2]"),
                ("INVALID_TYPE", "edits[3]"),
            ]
        );
        assert_eq!(
            Edit::parse_list("[").unwrap_err().diagnostics[0]
                .code
                .code(),
            "PARSE_ERROR"
        );
    }
}
