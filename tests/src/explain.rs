//! `explain` held to the reference: per step of the procedure, the candidates (the rules and
//! entries that matched) and the winners an explanation reports must be the reference's.

use serde_json::Value;
use tarif::{Decimal, Engine, Explanation, QuoteRequest};
use tarif_reference::{RefStep, Reference};

/// An explanation's steps in the reference's terms: candidates are those it evaluated (they
/// have a result), sorted; winners are sorted too, since a step lists its candidates in its own
/// order (the order of application is the quote's, compared apart).
pub fn steps(explanation: &Explanation) -> Vec<RefStep> {
    explanation
        .steps
        .iter()
        .map(|s| RefStep {
            step: s.step.clone(),
            skipped: s.skipped,
            candidates: if s.skipped {
                Vec::new()
            } else {
                sorted(
                    s.candidates
                        .iter()
                        .filter(|c| c.result.is_some())
                        .map(|c| c.rule.clone()),
                )
            },
            applied: sorted(
                s.candidates
                    .iter()
                    .filter(|c| c.applied)
                    .map(|c| c.rule.clone()),
            ),
        })
        .collect()
}

/// The reference's steps with each step's winners sorted, to compare with [`steps`].
pub fn reference_steps(steps: &[RefStep]) -> Vec<RefStep> {
    steps
        .iter()
        .map(|s| RefStep {
            applied: sorted(s.applied.iter().cloned()),
            ..s.clone()
        })
        .collect()
}

fn sorted(ids: impl Iterator<Item = String>) -> Vec<String> {
    let mut ids: Vec<String> = ids.collect();
    ids.sort();
    ids
}

/// Every quote and explain case of a fixture whose line prices in both the engine and the
/// reference, explained by the engine and compared step by step: the mismatches, and how many
/// cases were compared.
pub fn check_fixture(name: &str, fixture: &Value) -> (Vec<String>, usize) {
    let (Some(document), Some(cases)) = (
        fixture.get("document"),
        fixture.get("cases").and_then(Value::as_array),
    ) else {
        return (Vec::new(), 0);
    };
    let text = document.to_string();
    let (Ok(engine), Some(reference)) = (Engine::from_json(&text), Reference::from_json(&text))
    else {
        return (Vec::new(), 0);
    };
    let mut failures = Vec::new();
    let mut compared = 0;
    for (i, case) in cases.iter().enumerate() {
        let field = |key: &str| case.get(key).and_then(Value::as_str);
        if !matches!(field("op"), Some("quote" | "explain")) {
            continue;
        }
        let (Some(account), Some(product), Some(qty), Some(at)) =
            (field("account"), field("ref"), field("qty"), field("at"))
        else {
            continue;
        };
        let (Ok(qty), Ok(at)) = (qty.parse::<Decimal>(), engine.parse_instant(at)) else {
            continue;
        };
        let currency = field("currency");
        let mut request = QuoteRequest::new(account, product, qty).at(at);
        if let Some(c) = currency {
            request = request.currency(c);
        }
        let (Ok(_), Ok(want)) = (
            engine.quote(&request),
            reference.quote(account, product, qty, at, currency),
        ) else {
            continue;
        };
        match engine.explain(&request) {
            Ok(explanation) => {
                let (got, want) = (steps(&explanation), reference_steps(&want.steps));
                if got != want {
                    failures.push(format!(
                        "{name} #{i}: explain {got:?}\n  reference {want:?}"
                    ));
                }
                compared += 1;
            }
            Err(e) => failures.push(format!("{name} #{i}: explain failed: {e}")),
        }
    }
    (failures, compared)
}
