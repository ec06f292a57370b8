"""Engine.import_tables: the importer's fixtures (tests/fixtures/import/) through Python, from
files, from a dict manifest, and from pandas DataFrames and pyarrow Tables in place of files."""

import csv
import json
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

import tarif
from conftest import FIXTURES

GOOD = FIXTURES / "import" / "good"


def expected_version():
    return tarif.Engine.from_path(GOOD / "expected.json").engine_version


def manifest():
    return json.loads((GOOD / "manifest.json").read_text(encoding="utf-8"))


def rows(table):
    spec = manifest()["tables"][table]
    delimiter = spec.get("csv", {}).get("delimiter", ",")
    text = (GOOD / spec["file"]).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(text.splitlines(), delimiter=delimiter))


def frames():
    """Every good table as a DataFrame: empty cells are None, money is Decimal."""
    out = {}
    for table in manifest()["tables"]:
        records = [{k: (v or None) for k, v in row.items()} for row in rows(table)]
        frame = pd.DataFrame.from_records(records).astype(object)
        for money in ("COST", "price"):
            if money in frame:
                frame[money] = [
                    None if v is None else Decimal(v.replace(",", ".")) for v in frame[money]
                ]
        out[table] = frame.where(frame.notna(), None)
    return out


def test_files_give_the_document_written_by_hand():
    engine = tarif.Engine.import_tables(GOOD / "manifest.json")
    assert engine.engine_version == expected_version()
    assert str(engine.quote("ACME", "CABLE-3G15", 600, at="2026-03-01").unit_price) == "0.90"


def test_a_dict_manifest_names_files_relative_to_the_working_directory(monkeypatch):
    monkeypatch.chdir(GOOD)
    engine = tarif.Engine.import_tables(manifest())
    assert engine.engine_version == expected_version()


def test_dataframes_and_pyarrow_tables_stand_in_for_files():
    tables = frames()
    tables["prices"] = pa.Table.from_pandas(tables["prices"], preserve_index=False)
    engine = tarif.Engine.import_tables(manifest(), tables=tables)
    assert engine.engine_version == expected_version()


def test_float_money_is_refused_as_in_parquet():
    tables = frames()
    tables["products"]["COST"] = [float(v) for v in tables["products"]["COST"]]
    with pytest.raises(tarif.CompileError) as caught:
        tarif.Engine.import_tables(manifest(), tables=tables)
    assert caught.value.code == "IMPORT_ERROR"
    [problem] = caught.value.details
    assert problem["code"] == "IMPORT_FLOAT_COLUMN"
    assert problem["location"] == "products:1:COST"


def test_bad_tables_list_every_problem_with_its_place():
    with pytest.raises(tarif.CompileError) as caught:
        tarif.Engine.import_tables(FIXTURES / "import" / "bad-values" / "manifest.json")
    assert caught.value.code == "IMPORT_ERROR"
    places = {(d["code"], d["location"]) for d in caught.value.details}
    assert ("IMPORT_INVALID_VALUE", "prices.csv:2:price") in places
    assert ("IMPORT_DUPLICATE", "products.csv:5:sku") in places
    expected = (FIXTURES / "import" / "bad-values" / "expected.txt").read_text().splitlines()
    assert len(caught.value.details) == len([line for line in expected if line])


def test_compile_diagnostics_come_back_to_their_rows():
    with pytest.raises(tarif.CompileError) as caught:
        tarif.Engine.import_tables(FIXTURES / "import" / "bad-compile" / "manifest.json")
    assert caught.value.code == "COMPILE_ERROR"
    unknown = [d for d in caught.value.details if d["code"] == "UNKNOWN_REFERENCE"]
    assert {(d["file"], d["row"], d["column"]) for d in unknown} == {
        ("products.csv", 3, "categories"),
        ("prices.csv", 4, "sku"),
        ("stock.csv", 2, "sku"),
    }


def test_bad_arguments_raise_input_errors():
    with pytest.raises(tarif.InputError):
        tarif.Engine.import_tables(42)
    with pytest.raises(tarif.InputError):
        tarif.Engine.import_tables(manifest(), tables={"products": [1, 2]})
