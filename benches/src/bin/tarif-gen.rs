//! `tarif-gen --size small|medium|reference --out DIR`: writes the data set of docs/performance.md.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use tarif_benches::generate::{self, Model, Size};

fn main() -> ExitCode {
    let mut size = Size::Small;
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--size", Some(value)) => match Size::parse(&value) {
                Some(s) => size = s,
                None => return usage(&format!("unknown size {value:?}")),
            },
            ("--out", Some(value)) => out = Some(PathBuf::from(value)),
            _ => return usage(&format!("unexpected argument {arg:?}")),
        }
    }
    let out = out.unwrap_or_else(|| tarif_benches::data_dir(size));
    let start = Instant::now();
    let model = Model::generate(size);
    let drawn = start.elapsed();
    if let Err(e) = generate::write_all(&model, &out) {
        eprintln!("tarif-gen: writing {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    eprintln!(
        "tarif-gen: {} data set in {} ({} account prices; drawn in {:.1} s, written in {:.1} s)",
        size.name(),
        out.display(),
        size.account_prices(),
        drawn.as_secs_f64(),
        (start.elapsed() - drawn).as_secs_f64()
    );
    ExitCode::SUCCESS
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("tarif-gen: {problem}\nusage: tarif-gen [--size small|medium|reference] [--out DIR]");
    ExitCode::from(2)
}
