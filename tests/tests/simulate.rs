//! `Engine::simulate` on random documents: a scenario that changes nothing changes no line; a
//! scenario that changes the percent of the rule deciding the most lines changes only lines
//! that rule speaks to, and enough of them over the run for that to mean something; every
//! scenario's lines equal quoting them one by one under the scenario's engine; aggregates add
//! up to their lines.

mod common;

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::changes::random_changes;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use tarif::{BatchAt, CompileOptions, Engine, Group, GroupBy, QuoteRequest, Status};

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

/// A change setting the percent of the rule with a percent that decides the most lines under
/// `base` (else the first rule with a percent), or `None`.
fn percent_change(doc: &Value, base: &Engine, lines: &Lines) -> Option<(String, Value)> {
    let (accounts, refs, qtys, at) = lines;
    let mut decided: HashMap<String, usize> = HashMap::new();
    for row in 0..accounts.len() {
        if let Ok(q) = base.quote(&QuoteRequest::new(&accounts[row], &refs[row], qtys[row]).at(*at))
        {
            if let Some(step) = q.steps.last() {
                *decided.entry(step.rule.to_string()).or_default() += 1;
            }
        }
    }
    let mut best: Option<(usize, String, Value)> = None;
    for contract in doc["contracts"].as_array()? {
        for rule in contract["rules"].as_array()? {
            if rule.get("percent").is_some() {
                let id = format!("{}/{}", contract["id"].as_str()?, rule["id"].as_str()?);
                let count = decided.get(&id).copied().unwrap_or(0);
                if best.as_ref().is_none_or(|(n, _, _)| count > *n) {
                    let mut changed = rule.clone();
                    changed["percent"] = json!("-37.5");
                    changed["contract"] = contract["id"].clone();
                    best = Some((count, id, changed));
                }
            }
        }
    }
    best.map(|(_, id, changed)| {
        let changes = json!({"format": "tarif/1-changes", "upsert": {"rules": [changed]}});
        (id, changes)
    })
}

