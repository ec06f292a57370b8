//! Building an engine: the one place that knows both the compiler and the engine, so that
//! neither imports the other.

use std::sync::Arc;

use rayon::prelude::*;

use crate::changes::{self, Changes, Derivation, Diff, PatchedText, Problems, Written};
use crate::compile::{self, CompileOptions};
use crate::engine::Engine;
use crate::error::{CompileError, Diagnostic, DiagnosticCode};
use crate::index::{Index, Pricing};
use crate::model::Contract;
use crate::source::{Section, SectionSpan, Source, CONTRACTS, PRICE_LISTS, STOCK};

/// A compiled engine and the warnings its document raised.
#[derive(Debug)]
pub struct Compiled {
    /// The engine.
    pub engine: Engine,
    /// Warnings (never errors: a document with errors is rejected).
    pub warnings: Vec<Diagnostic>,
}

impl Engine {
    /// Compiles a `tarif/1` JSON document (warnings allowed).
    ///
    /// ```
    /// let err = tarif::Engine::from_json(r#"{"format": "tarif/1", "bogus": 1}"#).unwrap_err();
    /// assert_eq!(err.diagnostics[0].code.code(), "UNKNOWN_FIELD");
    /// ```
    pub fn from_json(json: &str) -> Result<Engine, CompileError> {
        Engine::compile(json, &CompileOptions::default()).map(|c| c.engine)
    }

    /// Compiles with options (e.g. `strict`), returning the engine and its warnings; a
    /// rejected document reports every problem at once.
    ///
    /// ```
    /// use tarif::{CompileOptions, Engine};
    /// let doc = r#"{"format": "tarif/1", "products": [{"sku": ""}, {"sku": "A", "cost": "x"}]}"#;
    /// let err = Engine::compile(doc, &CompileOptions::default()).unwrap_err();
    /// let codes: Vec<_> = err.diagnostics.iter().map(|d| (d.code.code(), d.path.as_str())).collect();
    /// assert!(codes.contains(&("INVALID_ID", "products[0].sku")));
    /// assert!(codes.contains(&("INVALID_DECIMAL", "products[1].cost")));
    /// ```
    pub fn compile(json: &str, options: &CompileOptions) -> Result<Compiled, CompileError> {
        let output = compile::compile(json, options)?;
        Ok(Engine::compiled(
            output,
            |spans| Source::compiled(Arc::from(json), spans),
            options,
        ))
    }

    /// The engine of a compile's output, keeping its document (made by `source` from where the
    /// compile found each section, or the sections a partial compile was given) unless the
    /// options discard it.
    fn compiled(
        output: compile::Output,
        source: impl FnOnce(Vec<SectionSpan>) -> Source,
        options: &CompileOptions,
    ) -> Compiled {
        let compile::Output {
            index,
            warnings,
            sections,
            build_warnings,
            state,
            contracts,
            parsed,
        } = output;
        let source =
            (!options.discard_source).then(|| source(sections).with_contracts(contracts, parsed));
        Compiled {
            engine: Engine::new(index, warnings.clone(), build_warnings, state, source),
            warnings,
        }
    }
}

