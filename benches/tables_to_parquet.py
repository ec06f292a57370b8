"""Writes the CSV tables of `tarif-tables` as Parquet (every column a string, so money stays
exact) with a manifest `manifest-parquet.json` next to them: `python benches/tables_to_parquet.py DIR`."""

import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

folder = Path(sys.argv[1])
manifest = json.loads((folder / "manifest.json").read_text())
for spec in manifest["tables"].values():
    source = folder / spec["file"]
    names = source.open(encoding="utf-8").readline().strip().split(",")
    options = pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=True)
    table = pacsv.read_csv(source, convert_options=options)
    spec["file"] = source.with_suffix(".parquet").name
    pq.write_table(table, folder / spec["file"], compression="snappy")
(folder / "manifest-parquet.json").write_text(json.dumps(manifest, indent=2))