/// Checks one random document; answers how many lines the changed rule's scenario affected.
fn check(seed: u64) -> Result<usize, TestCaseError> {
    let doc = common::document(seed);
    let base = Engine::from_json(&doc.to_string()).unwrap();
    let generated = lines(&base, seed, 150);
    let changed = percent_change(&doc, &base, &generated);
    let (accounts, refs, qtys, at) = generated;
    let options = CompileOptions::default();
    let same = base
        .apply(r#"{"format": "tarif/1-changes"}"#, &options)
        .unwrap()
        .engine;
    let mut scenarios = vec![("same", &same)];
    let changed = changed.map(|(rule, changes)| {
        let engine = base.apply(&changes.to_string(), &options).unwrap().engine;
        (rule, engine)
    });
    if let Some((_, engine)) = &changed {
        scenarios.push(("changed", engine));
    }
    // Random changes, one and two applies away from the base: a simulation reprices only the
    // lines the changes can reach and takes the base's answer for the rest, so every kind of
    // change must leave each line as its scenario engine quotes it.
    let mut rng = common::Rng::new(seed ^ 0x5CE7);
    let random = base
        .apply(
            &random_changes(&doc, &mut rng, seed.wrapping_add(1)).to_string(),
            &options,
        )
        .ok()
        .map(|c| c.engine);
    let twice = random.as_ref().and_then(|once| {
        let doc: Value = serde_json::from_str(once.source()?).ok()?;
        let changes = random_changes(&doc, &mut rng, seed.wrapping_add(2));
        once.apply(&changes.to_string(), &options)
            .ok()
            .map(|c| c.engine)
    });
    scenarios.extend(random.iter().map(|e| ("random", e)));
    scenarios.extend(twice.iter().map(|e| ("twice", e)));
    let simulated = |by: &[GroupBy]| {
        base.simulate(
            &scenarios,
            &accounts,
            &refs,
            &qtys,
            BatchAt::One(at),
            None,
            by,
            |_| ControlFlow::Continue(()),
        )
        .unwrap()
        .unwrap()
    };
    let groups_alone = |by: &[GroupBy]| {
        base.simulate_groups(
            &scenarios,
            &accounts,
            &refs,
            &qtys,
            BatchAt::One(at),
            None,
            by,
            |_| ControlFlow::Continue(()),
        )
        .unwrap()
        .unwrap()
    };
    let sim = simulated(&GroupBy::ALL);
    prop_assert_eq!(sim.runs.len(), scenarios.len() + 1);
    // The groups alone, summed a step at a time with only the reached lines moved, are the
    // groups of the lines.
    let groups = groups_alone(&GroupBy::ALL);
    prop_assert_eq!(&groups, &sim.groups);
    // Some of the groupings: their groups alone, the others neither computed nor listed.
    let by: Vec<GroupBy> = GroupBy::ALL
        .into_iter()
        .enumerate()
        .filter(|(i, _)| (seed >> i) & 1 == 1)
        .map(|(_, by)| by)
        .collect();
    let some = groups_alone(&by);
    let kept: Vec<Group> = groups
        .iter()
        .filter(|g| by.contains(&g.by))
        .cloned()
        .collect();
    prop_assert_eq!(&some, &kept);
    let some_with_lines = simulated(&by);
    prop_assert_eq!(&some_with_lines.groups, &kept);
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
                    prop_assert_eq!(run.detail.sku[row], Some(q.sku));
                    prop_assert_eq!(run.detail.base_price[row], Some(q.base_price));
                    prop_assert_eq!(
                        engine
                            .currencies()
                            .nth(usize::from(run.result.currency[row])),
                        Some(q.currency)
                    );
                }
                Err(e) => prop_assert_eq!(run.result.status[row].code(), e.code()),
            }
        }
    }
    // Raising one rule's percent changes only lines that rule applies to, before or after.
    let mut affected = 0;
    if let Some((rule, engine)) = &changed {
        let run = &sim.runs[2];
        affected = run.affected.iter().filter(|a| **a).count();
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
    // Two halves simulated apart and added up are the whole (what `tarif.dask` relies on).
    let half = accounts.len() / 2;
    let part = |range: std::ops::Range<usize>| {
        base.simulate(
            &scenarios,
            &accounts[range.clone()],
            &refs[range.clone()],
            &qtys[range],
            BatchAt::One(at),
            None,
            &GroupBy::ALL,
            |_| ControlFlow::Continue(()),
        )
        .unwrap()
        .unwrap()
        .groups
    };
    let parts = part(0..half).into_iter().chain(part(half..accounts.len()));
    prop_assert_eq!(&Group::add_up(parts).unwrap(), &sim.groups);
    // The pivot of a grouping has each group in its scenario's place, and the changes.
    for by in GroupBy::ALL {
        let rows = Group::pivot(&sim.groups, by, sim.runs.len()).unwrap();
        let placed: usize = rows.iter().map(|r| r.groups.iter().flatten().count()).sum();
        prop_assert_eq!(placed, sim.groups.iter().filter(|g| g.by == by).count());
        for row in &rows {
            for (s, group) in row.groups.iter().enumerate() {
                if let Some(g) = group {
                    prop_assert_eq!(
                        (g.by, g.key.as_str(), g.scenario),
                        (by, row.key.as_str(), s)
                    );
                }
            }
            for (s, change) in row.revenue_change.iter().enumerate() {
                let expected = match (&row.groups[0], &row.groups[s + 1]) {
                    (Some(b), Some(g)) => Some(g.revenue - b.revenue),
                    _ => None,
                };
                prop_assert_eq!(*change, expected);
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
    Ok(affected)
}

/// Run as a proptest, with a tally over the cases: the "changes only lines that rule applies
/// to" check passes vacuously on a document where the changed rule decides no line, so the run
/// must have changed enough lines for it to mean something.
#[test]
fn simulation_agrees_with_quotes_and_adds_up() {
    const CASES: u32 = 48;
    let mut runner = TestRunner::new(ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let affected = AtomicUsize::new(0);
    let cases_affected = AtomicUsize::new(0);
    runner
        .run(&any::<u64>(), |seed| {
            let n = check(seed)?;
            affected.fetch_add(n, Ordering::Relaxed);
            cases_affected.fetch_add(usize::from(n > 0), Ordering::Relaxed);
            Ok(())
        })
        .unwrap();
    let (affected, cases) = (affected.into_inner(), cases_affected.into_inner());
    assert!(
        affected >= 150 && cases >= CASES as usize / 4,
        "the changed rule affected {affected} lines in {cases} of {CASES} cases: too few for the check to mean anything"
    );
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
            &GroupBy::ALL,
            |_| ControlFlow::Break(()),
        )
        .unwrap();
    assert!(stopped.is_none());
    let stopped = base
        .simulate_groups(
            &[("same", &base)],
            &accounts,
            &refs,
            &qtys,
            BatchAt::One(at),
            None,
            &GroupBy::ALL,
            |_| ControlFlow::Break(()),
        )
        .unwrap();
    assert!(stopped.is_none());
    // A stop asked once every line is priced, while the lines are rolled up into groups.
    let total = accounts.len() * 2;
    let stop_after_the_lines = || {
        let mut told_done = false;
        move |done: usize| {
            let stop = told_done;
            told_done |= done == total;
            if stop {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        }
    };
    let scenario = [("same", &base)];
    let (lines, at) = ((&accounts, &refs, &qtys), BatchAt::One(at));
    let full = base.simulate(
        &scenario,
        lines.0,
        lines.1,
        lines.2,
        at,
        None,
        &GroupBy::ALL,
        stop_after_the_lines(),
    );
    assert!(full.unwrap().is_none());
    let alone = base.simulate_groups(
        &scenario,
        lines.0,
        lines.1,
        lines.2,
        at,
        None,
        &GroupBy::ALL,
        stop_after_the_lines(),
    );
    assert!(alone.unwrap().is_none());
}