impl Engine {
    /// Applies a `tarif/1-changes` document: the engine of the document this engine was
    /// compiled from with the changes merged in (docs/spec.md §13). `self` is untouched and
    /// keeps answering; the change is checked whole before anything is built, and a rejected
    /// change reports every problem, with paths into the changes document for what it wrote.
    ///
    /// The result is the engine compiling the merged document gives, `engine_version`
    /// included.
    ///
    /// ```
    /// use tarif::{CompileOptions, Engine};
    /// let engine = Engine::from_json(r#"{"format": "tarif/1", "products": [{"sku": "A"}]}"#).unwrap();
    /// let changes = r#"{"format": "tarif/1-changes",
    ///   "upsert": {"products": [{"sku": "B", "name": "Bolt"}]},
    ///   "delete": {"products": ["A"]}}"#;
    /// let next = engine.apply(changes, &CompileOptions::default()).unwrap().engine;
    /// assert_eq!(next.skus().collect::<Vec<_>>(), ["B"]);
    /// assert_eq!(engine.skus().collect::<Vec<_>>(), ["A"]);
    ///
    /// let bad = r#"{"format": "tarif/1-changes", "delete": {"products": ["Z"]},
    ///   "upsert": {"products": [{"sku": "C", "cost": "x"}]}}"#;
    /// let err = engine.apply(bad, &CompileOptions::default()).unwrap_err();
    /// let found: Vec<_> = err.diagnostics.iter().map(|d| (d.code.code(), d.path.as_str())).collect();
    /// assert_eq!(found, [("UNKNOWN_ID", "delete.products[0]")]);
    /// ```
    pub fn apply(&self, changes: &str, options: &CompileOptions) -> Result<Compiled, CompileError> {
        let mut problems = Problems::default();
        let changes = Changes::parse(changes, &mut problems);
        if let Some(expected) = &changes.engine_version {
            if expected != self.engine_version() {
                problems.push(
                    DiagnosticCode::VersionMismatch,
                    "engine_version",
                    format!(
                        "the changes expect engine `{expected}`, this engine is `{}`",
                        self.engine_version()
                    ),
                    &[],
                );
            }
        }
        let Some(source) = self.source.as_ref() else {
            problems.push(
                DiagnosticCode::NoSource,
                "",
                "this engine was compiled with `discard_source`: there is no document to apply changes to".into(),
                &[],
            );
            return Err(CompileError {
                diagnostics: problems.0,
            });
        };
        let derivation = Derivation::new(self.engine_version(), &changes, self.derived.as_ref());
        let rules_only = changes.rules_only();
        let changes = match problems.0.is_empty() {
            true => {
                let applied = self
                    .apply_stock(changes, source, options)
                    .or_else(|changes| self.apply_prices(*changes, source, options));
                match applied {
                    Ok(applied) => {
                        return applied.map(|mut compiled| {
                            compiled.engine.derived = Some(Arc::new(derivation));
                            compiled
                        })
                    }
                    Err(changes) => *changes,
                }
            }
            false => changes,
        };
        // A change of rules alone merges the contracts it names, not the section.
        let rules = (problems.0.is_empty() && rules_only)
            .then(|| changes::merge_rules(source.section(CONTRACTS)?, &changes))
            .flatten();
        let (merged, contracts_hashed, touched) = match rules {
            Some(rules) => (
                Some(rules.merged),
                Some((rules.hash, rules.contracts)),
                Some(rules.touched),
            ),
            None if problems.0.is_empty() => {
                (changes::merge(source, changes, &mut problems), None, None)
            }
            None => (None, None, None),
        };
        let Some(mut merged) = merged else {
            return Err(CompileError {
                diagnostics: problems.0,
            });
        };
        let old_contracts = source.section(CONTRACTS);
        // Only the sections the change wrote are hashed again; the version of the merged
        // document follows from the hashes of all of them.
        let changed: Vec<&str> = merged.sections.keys().map(String::as_str).collect();
        let pricing_part = match changed.as_slice() {
            [only] if *only == "contracts" && rules_only => Some(compile::PricingPart::Rules),
            [only] if *only == "contracts" => Some(compile::PricingPart::Contracts),
            [only] if *only == "price_lists" => Some(compile::PricingPart::PriceLists),
            _ => None,
        };
        let hash_written = || {
            merged
                .sections
                .par_iter()
                .map(|(name, text)| match &contracts_hashed {
                    Some((hash, contracts)) if name == CONTRACTS => (
                        *hash,
                        compile::Records {
                            contracts: Some(Arc::clone(contracts)),
                            ..compile::Records::default()
                        },
                    ),
                    _ => compile::hashed(name, text).unwrap_or_default(),
                })
                .collect::<Vec<_>>()
        };
        // The contracts' rules and visibility, or the price lists and then the rules over
        // them, are compiled again over the rest.
        let (hashes, recompiled) = match pricing_part {
            Some(part) => {
                let text_of = |name: &str| match merged.sections.get(name) {
                    Some(text) => Some(text.as_str()),
                    None => source.section(name).map(Section::text),
                };
                // After a change of rules alone, the contracts are those the section it comes
                // from has parsed, with the ones the change wrote parsed again; or, when it has
                // none (an engine opened from a snapshot), all of them, each on its own.
                let parsed = match (&touched, &contracts_hashed, old_contracts) {
                    (Some(touched), Some((_, records)), Some(old)) => {
                        text_of(CONTRACTS).and_then(|text| match old.parsed() {
                            Some(old) => records
                                .texts(text, touched)
                                .and_then(|written| changes::reparsed(old, touched, &written)),
                            None => Contract::parse_pricing_at(text, &records.ranges),
                        })
                    }
                    _ => None,
                };
                let sections: Vec<(&str, &str)> = ["settings", "price_lists", "contracts"]
                    .into_iter()
                    .filter(|name| {
                        part == compile::PricingPart::PriceLists || *name != "price_lists"
                    })
                    .filter(|name| parsed.is_none() || *name != CONTRACTS)
                    .filter_map(|name| Some((name, text_of(name)?)))
                    .collect();
                let written = std::sync::OnceLock::new();
                let recompile = |hash: Box<dyn FnOnce() -> _ + Send + '_>| {
                    compile::recompile_pricing(
                        &self.index,
                        &self.build_state,
                        &self.build_warnings,
                        part,
                        &sections,
                        parsed.clone(),
                        hash,
                        options,
                    )
                };
                let recompiled = match part {
                    // The price lists' entries are read with their hashes: the section is
                    // hashed while the others are parsed.
                    compile::PricingPart::PriceLists => recompile(Box::new(|| {
                        let hashes = written.get_or_init(hash_written);
                        hashes.iter().find_map(|(_, r)| r.prices.clone())
                    })),
                    // Nothing built from the contracts reads their hash: it is computed while
                    // they are compiled.
                    compile::PricingPart::Rules | compile::PricingPart::Contracts => {
                        let hash = || written.get_or_init(hash_written);
                        rayon::join(|| recompile(Box::new(|| None)), hash).0
                    }
                };
                // The section the change comes from keeps the contracts parsed, for the next
                // change of rules made to it (scenarios are made from one base).
                if let (Some(Ok(output)), Some(touched), Some(old)) =
                    (&recompiled, &touched, old_contracts)
                {
                    if let (None, Some(new), Some(records)) =
                        (old.parsed(), &output.parsed, old.contracts())
                    {
                        let olds = records.texts(old.text(), touched);
                        old.set_parsed(
                            olds.and_then(|olds| changes::reparsed(new, touched, &olds)),
                        );
                    }
                }
                let hashes = written.into_inner().unwrap_or_else(hash_written);
                (hashes, Some(recompiled))
            }
            None => (hash_written(), None),
        };
        let stock_only = matches!(changed.as_slice(), [only] if *only == STOCK);
        let mut records = compile::Records::default();
        let written: Vec<Section> = std::mem::take(&mut merged.sections)
            .into_iter()
            .zip(hashes)
            .map(|((name, text), (hash, own))| {
                let contracts = own.contracts.clone();
                records = std::mem::take(&mut records).or(own);
                let section = Section::owned(&name, text, hash);
                section.set_contracts(contracts);
                section
            })
            .collect();
        let mut sections: Vec<Section> = source
            .sections()
            .iter()
            .filter(|s| !written.iter().any(|w| w.name == s.name))
            .cloned()
            .collect();
        sections.extend(written);
        sections.sort_by(|a, b| a.name.cmp(&b.name));
        let next = Source::of_sections(sections);
        let version = next.version();
        let output = match recompiled {
            Some(recompiled) => recompiled.map(|output| {
                output.map(|mut output| {
                    output.index.version = version.clone();
                    output
                })
            }),
            // The stock is read by nothing else the compiler builds: a change of the stock
            // alone rebuilds the stock index and shares the rest of this engine's.
            None if stock_only => next.section(STOCK).and_then(|stock| {
                compile::recompile_stock(
                    &self.index,
                    &self.build_state,
                    &self.build_warnings,
                    stock.text(),
                    records.stock.as_deref()?,
                    version.clone(),
                    options,
                )
            }),
            None => None,
        };
        let output = match output {
            Some(output) => output.map(|output| Engine::compiled(output, |_| next, options)),
            None => {
                // The contracts the compile's source will find as hashing found them.
                if records.contracts.is_none() {
                    records.contracts = next.section(CONTRACTS).and_then(Section::known_contracts);
                }
                let (text, spans) = next.into_joined();
                let known = compile::Known {
                    version,
                    sections: spans,
                    records,
                };
                compile::compile_known(&text, options, Some(known)).map(|output| {
                    Engine::compiled(output, |spans| Source::compiled(text, spans), options)
                })
            }
        };
        let locate = |mut list: Vec<Diagnostic>| {
            for d in &mut list {
                d.path = merged.locate(&d.path);
            }
            list
        };
        match output {
            // The engine keeps the diagnostics of its own document; the caller gets them
            // located in the change.
            Ok(mut compiled) => {
                compiled.engine.derived = Some(Arc::new(derivation));
                Ok(Compiled {
                    warnings: locate(compiled.warnings),
                    engine: compiled.engine,
                })
            }
            Err(e) => Err(CompileError {
                diagnostics: locate(e.diagnostics),
            }),
        }
    }
}

impl Engine {
    /// A change of stock records alone, applied to the stock index and to the stock section
    /// without reading the other records. The change comes back when it is anything else, or
    /// when a record or a deletion has any problem: the merged document is then compiled,
    /// which reports it.
    fn apply_stock(
        &self,
        changes: Changes,
        source: &Source,
        options: &CompileOptions,
    ) -> Result<Result<Compiled, CompileError>, Box<Changes>> {
        let stock = &self.index.stock;
        // A change of more than an eighth of the records costs what writing the section whole
        // costs, which the path of any other change does with less per record.
        let small = |n: usize| u64::try_from(n).is_ok_and(|n| n <= stock.records.len() / 8);
        let patched = changes.stock_only().and_then(|(upserts, deletes)| {
            if !small(upserts.len() + deletes.len()) {
                return None;
            }
            let removed = deletes
                .iter()
                .map(|d| {
                    let product = self.index.product_of_sku(&d.key)?;
                    stock.get(product).map(|_| product)
                })
                .collect::<Option<Vec<_>>>()?;
            let texts = upserts
                .iter()
                .map(|u| serde_json::to_string(&u.value).ok())
                .collect::<Option<Vec<_>>>()?;
            compile::patch_stock(&self.index, &texts, &removed)
        });
        let Some((next_stock, products)) = patched else {
            return Err(Box::new(changes));
        };
        let (upserts, deletes) = changes.into_stock();
        let written = Written {
            deletes: deletes.iter().map(|d| changes::stock_key(&d.key)).collect(),
            upserts: upserts
                .into_iter()
                .zip(&products)
                .map(|(u, &p)| (changes::stock_key(&u.key), stock.get(p).is_some(), vec![u]))
                .collect(),
        };
        let (folded, hash) = (next_stock.folded(), next_stock.records.hash());
        Ok(self.with_records(
            source,
            STOCK,
            written,
            (folded, hash),
            |index| index.stock = Arc::new(next_stock),
            options,
        ))
    }

    /// The engine of this one's document after a change of the records of section `name`
    /// alone (`written`; `folded`: the index folded its changed records, so the text is
    /// written at once; `hash`: the section's new hash), its index this one's with `replace`
    /// applied. The warnings are this engine's, judged at the day of the change, then the
    /// final checks run on the new index.
    fn with_records(
        &self,
        source: &Source,
        name: &'static str,
        written: Written,
        (folded, hash): (bool, [u8; 32]),
        replace: impl FnOnce(&mut Index),
        options: &CompileOptions,
    ) -> Result<Compiled, CompileError> {
        let section = PatchedText::after(name, source.section(name), written, folded, hash);
        let next = source.with_section(section);
        let mut index = self.index.share();
        index.version = next.version();
        replace(&mut index);
        let output = compile::with_part(
            index,
            &self.build_state,
            &self.build_warnings,
            Vec::new(),
            options,
        );
        output.map(|output| Engine::compiled(output, |_| next, options))
    }

