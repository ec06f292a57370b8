use std::ops::ControlFlow;
use std::time::Instant;
use tarif::{BatchAt, CompileOptions, Engine};

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap();
    let change = args.next().unwrap();
    let text = std::fs::read_to_string(format!("{dir}/rules-subset.json")).unwrap();
    let base = Engine::from_json(&text).unwrap();
    let scenario = base
        .apply(&change, &CompileOptions::default())
        .unwrap()
        .engine;
    let csv = std::fs::read_to_string(format!("{dir}/orders.csv")).unwrap();
    let (mut a, mut r, mut q) = (Vec::new(), Vec::new(), Vec::new());
    for line in csv.lines().skip(1) {
        let mut f = line.split(',');
        a.push(f.next().unwrap().to_string());
        r.push(f.next().unwrap().to_string());
        q.push(f.next().unwrap().parse::<tarif::Decimal>().unwrap());
    }
    let at = BatchAt::One(base.parse_instant("2026-06-01T10:00:00Z").unwrap());
    for n in [2usize] {
        let scen: Vec<(&str, &Engine)> = (0..n).map(|_| ("s", &scenario)).collect();
        let t = Instant::now();
        let sim = base
            .simulate(&scen, &a, &r, &q, at, None, |_| ControlFlow::Continue(()))
            .unwrap()
            .unwrap();
        eprintln!(
            "{n} scenarios: {:?}, affected {:?}",
            t.elapsed(),
            sim.runs
                .iter()
                .map(|r| r.affected.iter().filter(|x| **x).count())
                .collect::<Vec<_>>()
        );
    }
}
