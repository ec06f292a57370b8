//! The generated data set: same seed, same bytes; valid `tarif/1`; every order line priced.

use rust_decimal::Decimal;
use tarif::{BatchAt, Engine, Status};
use tarif_benches::generate::{File, Model, Size, BENCH_AT};

fn hashes(model: &Model) -> Vec<(&'static str, blake3::Hash)> {
    File::ALL
        .iter()
        .map(|&file| {
            let mut bytes = Vec::new();
            model.write(file, &mut bytes).expect("writing to memory");
            (file.name(), blake3::hash(&bytes))
        })
        .collect()
}

#[test]
fn same_seed_same_bytes() {
    assert_eq!(
        hashes(&Model::generate(Size::Small)),
        hashes(&Model::generate(Size::Small))
    );
}

fn text(model: &Model, file: File) -> String {
    let mut bytes = Vec::new();
    model.write(file, &mut bytes).expect("writing to memory");
    String::from_utf8(bytes).expect("ASCII")
}

/// The first order lines as columns (a debug build prices ten thousand quickly); the date column
/// is informative only.
fn orders(model: &Model) -> (Vec<String>, Vec<String>, Vec<Decimal>) {
    let csv = text(model, File::Orders);
    let mut columns = (Vec::new(), Vec::new(), Vec::new());
    for line in csv.lines().skip(1).take(10_000) {
        let fields: Vec<&str> = line.split(',').collect();
        columns.0.push(fields[0].to_string());
        columns.1.push(fields[1].to_string());
        columns.2.push(fields[2].parse().expect("integer quantity"));
    }
    columns
}

#[test]
fn documents_compile_and_price_the_order_lines() {
    let model = Model::generate(Size::Small);
    let (accounts, skus, qtys) = orders(&model);
    let at = BatchAt::One(tarif::Instant::parse_rfc3339(BENCH_AT).expect("instant"));
    for (file, min_ok) in [(File::RulesSubset, 1.0), (File::Rules, 0.99)] {
        let engine = Engine::from_json(&text(&model, file))
            .unwrap_or_else(|e| panic!("{} does not compile: {e}", file.name()));
        let out = engine
            .quote_many(&accounts, &skus, &qtys, at, None)
            .expect("columns of one length");
        let ok = out.status.iter().filter(|s| **s == Status::Ok).count();
        // Full semantics: a few lines name a product an account exception hides.
        assert!(
            ok as f64 >= min_ok * out.len() as f64,
            "{}: {ok} of {} lines priced",
            file.name(),
            out.len()
        );
    }
    Engine::from_json(&text(&model, File::RulesWithoutAccountPrices)).expect("compiles");
}