    /// A change of price entries alone (upserted and deleted (list, SKU) groups), written over
    /// the price lists' entries and the `price_lists` section without reading the other
    /// entries. The change comes back when it is anything else, when it writes more than an
    /// eighth of the entries, or when an entry it writes has any problem: the merged document
    /// is then compiled, which reports it.
    fn apply_prices(
        &self,
        changes: Changes,
        source: &Source,
        options: &CompileOptions,
    ) -> Result<Result<Compiled, CompileError>, Box<Changes>> {
        let lists = &self.index.pricing.price_lists;
        let small = |n: usize| n <= lists.table.entries.len() / 8;
        let Some((upserts, deletes)) = changes
            .prices_only()
            .filter(|(u, d)| small(u.len() + d.len()))
        else {
            return Err(Box::new(changes));
        };
        let find = |list: &str, sku: &str| {
            Some((
                *lists.list_index.get(list)?,
                self.index.product_of_sku(sku)?,
            ))
        };
        let Some(deleted) = deletes
            .iter()
            .map(|d| find(d.parent.as_deref()?, &d.key))
            .collect::<Option<Vec<_>>>()
        else {
            return Err(Box::new(changes));
        };
        // A product's upserted entries in a list are one group, in the order they came.
        let mut groups: Vec<compile::PriceGroup> = Vec::new();
        let mut keys: Vec<(String, String)> = Vec::new();
        let mut at = ahash::AHashMap::new();
        let mut group_of = Vec::with_capacity(upserts.len());
        for u in upserts {
            let Some((list, product)) = find(&u.parent, &u.element.key) else {
                return Err(Box::new(changes));
            };
            let Ok(text) = serde_json::to_string(&u.element.value) else {
                return Err(Box::new(changes));
            };
            let i = *at.entry((list, product)).or_insert_with(|| {
                groups.push(compile::PriceGroup {
                    list,
                    product,
                    entries: Vec::new(),
                });
                keys.push((u.parent.clone(), u.element.key.clone()));
                groups.len() - 1
            });
            if let Some(group) = groups.get_mut(i) {
                group.entries.push(text);
            }
            group_of.push(i);
        }
        let Some(patched) =
            compile::patch_prices(&self.index, &self.build_warnings, &deleted, &groups)
        else {
            return Err(Box::new(changes));
        };
        let present: Vec<bool> = groups
            .iter()
            .map(|g| lists.entry_run(g.list, g.product).is_some())
            .collect();
        let (upserts, deletes) = changes.into_prices();
        let mut entries: Vec<Vec<changes::Upsert>> = vec![Vec::new(); groups.len()];
        for (u, i) in upserts.into_iter().zip(group_of) {
            if let Some(group) = entries.get_mut(i) {
                group.push(u.element);
            }
        }
        let written = Written {
            deletes: deletes
                .iter()
                .map(|d| changes::group_key(d.parent.as_deref().unwrap_or(""), &d.key))
                .collect(),
            upserts: keys
                .into_iter()
                .zip(present)
                .zip(entries)
                .map(|(((list, sku), present), entries)| {
                    (changes::group_key(&list, &sku), present, entries)
                })
                .collect(),
        };
        let pricing = Pricing {
            price_lists: Arc::new(patched.lists),
            ..Pricing::clone(&self.index.pricing)
        };
        Ok(self.with_records(
            source,
            PRICE_LISTS,
            written,
            (patched.folded, patched.hash),
            |index| index.pricing = Arc::new(pricing),
            options,
        ))
    }

