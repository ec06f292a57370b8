//! Prices and explains one line of a rules document:
//! `cargo run -p tarif --example explain -- rules.json ACCOUNT REF QTY [AT]`.

use std::process::ExitCode;

use tarif::{Engine, QuoteRequest};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, account, reference, qty, rest @ ..] = args.as_slice() else {
        eprintln!("usage: explain RULES.json ACCOUNT REF QTY [AT]");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let engine = match Engine::from_json(&text) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    for warning in engine.diagnostics() {
        eprintln!("warning: {warning}");
    }
    let Ok(qty) = qty.parse() else {
        eprintln!("invalid quantity `{qty}`");
        return ExitCode::from(2);
    };
    let mut request = QuoteRequest::new(account, reference, qty);
    if let Some(at) = rest.first() {
        match engine.parse_instant(at) {
            Ok(at) => request = request.at(at),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        }
    }
    match engine.explain(&request) {
        Ok(explanation) => {
            println!("{explanation}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: {e}", e.code());
            ExitCode::FAILURE
        }
    }
}
