//! `tarif reprice` on Parquet: the same answers as on CSV whatever the formats in and out,
//! exact decimal amounts at one scale per file, and no half-written file when a run fails.

// Helpers of tests fail loudly, as the tests themselves may (clippy.toml).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

#[allow(dead_code, unused_imports)]
mod common;

use std::fs::File;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Decimal128Type;
use arrow_array::{
    Array, ArrayRef, Decimal128Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow_schema::DataType;
use common::{tarif, Workspace, AT, CABLE, DRILL, INSTALLER_BRANCH, RESELLER};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use tarif_sample::showcase::SCREW;

fn write_parquet(ws: &Workspace, name: &str, columns: Vec<(&str, ArrayRef)>) {
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let file = File::create(ws.path(name)).unwrap();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

fn read_parquet(ws: &Workspace, name: &str) -> RecordBatch {
    let file = File::open(ws.path(name)).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .with_batch_size(1 << 16)
        .build()
        .unwrap();
    let schema = arrow_array::RecordBatchReader::schema(&reader);
    let mut batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
    assert!(batches.len() <= 1, "the tests' files fit one batch");
    batches
        .pop()
        .unwrap_or_else(|| RecordBatch::new_empty(schema))
}

fn texts(batch: &RecordBatch, name: &str) -> Vec<String> {
    let column = batch.column_by_name(name).unwrap();
    let formatter = arrow_cast::display::ArrayFormatter::try_new(
        column.as_ref(),
        &arrow_cast::display::FormatOptions::default(),
    )
    .unwrap();
    (0..column.len())
        .map(|row| formatter.value(row).to_string())
        .collect()
}

/// The lines of `commands.rs`'s reprice test, as CSV and as a Parquet file of text columns.
fn lines(ws: &Workspace) {
    let rows = [
        ["1", INSTALLER_BRANCH, CABLE, "100", ""],
        ["2", RESELLER, "NO-SUCH-SKU", "1", ""],
        ["3", RESELLER, DRILL, "lots", ""],
        ["4", RESELLER, DRILL, "1", "someday"],
        ["5", INSTALLER_BRANCH, CABLE, "100", AT],
    ];
    let mut csv = String::from("order,account,sku,qty,at\n");
    for row in &rows {
        csv.push_str(&row.join(","));
        csv.push('\n');
    }
    ws.write("orders.csv", &csv);
    let column = |index: usize| -> ArrayRef {
        Arc::new(
            rows.iter()
                .map(|row| Some(row[index]).filter(|cell| !cell.is_empty()))
                .collect::<StringArray>(),
        )
    };
    write_parquet(
        ws,
        "orders.parquet",
        vec![
            ("order", column(0)),
            ("account", column(1)),
            ("sku", column(2)),
            ("qty", column(3)),
            ("at", column(4)),
        ],
    );
}

#[test]
fn every_pair_of_formats_gives_the_same_answers() {
    let ws = Workspace::with_sample();
    lines(&ws);
    let run = |input: &str, output: &str| {
        tarif(
            ws.dir.path(),
            &[
                "reprice",
                "rules.json",
                input,
                "-o",
                output,
                "--at",
                AT,
                "--chunk",
                "2",
            ],
        )
        .expect_code(0)
    };
    run("orders.csv", "csv-csv.csv");
    let summary = run("orders.parquet", "parquet-csv.csv").stdout();
    assert!(summary.contains("2 priced, 3 not"), "{summary}");
    let expected = std::fs::read_to_string(ws.path("csv-csv.csv")).unwrap();
    assert_eq!(
        std::fs::read_to_string(ws.path("parquet-csv.csv")).unwrap(),
        expected
    );

    for input in ["orders.csv", "orders.parquet"] {
        run(input, "out.parquet");
        let out = read_parquet(&ws, "out.parquet");
        let schema = out.schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(
            names,
            [
                "order",
                "account",
                "sku",
                "qty",
                "at",
                "status",
                "unit_price",
                "line_total",
                "currency"
            ]
        );
        assert_eq!(
            out.column_by_name("unit_price").unwrap().data_type(),
            &DataType::Decimal128(38, 2)
        );
        let line_total = out.column_by_name("line_total").unwrap();
        let line_total = line_total.as_primitive::<Decimal128Type>();
        assert_eq!(line_total.value(0), 14_600, "146.00 at scale 2");
        assert_eq!(line_total.null_count(), 3, "only priced lines have amounts");
        assert_eq!(
            texts(&out, "status"),
            [
                "OK",
                "UNKNOWN_PRODUCT",
                "INVALID_QUANTITY",
                "INVALID_INSTANT",
                "OK"
            ]
        );
        // The answers, as text, are the CSV output's.
        let csv_rows: Vec<Vec<String>> = expected
            .lines()
            .skip(1)
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect();
        let unit = texts(&out, "unit_price");
        let currency = texts(&out, "currency");
        for (row, csv) in csv_rows.iter().enumerate() {
            assert_eq!(unit[row], csv[6], "row {row}");
            assert_eq!(currency[row], csv[8], "row {row}");
        }
    }
}

#[test]
fn typed_parquet_columns_are_read_as_the_libraries_read_them() {
    let ws = Workspace::with_sample();
    let at = tarif::Engine::from_json(&tarif_sample::distributor_json())
        .unwrap()
        .parse_instant(AT)
        .unwrap();
    write_parquet(
        &ws,
        "typed.parquet",
        vec![
            ("order", Arc::new(Int64Array::from(vec![7, 8])) as ArrayRef),
            (
                "account",
                Arc::new(StringArray::from(vec![INSTALLER_BRANCH, INSTALLER_BRANCH])),
            ),
            ("sku", Arc::new(StringArray::from(vec![CABLE, CABLE]))),
            (
                "qty",
                Arc::new(
                    Decimal128Array::from(vec![100, 100])
                        .with_precision_and_scale(10, 0)
                        .unwrap(),
                ),
            ),
            (
                "at",
                Arc::new(
                    TimestampMicrosecondArray::from(vec![Some(at.0), None]).with_timezone("UTC"),
                ),
            ),
        ],
    );
    let out = tarif(
        ws.dir.path(),
        &["reprice", "rules.json", "typed.parquet", "--at", AT],
    )
    .expect_code(0)
    .stdout();
    let mut lines = out.lines();
    assert_eq!(
        lines.next().unwrap(),
        "order,account,sku,qty,at,status,unit_price,line_total,currency"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2);
    for row in rows {
        assert!(row.ends_with(",OK,1.46,146.00,EUR"), "{row}");
    }
}

#[test]
fn an_amount_finer_than_the_files_scale_fails_the_run_and_leaves_no_file() {
    let ws = Workspace::with_sample();
    // The first chunk sets the scale: cable at 1.46, two decimals. Screws are priced per piece
    // with four decimals, which a two-decimal file cannot hold.
    ws.write(
        "orders.csv",
        &format!(
            "account,sku,qty
{INSTALLER_BRANCH},{CABLE},100
{RESELLER},{SCREW},1000
"
        ),
    );
    let args = |extra: &[&'static str]| {
        let mut args = vec![
            "reprice",
            "rules.json",
            "orders.csv",
            "-o",
            "out.parquet",
            "--at",
            AT,
            "--chunk",
            "1",
        ];
        args.extend(extra);
        args
    };
    let by_csv = tarif(
        ws.dir.path(),
        &["reprice", "rules.json", "orders.csv", "--at", AT],
    )
    .expect_code(0)
    .stdout();
    let screw: Vec<&str> = by_csv.lines().nth(2).unwrap().split(',').collect();
    let unit_price: tarif::Decimal = screw[4].parse().unwrap();
    assert_eq!(unit_price.normalize().scale(), 4, "{by_csv}");

    let failed = tarif(ws.dir.path(), &args(&[])).expect_code(4);
    assert!(
        failed.stderr().contains(&format!("`{unit_price}`")) && failed.stderr().contains("--scale"),
        "{}",
        failed.stderr()
    );
    assert!(!ws.path("out.parquet").exists());
    assert!(!ws.path("out.parquet.partial").exists());

    tarif(ws.dir.path(), &args(&["--scale", "4"])).expect_code(0);
    let out = read_parquet(&ws, "out.parquet");
    assert_eq!(
        out.column_by_name("unit_price").unwrap().data_type(),
        &DataType::Decimal128(38, 4)
    );
    let units = texts(&out, "unit_price");
    assert_eq!(units, ["1.4600", unit_price.to_string().as_str()]);
}

#[test]
fn an_empty_input_gives_a_file_with_the_columns_and_no_row() {
    let ws = Workspace::with_sample();
    ws.write("orders.csv", "account,sku,qty\n");
    tarif(
        ws.dir.path(),
        &["reprice", "rules.json", "orders.csv", "-o", "out.parquet"],
    )
    .expect_code(0);
    let out = read_parquet(&ws, "out.parquet");
    assert_eq!(out.num_rows(), 0);
    assert_eq!(out.num_columns(), 7);
    assert_eq!(
        out.column_by_name("line_total").unwrap().data_type(),
        &DataType::Decimal128(38, 2)
    );
}

#[test]
fn an_input_column_named_like_an_output_column_is_refused() {
    let ws = Workspace::with_sample();
    ws.write(
        "orders.csv",
        &format!("account,sku,qty,status\n{RESELLER},{DRILL},1,old\n"),
    );
    let run = tarif(ws.dir.path(), &["reprice", "rules.json", "orders.csv"]).expect_code(4);
    assert!(
        run.stderr()
            .contains("already has a column named `status`, which the output adds"),
        "{}",
        run.stderr()
    );
}