    /// The entities that differ between this engine's document and `new`'s (see [`Diff`]).
    /// Both engines need their document text (`NO_SOURCE` otherwise).
    ///
    /// ```
    /// use tarif::{CompileOptions, Engine};
    /// let old = Engine::from_json(r#"{"format": "tarif/1", "accounts": [{"id": "A"}]}"#).unwrap();
    /// let new = Engine::from_json(r#"{"format": "tarif/1", "accounts": [{"id": "A", "name": "Acme"}]}"#).unwrap();
    /// assert_eq!(old.diff(&new).unwrap().changes[0].to_string(), "modified accounts[A]");
    /// assert!(old.diff(&old).unwrap().is_empty());
    /// ```
    pub fn diff(&self, new: &Engine) -> Result<Diff, CompileError> {
        match (self.source.as_ref(), new.source.as_ref()) {
            (Some(old_source), Some(new_source)) => {
                let prices = changes::price_changes(&self.index, &new.index);
                Ok(changes::diff(old_source, new_source, prices))
            }
            _ => {
                let mut problems = Problems::default();
                problems.push(
                    DiagnosticCode::NoSource,
                    "",
                    "an engine compiled with `discard_source` has no document to compare".into(),
                    &[],
                );
                Err(CompileError {
                    diagnostics: problems.0,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::quote::QuoteRequest;
    use crate::instant::Instant;
    use rust_decimal::Decimal;

    const DOC: &str = r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
        "settings": {"default_price_lists": ["pub"]},
        "products": [{"sku": "A"}, {"sku": "B"}, {"sku": "b"}, {"sku": "U"}],
        "price_lists": [{"id": "pub", "currency": "EUR", "prices": [{"sku": "A", "price": "10"}, {"sku": "B", "price": "20"}, {"sku": "b", "price": "21"}]}],
        "accounts": [{"id": "C"}],
        "contracts": [{"id": "old", "audience": "all", "valid": {"until": "2020-01-01"},
            "rules": [{"id": "r", "step": "discount", "products": "all", "percent": "10"}]}],
        "stock": [{"sku": "A", "available": "5"}]}"#;

    fn at(day: &str) -> CompileOptions {
        CompileOptions {
            as_of: Instant::parse_rfc3339(day),
            ..Default::default()
        }
    }

    fn stock_of(engine: &Engine, sku: &str) -> Option<(Decimal, Decimal)> {
        let quote = engine
            .quote(&QuoteRequest::new("C", sku, Decimal::ONE).at(Instant(0)))
            .ok()?;
        quote.stock.map(|s| (s.available, s.backorder))
    }

    /// The unit price `engine` quotes `account` for one `sku`, or the error's code.
    fn answer(engine: &Engine, account: &str, sku: &str) -> Result<String, &'static str> {
        engine
            .quote(&QuoteRequest::new(account, sku, Decimal::ONE).at(Instant(0)))
            .map(|q| q.unit_price.to_string())
            .map_err(|e| e.code())
    }

    fn codes(list: &[Diagnostic]) -> Vec<(&'static str, &str)> {
        list.iter()
            .map(|d| (d.code.code(), d.path.as_str()))
            .collect()
    }

    #[test]
    fn a_change_of_the_stock_alone_shares_the_rest_and_equals_a_compile() {
        let old = Engine::compile(DOC, &at("2019-06-01T00:00:00Z"))
            .unwrap()
            .engine;
        assert!(!codes(old.diagnostics())
            .iter()
            .any(|(c, _)| *c == "EXPIRED"));
        let changes = r#"{"format": "tarif/1-changes",
            "upsert": {"stock": [{"sku": "b", "available": "2"}, {"sku": "A", "available": "0"}]}}"#;
        // Applied on a later day: the contract's expiry is judged again without compiling it.
        let day = at("2021-06-01T00:00:00Z");
        let new = old.apply(changes, &day).unwrap().engine;
        assert!(Arc::ptr_eq(&old.index.catalog, &new.index.catalog));
        assert!(Arc::ptr_eq(&old.index.pricing, &new.index.pricing));
        assert!(!Arc::ptr_eq(&old.index.stock, &new.index.stock));

        let whole = Engine::compile(new.source().unwrap(), &day).unwrap().engine;
        assert_eq!(new.engine_version(), whole.engine_version());
        assert_eq!(codes(new.diagnostics()), codes(whole.diagnostics()));
        assert!(codes(new.diagnostics()).contains(&("EXPIRED", "contracts[0].valid")));
        for sku in ["A", "B", "b", "U"] {
            assert_eq!(stock_of(&new, sku), stock_of(&whole, sku), "{sku}");
        }
        // `b` is its own product, though its SKU folds to `B`'s.
        let records = |e: &Engine| {
            let mut all: Vec<String> = e
                .index
                .stock
                .iter()
                .map(|(p, def)| format!("{} {def:?}", e.index.sku(p)))
                .collect();
            all.sort();
            all
        };
        assert_eq!(records(&new), records(&whole));
        assert_eq!(records(&new).len(), 2);
        assert!(records(&new)[1].starts_with("b StockDef { available: 2,"));

        // And once more from the engine the first change made.
        let again = r#"{"format": "tarif/1-changes", "delete": {"stock": ["A"]}}"#;
        let third = new.apply(again, &day).unwrap().engine;
        assert!(Arc::ptr_eq(&old.index.catalog, &third.index.catalog));
        let whole = Engine::compile(third.source().unwrap(), &day)
            .unwrap()
            .engine;
        assert_eq!(third.engine_version(), whole.engine_version());
        assert_eq!(stock_of(&third, "A"), None);
    }

    /// The document of `source` with `change` merged in, written section by section the way
    /// a change that is not stock-only writes it.
    fn merged_text(source: &Source, change: &str) -> String {
        let mut problems = Problems::default();
        let changes = Changes::parse(change, &mut problems);
        let merged = changes::merge(source, changes, &mut problems).unwrap();
        assert!(problems.0.is_empty());
        let mut sections: Vec<Section> = source
            .sections()
            .iter()
            .filter(|s| !merged.sections.contains_key(&*s.name))
            .cloned()
            .collect();
        for (name, text) in merged.sections {
            sections.push(Section::owned(&name, text, [0; 32]));
        }
        sections.sort_by(|a, b| a.name.cmp(&b.name));
        Source::of_sections(sections).text().to_string()
    }

    #[test]
    fn stock_changes_write_the_text_merging_gives_and_equal_a_compile_step_by_step() {
        let skus: Vec<String> = (0..80).map(|i| format!("P{i}")).collect();
        let products: Vec<String> = skus
            .iter()
            .map(|s| format!(r#"{{"sku": "{s}"}}"#))
            .collect();
        let stock: Vec<String> = skus
            .iter()
            .take(64)
            .map(|s| format!(r#"{{"sku": "{s}", "available": "1"}}"#))
            .collect();
        let doc = format!(
            r#"{{"format": "tarif/1", "accounts": [{{"id": "C"}}], "products": [{}], "stock": [{}]}}"#,
            products.join(","),
            stock.join(",")
        );
        let day = at("2021-06-01T00:00:00Z");
        let mut engine = Engine::compile(&doc, &day).unwrap().engine;
        let mut whole = Engine::compile(&doc, &day).unwrap().engine;
        let mut present: Vec<bool> = (0..80).map(|i| i < 64).collect();
        let mut seed = 7u64;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            usize::try_from(seed >> 33).unwrap() % n
        };
        let (mut unwritten, mut written) = (0, 0);
        for step in 0..120 {
            let mut upserts = Vec::new();
            let mut deletes = Vec::new();
            let mut touched = std::collections::HashSet::new();
            for _ in 0..1 + next(3) {
                let i = next(80);
                if !touched.insert(i) {
                    continue;
                }
                if present[i] && next(3) == 0 {
                    deletes.push(format!(r#""P{i}""#));
                    present[i] = false;
                } else {
                    let warehouses = if next(2) == 0 {
                        format!(r#""available": {}"#, next(9))
                    } else {
                        format!(
                            r#""warehouses": [{{"id": "W", "available": "{}.5"}}]"#,
                            next(9)
                        )
                    };
                    upserts.push(format!(
                        r#"{{"sku": "P{i}", {warehouses}, "lead_time_days": {}}}"#,
                        step % 5
                    ));
                    present[i] = true;
                }
            }
            let change = format!(
                r#"{{"format": "tarif/1-changes", "upsert": {{"stock": [{}]}}, "delete": {{"stock": [{}]}}}}"#,
                upserts.join(","),
                deletes.join(",")
            );
            let applied = engine.apply(&change, &day).unwrap().engine;
            match applied
                .source
                .as_ref()
                .unwrap()
                .section(STOCK)
                .unwrap()
                .parts()
            {
                Err(_) => unwritten += 1,
                Ok(_) => written += 1,
            }
            assert!(Arc::ptr_eq(&engine.index.catalog, &applied.index.catalog));
            let text = merged_text(whole.source.as_ref().unwrap(), &change);
            assert_eq!(applied.source().unwrap(), text, "step {step}");
            whole = Engine::compile(&text, &day).unwrap().engine;
            assert_eq!(
                applied.engine_version(),
                whole.engine_version(),
                "step {step}"
            );
            for sku in &skus {
                assert_eq!(
                    stock_of(&applied, sku),
                    stock_of(&whole, sku),
                    "{sku} at step {step}"
                );
            }
            let in_stock = |e: &Engine| e.index.stock.in_stock.clone();
            assert_eq!(in_stock(&applied), in_stock(&whole), "step {step}");
            // Halfway, from a reopened snapshot of it: the records' hashes come back with it.
            engine = match step {
                60 => Engine::from_snapshot_bytes(&applied.to_snapshot_bytes().unwrap()).unwrap(),
                _ => applied,
            };
        }
        // Both schedules ran: the changed records carried, and written out.
        assert!(unwritten > 60 && written > 5, "{unwritten} {written}");
    }

    #[test]
    fn price_changes_write_the_text_merging_gives_and_equal_a_compile_step_by_step() {
        let skus: Vec<String> = (0..60).map(|i| format!("P{i}")).collect();
        let products: Vec<String> = skus
            .iter()
            .map(|s| format!(r#"{{"sku": "{s}"}}"#))
            .collect();
        let dated = |sku: &str, price: usize| {
            format!(
                r#"{{"sku": "{sku}", "price": "{price}.50", "valid": {{"until": "2021-01-01"}}}}, {{"sku": "{sku}", "price": "{}", "valid": {{"from": "2021-01-01"}}}}"#,
                price + 1
            )
        };
        let public: Vec<String> = skus.iter().take(48).map(|s| dated(s, 10)).collect();
        let net: Vec<String> = skus
            .iter()
            .skip(20)
            .map(|s| {
                format!(
                    r#"{{"sku": "{s}", "price": "7", "tiers": [{{"min_qty": 5, "price": "6"}}]}}"#
                )
            })
            .collect();
        let doc = format!(
            r#"{{"format": "tarif/1", "currencies": [{{"code": "EUR"}}],
                "settings": {{"default_price_lists": ["pub"]}},
                "accounts": [{{"id": "C"}}, {{"id": "D", "price_lists": ["net"]}}],
                "products": [{}],
                "price_lists": [{{"id": "pub", "currency": "EUR", "prices": [{}]}},
                    {{"id": "net", "currency": "EUR", "net": true, "prices": [{}]}}]}}"#,
            products.join(","),
            public.join(","),
            net.join(",")
        );
        let day = at("2021-06-01T00:00:00Z");
        let mut engine = Engine::compile(&doc, &day).unwrap().engine;
        let mut whole = Engine::compile(&doc, &day).unwrap().engine;
        let lists = ["pub", "net"];
        let mut present: Vec<[bool; 2]> = (0..60).map(|i| [i < 48, i >= 20]).collect();
        let mut seed = 11u64;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            usize::try_from(seed >> 33).unwrap() % n
        };
        let (mut patched, mut folded, mut compiled, mut by_hashes) = (0, 0, 0, 0);
        let mut warned: Option<(usize, usize)> = None;
        for step in 0..120 {
            let mut upserts = Vec::new();
            let mut deletes = Vec::new();
            let mut touched = std::collections::HashSet::new();
            // A warning names its entry by position, which a change moves: the change after
            // one compiles the lists again, then this one replaces the group.
            if let Some((i, l)) = warned.take() {
                touched.insert((i, l));
                upserts.push(format!(
                    r#"{{"list": "{}", "sku": "{}", "price": "3"}}"#,
                    lists[l], skus[i]
                ));
            }
            for _ in 0..1 + next(3) {
                let (i, l) = (next(60), next(2));
                if !touched.insert((i, l)) {
                    continue;
                }
                let (list, sku) = (lists[l], &skus[i]);
                if present[i][l] && next(3) == 0 {
                    deletes.push(format!(r#"{{"list": "{list}", "sku": "{sku}"}}"#));
                    present[i][l] = false;
                    continue;
                }
                let price = next(40);
                match next(6) {
                    0 => upserts.push(format!(
                        r#"{{"list": "{list}", "sku": "{sku}", "price": "{price}.25", "valid": {{"from": "2021-03-01"}}}},
                           {{"list": "{list}", "sku": "{sku}", "price": "{price}", "valid": {{"until": "2021-03-01"}}}}"#
                    )),
                    // Two prices valid at once: a warning, which the entries' positions carry.
                    1 if step % 4 == 0 => {
                        upserts.push(format!(
                            r#"{{"list": "{list}", "sku": "{sku}", "price": "{price}"}}, {{"list": "{list}", "sku": "{sku}", "price": "1"}}"#
                        ));
                        warned = Some((i, l));
                    }
                    2 => upserts.push(format!(
                        r#"{{"list": "{list}", "sku": "{sku}", "price": "{price}", "tiers": [{{"min_qty": {}, "price": "0.5"}}]}}"#,
                        1 + next(9)
                    )),
                    _ => upserts.push(format!(
                        r#"{{"list": "{list}", "sku": "{sku}", "price": "{price}.{}"}}"#,
                        next(99)
                    )),
                }
                present[i][l] = true;
            }
            let change = format!(
                r#"{{"format": "tarif/1-changes", "upsert": {{"prices": [{}]}}, "delete": {{"prices": [{}]}}}}"#,
                upserts.join(","),
                deletes.join(",")
            );
            let applied = engine.apply(&change, &day).unwrap().engine;
            let section = applied
                .source
                .as_ref()
                .unwrap()
                .section(PRICE_LISTS)
                .unwrap();
            // Only the entries were written: the visibility built from the contracts is shared.
            let fast = Arc::ptr_eq(&engine.index.visibility, &applied.index.visibility);
            match (fast, section.parts().is_err()) {
                (true, true) => patched += 1,
                (true, false) => folded += 1,
                (false, _) => compiled += 1,
            }
            let text = merged_text(whole.source.as_ref().unwrap(), &change);
            assert_eq!(applied.source().unwrap(), text, "step {step}");
            whole = Engine::compile(&text, &day).unwrap().engine;
            assert_eq!(
                applied.engine_version(),
                whole.engine_version(),
                "step {step}"
            );
            assert_eq!(
                codes(applied.diagnostics()),
                codes(whole.diagnostics()),
                "step {step}"
            );
            for sku in &skus {
                for account in ["C", "D"] {
                    for qty in [Decimal::ONE, Decimal::TEN] {
                        let quote = |e: &Engine| {
                            e.quote(
                                &QuoteRequest::new(account, sku, qty)
                                    .at(Instant(1_620_000_000_000_000)),
                            )
                            .map(|q| (q.unit_price.to_string(), q.line_total.to_string()))
                            .map_err(|e| e.code())
                        };
                        assert_eq!(
                            quote(&applied),
                            quote(&whole),
                            "{account} {sku} {qty} at step {step}"
                        );
                    }
                }
            }
            let entries =
                |e: &Engine| format!("{:?}", e.index.pricing.all_entries().collect::<Vec<_>>());
            assert_eq!(entries(&applied), entries(&whole), "step {step}");
            // The diff found from the engines' hashes is the one their texts give.
            let (old_text, new_text) = (engine.source.as_ref(), applied.source.as_ref());
            let texts = changes::diff(old_text.unwrap(), new_text.unwrap(), None);
            assert_eq!(engine.diff(&applied).unwrap(), texts, "step {step}");
            let hashed = changes::price_changes(&engine.index, &applied.index).is_some();
            by_hashes += usize::from(hashed);
            // Halfway, from a reopened snapshot of it: the entries' hashes come back with it.
            engine = match step {
                60 => Engine::from_snapshot_bytes(&applied.to_snapshot_bytes().unwrap()).unwrap(),
                _ => applied,
            };
        }
        // Every path ran: the changed groups carried, folded, and (after a warning) compiled.
        assert!(
            patched > 40 && folded > 3 && compiled > 3,
            "{patched} {folded} {compiled}"
        );
        assert!(by_hashes > 100, "{by_hashes}");
    }

    #[test]
    fn the_diff_of_price_lists_from_the_engines_hashes_is_the_texts() {
        let doc = r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
            "settings": {"default_price_lists": ["pub"]},
            "products": [{"sku": "A"}, {"sku": "B"}, {"sku": "E"}],
            "price_lists": [
                {"id": "pub", "currency": "EUR", "prices": [{"sku": "A", "price": "10"}, {"sku": "B", "price": "20"}]},
                {"id": "net", "net": true, "prices": [{"sku": "A", "price": "8"}, {"sku": "A", "price": "7", "min_qty": 10}]},
                {"id": "gone", "prices": [{"sku": "E", "price": "1"}]}],
            "accounts": [{"id": "C", "price_lists": ["net"]}]}"#;
        let day = at("2021-06-01T00:00:00Z");
        let old = Engine::compile(doc, &day).unwrap().engine;
        let changes = r#"{"format": "tarif/1-changes",
            "upsert": {"price_lists": [{"id": "pub", "currency": "EUR", "priority": 2}, {"id": "new", "prices": [{"sku": "B", "price": "3"}]}],
                       "prices": [{"list": "net", "sku": "A", "price": "8"}, {"list": "pub", "sku": "E", "price": "5"}, {"list": "pub", "sku": "B", "price": "21"}]},
            "delete": {"price_lists": ["gone"], "prices": [{"list": "pub", "sku": "A"}]}}"#;
        let new = old.apply(changes, &day).unwrap().engine;
        assert!(changes::price_changes(&old.index, &new.index).is_some());
        let diff = old.diff(&new).unwrap();
        let texts = changes::diff(
            old.source.as_ref().unwrap(),
            new.source.as_ref().unwrap(),
            None,
        );
        assert_eq!(diff, texts);
        let lines: Vec<String> = diff.changes.iter().map(|c| c.to_string()).collect();
        assert_eq!(
            lines,
            [
                "removed price_lists[gone]",
                "added price_lists[new]",
                "modified price_lists[pub]",
                "modified prices[net/A]",
                "removed prices[pub/A]",
                "modified prices[pub/B]",
                "added prices[pub/E]"
            ]
        );
        // Engines over other products compare their texts.
        let other = Engine::compile(new.source().unwrap(), &day).unwrap().engine;
        assert!(changes::price_changes(&old.index, &other.index).is_none());
        assert_eq!(old.diff(&other).unwrap(), texts);
    }

    #[test]
    fn a_rejected_stock_change_reports_every_problem_in_the_change() {
        let old = Engine::compile(DOC, &at("2019-06-01T00:00:00Z"))
            .unwrap()
            .engine;
        let changes = r#"{"format": "tarif/1-changes",
            "upsert": {"stock": [{"sku": "Z", "available": "2"}, {"sku": "B", "available": "-1"}]}}"#;
        let err = old.apply(changes, &at("2019-06-01T00:00:00Z")).unwrap_err();
        assert_eq!(
            codes(&err.diagnostics),
            [
                ("UNKNOWN_REFERENCE", "upsert.stock[0].sku"),
                ("INVALID_QUANTITY", "upsert.stock[1].available"),
            ]
        );
        let strict = CompileOptions {
            strict: true,
            ..at("2021-06-01T00:00:00Z")
        };
        let fine = r#"{"format": "tarif/1-changes", "upsert": {"stock": [{"sku": "B", "available": "1"}]}}"#;
        assert_eq!(
            old.apply(fine, &strict).unwrap_err().code(),
            "STRICT_WARNINGS"
        );
    }

    #[test]
    fn a_change_of_the_contracts_alone_shares_the_products_and_lists_and_equals_a_compile() {
        let doc = r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
            "settings": {"default_price_lists": ["pub"]},
            "products": [{"sku": "A", "brand": "acme"}, {"sku": "B"}],
            "price_lists": [{"id": "pub", "currency": "EUR", "prices": [{"sku": "A", "price": "10"}, {"sku": "B", "price": "20"}]}],
            "segments": [{"id": "s"}, {"id": "t"}],
            "accounts": [{"id": "C", "segments": ["s"]}, {"id": "D", "segments": ["t"]}],
            "contracts": [
                {"id": "seg", "audience": {"segments": ["s"]}, "visibility": [{"effect": "deny", "products": {"sku": "B"}}],
                 "rules": [{"id": "r", "step": "discount", "products": {"brand": "acme"}, "percent": "10", "rounding": {"mode": "down"}}]},
                {"id": "old", "audience": "all", "valid": {"until": "2020-01-01"}}]}"#;
        let old = Engine::compile(doc, &at("2019-06-01T00:00:00Z"))
            .unwrap()
            .engine;
        // `seg` loses its visibility rule (C's shared visibility becomes empty) and `t` gets
        // one, so a chain left from the old engine would point at `t`'s rule.
        let changes = r#"{"format": "tarif/1-changes", "upsert": {"contracts": [
            {"id": "seg", "audience": {"segments": ["s"]}, "visibility": []},
            {"id": "tv", "audience": {"segments": ["t"]}, "visibility": [{"effect": "deny", "products": {"sku": "A"}}],
             "rules": [{"id": "q", "step": "discount", "products": "all", "percent": "5", "rounding": {"mode": "up"}}]}]}}"#;
        let day = at("2021-06-01T00:00:00Z");
        let new = old.apply(changes, &day).unwrap().engine;
        assert!(Arc::ptr_eq(
            &old.index.catalog.products,
            &new.index.catalog.products
        ));
        assert!(Arc::ptr_eq(
            &old.index.pricing.price_lists,
            &new.index.pricing.price_lists
        ));
        assert!(Arc::ptr_eq(&old.index.refs, &new.index.refs));
        assert!(!Arc::ptr_eq(&old.index.visibility, &new.index.visibility));
        // Segment `s` (audience 1) kept its one rule: its rules resolved per product are
        // shared; `t` (audience 2) has a new one.
        let dense = |e: &Engine, aud: u32| {
            e.index
                .pricing
                .audience_rules
                .get(&aud)
                .and_then(|r| r.dense.clone())
        };
        assert!(Arc::ptr_eq(
            &dense(&old, 1).unwrap(),
            &dense(&new, 1).unwrap()
        ));
        assert!(dense(&old, 2).is_none() && dense(&new, 2).is_some());

        let whole = Engine::compile(new.source().unwrap(), &day).unwrap().engine;
        assert_eq!(new.engine_version(), whole.engine_version());
        assert_eq!(codes(new.diagnostics()), codes(whole.diagnostics()));
        assert!(codes(new.diagnostics()).contains(&("EXPIRED", "contracts[1].valid")));
        for account in ["C", "D"] {
            for sku in ["A", "B"] {
                assert_eq!(
                    answer(&new, account, sku),
                    answer(&whole, account, sku),
                    "{account} {sku}"
                );
            }
        }
        assert!(answer(&new, "C", "A").is_ok());
        assert!(answer(&new, "D", "A").is_err());

        // An engine opened from a snapshot compiles a change of contracts the same way.
        let reopened = Engine::from_snapshot_bytes(&old.to_snapshot_bytes().unwrap()).unwrap();
        let from_opened = reopened.apply(changes, &day).unwrap().engine;
        assert!(Arc::ptr_eq(
            &reopened.index.catalog.products,
            &from_opened.index.catalog.products
        ));
        assert_eq!(from_opened.engine_version(), whole.engine_version());
        assert_eq!(codes(from_opened.diagnostics()), codes(whole.diagnostics()));

        let bad = r#"{"format": "tarif/1-changes", "upsert": {"rules": [
            {"contract": "seg", "id": "x", "step": "discount", "products": {"sku": "Z"}, "percent": "1"}]}}"#;
        let err = old.apply(bad, &day).unwrap_err();
        assert!(codes(&err.diagnostics)
            .contains(&("UNKNOWN_REFERENCE", "upsert.rules[0].products.sku")));
    }

    #[test]
    fn a_change_of_pricing_rules_alone_shares_the_visibility_and_equals_a_compile() {
        let doc = r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
            "settings": {"default_price_lists": ["pub"]},
            "products": [{"sku": "A", "brand": "acme"}, {"sku": "B"}, {"sku": "E", "brand": "acme"}],
            "price_lists": [{"id": "pub", "currency": "EUR", "prices": [{"sku": "A", "price": "10"}, {"sku": "B", "price": "20"}, {"sku": "E", "price": "30"}]}],
            "segments": [{"id": "s"}, {"id": "t"}],
            "accounts": [{"id": "C", "segments": ["s"]}, {"id": "D", "segments": ["t"]}],
            "contracts": [
                {"id": "seg", "audience": {"segments": ["s"]},
                 "visibility": [{"effect": "deny", "products": {"sku": "B"}}, {"effect": "deny", "products": {"brand": "acme"}, "capabilities": ["buy"]}],
                 "rules": [{"id": "r", "step": "discount", "products": {"brand": "acme"}, "percent": "10"}]},
                {"id": "old", "audience": "all", "valid": {"until": "2020-01-01"},
                 "rules": [{"id": "o", "step": "discount", "products": "all", "percent": "1"}]},
                {"id": "own", "audience": {"accounts": ["D"]}, "valid": {"until": "2020-06-01"},
                 "visibility": [{"effect": "deny", "products": {"sku": "E"}}],
                 "rules": [{"id": "d", "step": "discount", "products": {"sku": "A"}, "percent": "3"}]}]}"#;
        let old = Engine::compile(doc, &at("2019-06-01T00:00:00Z"))
            .unwrap()
            .engine;
        // The pricing rules lose the brand selector and gain two others: every visibility
        // selector takes another id than it had.
        let changes = r#"{"format": "tarif/1-changes",
            "upsert": {"rules": [
                {"contract": "seg", "id": "n", "step": "discount", "products": {"sku": "E"}, "percent": "20"},
                {"contract": "old", "id": "m", "step": "discount", "products": {"sku": "B"}, "percent": "2"}]},
            "delete": {"rules": [{"contract": "seg", "id": "r"}]}}"#;
        let day = at("2021-06-01T00:00:00Z");
        let new = old.apply(changes, &day).unwrap().engine;
        assert!(Arc::ptr_eq(&old.index.audiences, &new.index.audiences));
        assert_eq!(
            old.index.visibility.level_fingerprints,
            new.index.visibility.level_fingerprints
        );
        assert_ne!(
            old.index.catalog.selector_hashes,
            new.index.catalog.selector_hashes
        );

        let whole = Engine::compile(new.source().unwrap(), &day).unwrap().engine;
        assert_eq!(new.engine_version(), whole.engine_version());
        assert_eq!(
            new.index.catalog.selector_hashes,
            whole.index.catalog.selector_hashes
        );
        let selectors = |e: &Engine| -> Vec<_> {
            let v = &e.index.visibility;
            v.rules.iter().map(|r| (r.id.clone(), r.selector)).collect()
        };
        assert_eq!(selectors(&new), selectors(&whole));
        assert_eq!(codes(new.diagnostics()), codes(whole.diagnostics()));
        assert_eq!(
            codes(new.diagnostics())
                .into_iter()
                .filter(|c| c.0 == "EXPIRED")
                .collect::<Vec<_>>(),
            [
                ("EXPIRED", "contracts[1].valid"),
                ("EXPIRED", "contracts[2].valid")
            ]
        );
        for account in ["C", "D"] {
            for sku in ["A", "B", "E"] {
                assert_eq!(
                    answer(&new, account, sku),
                    answer(&whole, account, sku),
                    "{account} {sku}"
                );
                let explain = |e: &Engine| {
                    e.explain(&QuoteRequest::new(account, sku, Decimal::ONE).at(Instant(0)))
                        .map(|x| format!("{x:?}"))
                        .map_err(|e| e.code())
                };
                assert_eq!(explain(&new), explain(&whole), "{account} {sku}");
            }
        }
        assert!(answer(&new, "C", "B").is_err());

        // Opened from a snapshot, the same change gives the same engine.
        let reopened = Engine::from_snapshot_bytes(&old.to_snapshot_bytes().unwrap()).unwrap();
        let from_opened = reopened.apply(changes, &day).unwrap().engine;
        assert_eq!(from_opened.engine_version(), whole.engine_version());
        assert_eq!(codes(from_opened.diagnostics()), codes(whole.diagnostics()));
        assert_eq!(selectors(&from_opened), selectors(&whole));
    }

    #[test]
    fn rule_changes_one_after_another_find_each_contract_where_the_last_one_wrote_it() {
        let doc = r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
            "settings": {"default_price_lists": ["pub"]},
            "products": [{"sku": "A"}, {"sku": "B"}],
            "price_lists": [{"id": "pub", "currency": "EUR", "prices": [{"sku": "A", "price": "10"}, {"sku": "B", "price": "20"}]}],
            "accounts": [{"id": "C"}],
            "contracts": [
                {"id": "k1", "audience": "all", "rules": [{"id": "a", "step": "discount", "products": {"sku": "A"}, "percent": "1"}]},
                {"id": "k2", "audience": {"accounts": ["C"]}},
                {"id": "k3", "audience": "all",   "rules": [{"id": "b", "step": "discount", "products": {"sku": "B"}, "percent": "2"}]}]}"#;
        let day = at("2021-06-01T00:00:00Z");
        let mut engine = Engine::compile(doc, &day).unwrap().engine;
        // Opened from a snapshot, the base finds where its contracts are and parses them the
        // first time a change of rules is made to it.
        let base = Engine::from_snapshot_bytes(&engine.to_snapshot_bytes().unwrap()).unwrap();
        let steps = [
            // k1 grows, then k3 after it is found where k1's growth moved it.
            r#"{"upsert": {"rules": [{"contract": "k1", "id": "long", "step": "discount", "products": {"sku": "B"}, "percent": "3", "min_qty": 1, "priority": 100}]}}"#,
            r#"{"upsert": {"rules": [{"contract": "k3", "id": "b", "step": "discount", "products": {"sku": "B"}, "percent": "4"}]}}"#,
            r#"{"delete": {"rules": [{"contract": "k1", "id": "long"}, {"contract": "k1", "id": "a"}]}}"#,
            r#"{"upsert": {"rules": [{"contract": "k2", "id": "c", "step": "discount", "products": "all", "percent": "5"}]}, "delete": {"rules": [{"contract": "k3", "id": "b"}]}}"#,
            r#"{"upsert": {"rules": [{"contract": "k3", "id": "d", "step": "discount", "products": {"sku": "A"}, "percent": "6"}]}}"#,
            // The last selector goes.
            r#"{"delete": {"rules": [{"contract": "k3", "id": "d"}]}}"#,
        ];
        // What the diff of each step names: the contracts the step did not write are not
        // read (their hashes are equal).
        let diffs: [&[&str]; 6] = [
            &["added rules[k1/long]"],
            &["modified rules[k3/b]"],
            &["removed rules[k1/a]", "removed rules[k1/long]"],
            &["added rules[k2/c]", "removed rules[k3/b]"],
            &["added rules[k3/d]"],
            &["removed rules[k3/d]"],
        ];
        for (i, step) in steps.iter().enumerate() {
            let change = step.replacen('{', r#"{"format": "tarif/1-changes", "#, 1);
            let next = engine.apply(&change, &day).unwrap().engine;
            let mut diff: Vec<String> = (engine.diff(&next).unwrap().changes.iter())
                .map(|c| c.to_string())
                .collect();
            diff.sort();
            assert_eq!(diff, diffs[i], "step {i}");
            // A change that keeps every selector (the first two) shares the catalog.
            assert_eq!(
                Arc::ptr_eq(&engine.index.catalog, &next.index.catalog),
                i < 2,
                "step {i}"
            );
            engine = next;
            let whole = Engine::compile(engine.source().unwrap(), &day)
                .unwrap()
                .engine;
            assert_eq!(engine.engine_version(), whole.engine_version(), "step {i}");
            assert_eq!(
                engine.index.catalog.selector_hashes, whole.index.catalog.selector_hashes,
                "step {i}"
            );
            let section = engine.source.as_ref().unwrap().section(CONTRACTS).unwrap();
            let carried = section.known_contracts().unwrap();
            assert_eq!(
                Some(&*carried),
                compile::contract_records(section.text()).as_ref(),
                "step {i}"
            );
            for sku in ["A", "B"] {
                assert_eq!(
                    answer(&engine, "C", sku),
                    answer(&whole, "C", sku),
                    "step {i} {sku}"
                );
            }
        }
        assert_eq!(answer(&engine, "C", "A").unwrap(), "10.50");
        // Changes made to one base (scenarios) each start from its contracts, whichever came
        // first.
        // (The third deletes a rule the first adds.)
        for step in [steps[0], steps[4], steps[3], steps[1]] {
            let change = step.replacen('{', r#"{"format": "tarif/1-changes", "#, 1);
            let next = base.apply(&change, &day).unwrap().engine;
            let whole = Engine::compile(next.source().unwrap(), &day)
                .unwrap()
                .engine;
            for sku in ["A", "B"] {
                assert_eq!(
                    answer(&next, "C", sku),
                    answer(&whole, "C", sku),
                    "{step} {sku}"
                );
            }
        }
        // A rule the contract does not have is reported where the change names it.
        let bad = r#"{"format": "tarif/1-changes", "delete": {"rules": [{"contract": "k2", "id": "zz"}]}}"#;
        let err = engine.apply(bad, &day).unwrap_err();
        assert_eq!(codes(&err.diagnostics), [("UNKNOWN_ID", "delete.rules[0]")]);
        // What the compile finds in a contract merged on its own is located in the change.
        let bad = r#"{"format": "tarif/1-changes", "upsert": {"rules": [
            {"contract": "k3", "id": "x", "step": "discount", "products": {"sku": "Z"}, "percent": "1"}]}}"#;
        let err = engine.apply(bad, &day).unwrap_err();
        assert_eq!(
            codes(&err.diagnostics),
            [("UNKNOWN_REFERENCE", "upsert.rules[0].products.sku")]
        );
    }

    #[test]
    fn the_diff_of_contracts_reads_those_whose_hash_differs_and_finds_them_by_id() {
        let doc = |contracts: &str| {
            format!(
                r#"{{"format": "tarif/1", "segments": [{{"id": "s"}}], "accounts": [{{"id": "C"}}],
                "contracts": [{contracts}]}}"#
            )
        };
        let k1 = r#"{"id": "k1", "audience": "all", "rules": [{"id": "a", "step": "discount", "products": "all", "percent": "1"}]}"#;
        let k2 = r#"{"id": "k2", "audience": {"accounts": ["C"]}}"#;
        let k2_segment = r#"{"id": "k2", "audience": {"segments": ["s"]}}"#;
        let k3 = r#"{"id": "k3", "audience": "all", "visibility": [{"effect": "deny", "products": "all"}]}"#;
        let k4 = r#"{"id": "k4", "audience": "all"}"#;
        let k1_spaced = r#"{ "rules": [ {"percent": "1", "id": "a", "step": "discount", "products": "all"} ], "audience": "all", "id": "k1" }"#;
        let old = Engine::from_json(&doc(&[k1, k2, k3].join(","))).unwrap();
        // k1 moved and written otherwise (same JSON), k2's header changed, k3 gone, k4 new.
        let new = Engine::from_json(&doc(&[k4, k2_segment, k1_spaced].join(","))).unwrap();
        let diff: Vec<String> = (old.diff(&new).unwrap().changes.iter())
            .map(|c| c.to_string())
            .collect();
        assert_eq!(
            diff,
            [
                "modified contracts[k2]",
                "removed contracts[k3]",
                "added contracts[k4]"
            ]
        );
        assert!(new.diff(&new).unwrap().is_empty());
    }

    #[test]
    fn a_visibility_rule_whose_effect_flips_gets_its_level_built_again() {
        let doc = r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
            "settings": {"default_price_lists": ["pub"]},
            "products": [{"sku": "A"}, {"sku": "B"}],
            "price_lists": [{"id": "pub", "currency": "EUR", "prices": [{"sku": "A", "price": "10"}, {"sku": "B", "price": "20"}]}],
            "segments": [{"id": "s"}], "accounts": [{"id": "C", "segments": ["s"]}, {"id": "D"}],
            "contracts": [
                {"id": "seg", "audience": {"segments": ["s"]}, "visibility": [{"effect": "deny", "products": {"sku": "B"}}]},
                {"id": "all", "audience": "all", "visibility": [{"effect": "deny", "products": {"sku": "A"}, "capabilities": ["buy"]}]}]}"#;
        let day = at("2021-06-01T00:00:00Z");
        let old = Engine::compile(doc, &day).unwrap().engine;
        let flipped = r#"{"format": "tarif/1-changes", "upsert": {"contracts": [
            {"id": "seg", "audience": {"segments": ["s"]}, "visibility": [{"effect": "allow", "products": {"sku": "B"}}]}]}}"#;
        let new = old.apply(flipped, &day).unwrap().engine;
        let whole = Engine::compile(new.source().unwrap(), &day).unwrap().engine;
        for account in ["C", "D"] {
            for sku in ["A", "B"] {
                assert_eq!(answer(&new, account, sku), answer(&whole, account, sku));
            }
        }
        assert!(answer(&old, "C", "B").is_err());
        assert!(answer(&new, "C", "B").is_ok());
        // Everyone's level (`D`'s whole chain) is the one built before.
        let everyone = |e: &Engine| {
            let v = &e.index.visibility;
            v.everyone
                .and_then(|l| v.level_fingerprints.get(l as usize).copied())
        };
        assert_eq!(everyone(&old), everyone(&new));
        assert!(everyone(&new).is_some());
        let shared = old
            .index
            .visibility
            .tails
            .iter()
            .any(|t| new.index.visibility.tails.iter().any(|n| Arc::ptr_eq(t, n)));
        assert!(shared, "D's tail (everyone's level alone) is shared");
    }

    #[test]
    fn a_list_gaining_a_rounding_policy_moves_where_the_contracts_policies_start() {
        let doc = r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
            "settings": {"default_price_lists": ["pub"]},
            "products": [{"sku": "A"}],
            "price_lists": [{"id": "pub", "currency": "EUR", "prices": [{"sku": "A", "price": "10.05"}]}],
            "accounts": [{"id": "C"}],
            "contracts": [{"id": "k", "audience": "all",
                "rules": [{"id": "r", "step": "discount", "products": "all", "percent": "10", "rounding": {"mode": "up"}}]}]}"#;
        let day = at("2021-06-01T00:00:00Z");
        let old = Engine::compile(doc, &day).unwrap().engine;
        let lists = r#"{"format": "tarif/1-changes", "upsert": {"price_lists": [
            {"id": "pub", "currency": "EUR", "rounding": {"mode": "down", "scale": 1}}]}}"#;
        let rules = r#"{"format": "tarif/1-changes", "upsert": {"rules": [
            {"contract": "k", "id": "r", "step": "discount", "products": "all", "percent": "20", "rounding": {"mode": "up"}}]}}"#;
        let new = old
            .apply(lists, &day)
            .unwrap()
            .engine
            .apply(rules, &day)
            .unwrap()
            .engine;
        let whole = Engine::compile(new.source().unwrap(), &day).unwrap().engine;
        assert_eq!(new.index.settings.policies, whole.index.settings.policies);
        assert_eq!(answer(&new, "C", "A"), answer(&whole, "C", "A"));
    }

    #[test]
    fn a_change_of_the_price_lists_alone_shares_the_products_and_equals_a_compile() {
        let doc = r#"{"format": "tarif/1", "currencies": [{"code": "EUR"}],
            "settings": {"default_price_lists": ["pub"]},
            "products": [{"sku": "A"}, {"sku": "B"}, {"sku": "C"}],
            "price_lists": [
                {"id": "pub", "currency": "EUR", "prices": [{"sku": "A", "price": "10"}, {"sku": "B", "price": "20"}]},
                {"id": "net", "currency": "EUR", "rounding": {"mode": "down"}, "prices": [{"sku": "A", "price": "9"}]}],
            "segments": [{"id": "s", "price_lists": ["net"]}],
            "accounts": [{"id": "K", "segments": ["s"]}, {"id": "L"}],
            "contracts": [{"id": "k", "audience": "all", "valid": {"until": "2020-01-01"},
                "rules": [{"id": "r", "step": "discount", "products": "all", "percent": "10", "rounding": {"mode": "up"}}]}]}"#;
        let old = Engine::compile(doc, &at("2019-06-01T00:00:00Z"))
            .unwrap()
            .engine;
        let changes = r#"{"format": "tarif/1-changes", "upsert": {
            "price_lists": [{"id": "net", "currency": "EUR", "rounding": {"mode": "up"}}],
            "prices": [
            {"list": "net", "sku": "B", "price": "15"}, {"list": "pub", "sku": "C", "price": "30"},
            {"list": "pub", "sku": "A", "price": "11", "valid": {"from": "2030-01-01"}}]}}"#;
        let day = at("2021-06-01T00:00:00Z");
        let new = old.apply(changes, &day).unwrap().engine;
        assert!(Arc::ptr_eq(
            &old.index.catalog.products,
            &new.index.catalog.products
        ));
        assert!(Arc::ptr_eq(&old.index.refs, &new.index.refs));
        assert!(!Arc::ptr_eq(
            &old.index.pricing.price_lists,
            &new.index.pricing.price_lists
        ));

        let whole = Engine::compile(new.source().unwrap(), &day).unwrap().engine;
        assert_eq!(new.engine_version(), whole.engine_version());
        assert_eq!(codes(new.diagnostics()), codes(whole.diagnostics()));
        assert!(codes(new.diagnostics()).contains(&("EXPIRED", "contracts[0].valid")));
        assert_eq!(new.index.settings.policies, whole.index.settings.policies);
        for account in ["K", "L"] {
            for sku in ["A", "B", "C"] {
                assert_eq!(
                    answer(&new, account, sku),
                    answer(&whole, account, sku),
                    "{account} {sku}"
                );
            }
        }
        assert_eq!(answer(&new, "K", "B").as_deref(), Ok("16.50"));
    }
}
