//! `tarif-simulate --rules FILE --orders FILE --scenarios FILE [--repeat R] [--by G,…]`: the
//! simulation of docs/performance.md in Rust alone, with no Python around it, for profiles and
//! A/B runs. `--scenarios` is a JSON object of scenario name → `tarif/1-changes` document
//! (`benches/peers/simulate.py --write-scenarios FILE` writes the ones its peers run); each is
//! applied to the compiled rules before the clock. Each run calls `simulate_groups` over every
//! order line, at the benches' instant, grouped by `--by` (default `segment`, what the SQL peer
//! computes), and splits its time from the progress the call reports: resolution (until the
//! base's first step is added up), the base's steps, each scenario, and the roll-up.
//! Prints one JSON object with the medians and every run.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant as Clock;

use tarif::{BatchAt, CompileOptions, Engine, GroupBy, Instant};
use tarif_benches::generate::BENCH_AT;
use tarif_benches::{median, Orders};

tarif_allocator::jemalloc!();

struct Args {
    rules: PathBuf,
    orders: PathBuf,
    scenarios: PathBuf,
    repeat: usize,
    by: Vec<GroupBy>,
}

fn parse_args() -> Result<Args, String> {
    let (mut rules, mut orders, mut scenarios, mut repeat) = (None, None, None, 3);
    let mut by = vec![GroupBy::Segment];
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--rules" => rules = Some(PathBuf::from(value)),
            "--orders" => orders = Some(PathBuf::from(value)),
            "--scenarios" => scenarios = Some(PathBuf::from(value)),
            "--repeat" => repeat = value.parse().map_err(|e| format!("--repeat: {e}"))?,
            "--by" => {
                by = (value.split(','))
                    .map(|name| GroupBy::parse(name).ok_or(format!("--by: unknown `{name}`")))
                    .collect::<Result<_, _>>()?
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args {
        rules: rules.ok_or("--rules is required")?,
        orders: orders.ok_or("--orders is required")?,
        scenarios: scenarios.ok_or("--scenarios is required")?,
        repeat: repeat.max(1),
        by,
    })
}

fn read(path: &PathBuf) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn run(args: &Args) -> Result<serde_json::Value, String> {
    let base = Engine::from_json(&read(&args.rules)?).map_err(|e| e.to_string())?;
    let changes: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&read(&args.scenarios)?).map_err(|e| e.to_string())?;
    let mut engines = Vec::new();
    for (name, change) in &changes {
        let applied = base.apply(&change.to_string(), &CompileOptions::default());
        engines.push((
            name.as_str(),
            applied.map_err(|e| format!("{name}: {e}"))?.engine,
        ));
    }
    let scenarios: Vec<(&str, &Engine)> = engines.iter().map(|(n, e)| (*n, e)).collect();
    let orders =
        Orders::read(&args.orders).map_err(|e| format!("{}: {e}", args.orders.display()))?;
    let (accounts, skus) = orders.columns();
    let at = BatchAt::One(Instant::parse_rfc3339(BENCH_AT).ok_or("BENCH_AT is an instant")?);
    let rows = accounts.len();
    let mut runs = Vec::new();
    let mut revenue = String::new();
    for _ in 0..args.repeat {
        let mut marks = Vec::new();
        let start = Clock::now();
        let groups = base
            .simulate_groups(
                &scenarios,
                &accounts,
                &skus,
                &orders.qtys,
                at,
                None,
                &args.by,
                |done| {
                    marks.push((start.elapsed().as_secs_f64(), done));
                    ControlFlow::Continue(())
                },
            )
            .map_err(|e| e.to_string())?
            .ok_or("the simulation stopped")?;
        let total = start.elapsed().as_secs_f64();
        // Progress counts the lines of every run in turn: the base's, then each scenario's.
        let reached = |lines: usize| marks.iter().find(|m| m.1 >= lines).map_or(total, |m| m.0);
        let mut ends = vec![marks.iter().find(|m| m.1 > 0).map_or(total, |m| m.0)];
        ends.extend((1..=1 + scenarios.len()).map(|run| reached(run * rows)));
        ends.push(total);
        let mut spans = vec![ends[0]];
        spans.extend(ends.windows(2).map(|w| w[1] - w[0]));
        runs.push((total, spans));
        let total_revenue: tarif::Decimal = groups.iter().map(|g| g.revenue).sum();
        revenue = total_revenue.to_string();
    }
    let totals: Vec<f64> = runs.iter().map(|r| r.0).collect();
    let mut names = vec!["resolution".to_string(), "base".to_string()];
    names.extend(scenarios.iter().map(|(n, _)| n.to_string()));
    names.push("roll-up".into());
    let phases: serde_json::Map<String, serde_json::Value> = (names.iter().enumerate())
        .map(|(k, name)| {
            let spans: Vec<f64> = runs.iter().filter_map(|r| r.1.get(k).copied()).collect();
            (name.clone(), serde_json::json!(median(&spans)))
        })
        .collect();
    Ok(serde_json::json!({
        "engine": "tarif (Rust)",
        "lines": rows,
        "scenarios": names.len() - 3,
        "by": args.by.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "median_s": median(&totals),
        "runs_s": totals,
        "phases_median_s": phases,
        "revenue_all_groups": revenue,
        "threads": rayon::current_num_threads(),
    }))
}

fn main() -> ExitCode {
    tarif_benches::finish("tarif-simulate", parse_args().and_then(|args| run(&args)))
}
