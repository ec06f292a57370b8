//! `Engine::simulate` on random documents: a scenario that changes nothing changes no line; a
//! scenario that changes one rule's percent changes only lines that rule speaks to; every
//! scenario's lines equal quoting them one by one under the scenario's engine; aggregates add
//! up to their lines.

mod common;

use std::ops::ControlFlow;

use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use tarif::{BatchAt, CompileOptions, Engine, GroupBy, QuoteRequest, Status};

type Lines = (Vec<String>, Vec<String>, Vec<Decimal>, tarif::Instant);

fn lines(engine: &Engine, seed: u64, n: usize) -> Lines {
    let mut rng = common::Rng::new(seed ^ 0x51A1);
    let mut accounts = Vec::new();
    let mut refs = Vec::new();
    let mut qtys = Vec::new();
    for _ in 0..n {
        let (a, r, q, _, _) = common::request(&mut rng);
        accounts.push(a);
        refs.push(r);
        qtys.push(q.parse().unwrap());
    }
    let at = engine.parse_instant(common::INSTANTS[2]).unwrap();
    (accounts, refs, qtys, at)
}

/// A change setting the percent of the first rule that has one, or `None`.
fn percent_change(doc: &Value) -> Option<(String, Value)> {
    for contract in doc["contracts"].as_array()? {
        for rule in contract["rules"].as_array()? {
            if rule.get("percent").is_some() {
                let id = format!("{}/{}", contract["id"].as_str()?, rule["id"].as_str()?);
                let mut changed = rule.clone();
                changed["percent"] = json!("-37.5");
                changed["contract"] = contract["id"].clone();
                let changes = json!({"format": "tarif/1-changes", "upsert": {"rules": [changed]}});
                return Some((id, changes));
            }
        }
    }
    None
}

fn check(seed: u64) -> Result<(), TestCaseError> {
    let doc = common::document(seed);
    let base = Engine::from_json(&doc.to_string()).unwrap();
    let (accounts, refs, qtys, at) = lines(&base, seed, 150);
    let options = CompileOptions::default();
    let same = base
        .apply(r#"{"format": "tarif/1-changes"}"#, &options)
        .unwrap()
        .engine;
    let mut scenarios = vec![("same", &same)];
    let changed = percent_change(&doc).map(|(rule, changes)| {
        let engine = base.apply(&changes.to_string(), &options).unwrap().engine;
        (rule, engine)
    });
    if let Some((_, engine)) = &changed {
        scenarios.push(("changed", engine));
    }
    let sim = base
        .simulate(
            &scenarios,
            &accounts,
            &refs,
            &qtys,
            BatchAt::One(at),
            None,
            |_| ControlFlow::Continue(()),
        )
        .unwrap()
        .unwrap();
    prop_assert_eq!(sim.runs.len(), scenarios.len() + 1);
    // A scenario that changes nothing changes no line.
    prop_assert!(sim.runs[1].affected.iter().all(|a| !a));
    prop_assert_eq!(&sim.runs[1].result, &sim.runs[0].result);
    for (run, engine) in sim
        .runs
        .iter()
        .zip([&base].into_iter().chain(scenarios.iter().map(|s| s.1)))
    {
        for row in 0..accounts.len() {
            let quote =
                engine.quote(&QuoteRequest::new(&accounts[row], &refs[row], qtys[row]).at(at));
            match quote {
                Ok(q) => {
                    prop_assert_eq!(run.result.status[row], Status::Ok);
                    prop_assert_eq!(run.result.line_total[row], q.line_total);
                    prop_assert_eq!(run.detail.rule[row], q.steps.last().map(|s| s.rule));
                }
                Err(e) => prop_assert_eq!(run.result.status[row].code(), e.code()),
            }
        }
    }
    // Raising one rule's percent changes only lines that rule applies to, before or after.
    if let Some((rule, engine)) = &changed {
        let run = &sim.runs[2];
        for row in 0..accounts.len() {
            if run.affected[row] {
                let applied = |e: &Engine| {
                    e.quote(&QuoteRequest::new(&accounts[row], &refs[row], qtys[row]).at(at))
                        .map(|q| q.steps.iter().any(|s| s.rule.to_string() == *rule))
                        .unwrap_or(false)
                };
                prop_assert!(
                    applied(&base) || applied(engine),
                    "row {} changed without rule {}",
                    row,
                    rule
                );
            }
        }
    }
    // Per scenario, the account groups partition the lines: their sums are the run's sums.
    for (scenario, run) in sim.runs.iter().enumerate() {
        let groups: Vec<_> = sim
            .groups
            .iter()
            .filter(|g| g.by == GroupBy::Account && g.scenario == scenario)
            .collect();
        let lines: u64 = groups.iter().map(|g| g.lines).sum();
        prop_assert_eq!(lines as usize, accounts.len());
        let revenue: Decimal = groups.iter().map(|g| g.revenue).sum();
        let expected: Decimal = (0..accounts.len())
            .filter(|&r| run.result.status[r] == Status::Ok)
            .map(|r| run.result.line_total[r])
            .sum();
        prop_assert_eq!(revenue, expected);
        let margin: Decimal = groups.iter().map(|g| g.margin).sum();
        prop_assert_eq!(
            margin,
            run.margin.iter().flatten().copied().sum::<Decimal>()
        );
        let affected: u64 = groups.iter().map(|g| g.affected).sum();
        prop_assert_eq!(
            affected as usize,
            run.affected.iter().filter(|a| **a).count()
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn simulation_agrees_with_quotes_and_adds_up(seed in any::<u64>()) {
        check(seed)?;
    }
}

#[test]
fn a_stopped_simulation_answers_nothing() {
    let base = Engine::from_json(&common::document(7).to_string()).unwrap();
    let (accounts, refs, qtys, at) = lines(&base, 7, 10);
    let stopped = base
        .simulate(
            &[("same", &base)],
            &accounts,
            &refs,
            &qtys,
            BatchAt::One(at),
            None,
            |_| ControlFlow::Break(()),
        )
        .unwrap();
    assert!(stopped.is_none());
}
