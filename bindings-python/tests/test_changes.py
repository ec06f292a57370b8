"""`Engine.apply`, `Engine.diff` and `tarif.EngineHandle`: the ERP sync loop from Python."""

import copy
import json
import threading
from decimal import Decimal

import pyarrow as pa
import pytest

import tarif
from conftest import AT, SMALL

RAISE_DRILL = {
    "format": "tarif/1-changes",
    "upsert": {"prices": [{"list": "public", "sku": "DR-1", "price": Decimal("139.00")}]},
}


def test_apply_returns_a_new_engine_and_leaves_the_old_one(small):
    new = small.apply(RAISE_DRILL)
    assert new.quote("ACME", "DR-1", 1, at=AT).unit_price == Decimal("125.10")
    assert small.quote("ACME", "DR-1", 1, at=AT).unit_price == Decimal("116.10")
    assert new.engine_version != small.engine_version


def test_apply_equals_compiling_the_merged_document(small):
    merged = copy.deepcopy(SMALL)
    # An upserted entry replaces the product's entries in the list whole (tiers included).
    merged["price_lists"][0]["prices"][0] = {"sku": "DR-1", "price": "139.00"}
    merged["products"].append({"sku": "NEW-1"})
    changes = copy.deepcopy(RAISE_DRILL)
    changes["upsert"]["products"] = [{"sku": "NEW-1"}]
    assert small.apply(json.dumps(changes, default=str)).engine_version == tarif.Engine.from_dict(merged).engine_version


def test_a_rejected_change_lists_every_problem_in_the_changes(small):
    bad = {
        "format": "tarif/1-changes",
        "upsert": {"products": [{"sku": "N", "cost": "x"}], "prices": [{"list": "public", "sku": "N", "price": "1O"}]},
    }
    with pytest.raises(tarif.CompileError) as info:
        small.apply(bad)
    assert info.value.code == "COMPILE_ERROR"
    found = {(d["code"], d["path"]) for d in info.value.details}
    assert found == {("INVALID_DECIMAL", "upsert.products[0].cost"), ("INVALID_DECIMAL", "upsert.prices[0].price")}
    with pytest.raises(tarif.CompileError) as info:
        small.apply({"format": "tarif/1-changes", "delete": {"accounts": ["NOPE"]}})
    assert [(d["code"], d["path"]) for d in info.value.details] == [("UNKNOWN_ID", "delete.accounts[0]")]
    with pytest.raises(tarif.CompileError) as info:
        small.apply({"format": "tarif/1-changes", "engine_version": "t1-0000000000000000"})
    assert info.value.details[0]["code"] == "VERSION_MISMATCH"


def test_apply_rejects_floats_and_non_json(small):
    with pytest.raises(tarif.InputError):
        small.apply({"format": "tarif/1-changes", "upsert": {"prices": [{"list": "public", "sku": "DR-1", "price": object()}]}})


def test_diff_lists_changed_entities(small):
    new = small.apply(
        {
            "format": "tarif/1-changes",
            "upsert": {"prices": [{"list": "public", "sku": "DR-1", "price": "139.00"}], "products": [{"sku": "NEW-1"}]},
            "delete": {"prices": [{"list": "public", "sku": "BOX-1"}]},
        }
    )
    changes = small.diff(new)
    assert [(c.kind, c.section, c.parent, c.id) for c in changes] == [
        ("added", "products", None, "NEW-1"),
        ("removed", "prices", "public", "BOX-1"),
        ("modified", "prices", "public", "DR-1"),
    ]
    assert repr(changes[2]) == "<EntityChange modified prices[public/DR-1]>"
    assert changes == small.diff(new) and len(set(changes)) == 3
    assert small.diff(small) == []


def test_diff_with_lines_returns_only_the_lines_that_changed(small):
    new = small.apply(RAISE_DRILL)
    lines = pa.table(
        {
            "account": ["ACME", "ACME", "ACME-LYON", "NOBODY"],
            "sku": ["DR-1", "CAB-1", "DR-1", "DR-1"],
            "qty": ["1", "2", "10", "1"],
        }
    )
    out = small.diff(new, lines, at=AT)
    assert out.column("row").to_pylist() == [0, 2]
    assert out.column("account").to_pylist() == ["ACME", "ACME-LYON"]
    assert out.column("before_unit_price").to_pylist() == [Decimal("116.10"), Decimal("107.10")]
    # The upsert replaces the entry whole: the 10-unit tier went with it.
    assert out.column("after_unit_price").to_pylist() == [Decimal("125.10"), Decimal("125.10")]
    assert out.column("after_line_total").to_pylist() == [Decimal("125.10"), Decimal("1251.00")]
    assert out.column("before_status").to_pylist() == ["OK", "OK"]
    # A change that changes nothing changes no line.
    same = small.apply({"format": "tarif/1-changes"})
    assert small.diff(same, lines, at=AT).num_rows == 0
    # Hiding a product shows as a status change.
    hide = small.apply(
        {
            "format": "tarif/1-changes",
            "delete": {"prices": [{"list": "public", "sku": "CAB-1"}]},
        }
    )
    out = small.diff(hide, lines, at=AT)
    assert out.column("row").to_pylist() == [1]
    assert out.column("after_status").to_pylist() == ["NO_PRICE"]
    assert out.column("after_unit_price").to_pylist() == [None]
    with pytest.raises(tarif.InputError):
        small.diff(new, [("ACME", "DR-1", 1)])


def test_the_handle_swaps_atomically_under_concurrent_readers(small):
    handle = tarif.EngineHandle(small)
    expected = {small.engine_version: small.quote("ACME", "DR-1", 1, at=AT).unit_price}
    versions = [small]
    for price in ("139.00", "149.00", "159.00", "169.00"):
        change = {"format": "tarif/1-changes", "upsert": {"prices": [{"list": "public", "sku": "DR-1", "price": price}]}}
        engine = versions[-1].apply(change)
        versions.append(engine)
        expected[engine.engine_version] = engine.quote("ACME", "DR-1", 1, at=AT).unit_price
    seen = []
    stop = threading.Event()
    errors = []

    def read():
        try:
            while not stop.is_set():
                quote = handle.quote("ACME", "DR-1", 1, at=AT)
                # The price always belongs to the version the answer names.
                assert expected[quote.engine_version] == quote.unit_price
                seen.append(quote.engine_version)
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    readers = [threading.Thread(target=read) for _ in range(4)]
    for t in readers:
        t.start()
    for price in ("139.00", "149.00", "159.00", "169.00"):
        handle.apply({"format": "tarif/1-changes", "upsert": {"prices": [{"list": "public", "sku": "DR-1", "price": price}]}})
    # A failed change keeps the current engine serving.
    current = handle.engine_version
    with pytest.raises(tarif.CompileError):
        handle.apply({"format": "tarif/1-changes", "delete": {"products": ["NOPE"]}})
    assert handle.engine_version == current == versions[-1].engine_version
    stop.set()
    for t in readers:
        t.join()
    assert errors == []
    assert set(seen) <= set(expected)
    assert handle.swap(small) is not None
    assert handle.engine_version == small.engine_version
    assert "EngineHandle" in repr(handle)


def test_handle_reload_from_a_file(small, tmp_path):
    path = tmp_path / "rules.json"
    doc = copy.deepcopy(SMALL)
    doc["price_lists"][0]["prices"][0]["price"] = "99.00"
    path.write_text(json.dumps(doc))
    handle = tarif.EngineHandle(small)
    engine = handle.reload(path)
    assert handle.engine is engine
    assert handle.quote("ACME", "DR-1", 1, at=AT).unit_price == Decimal("89.10")


def test_handle_reload_from_a_snapshot(small, tmp_path):
    changed = small.apply(RAISE_DRILL)
    changed.save(tmp_path / "rules.snap")
    assert tarif.Engine.from_path(tmp_path / "rules.snap").engine_version == changed.engine_version
    handle = tarif.EngineHandle(small)
    handle.reload(tmp_path / "rules.snap")
    assert handle.engine_version == changed.engine_version
    # The reopened engine keeps its document: changes apply to it as to the original.
    again = handle.apply({"format": "tarif/1-changes", "upsert": {"products": [{"sku": "NEW-1"}]}})
    assert again.engine_version == changed.apply({"format": "tarif/1-changes", "upsert": {"products": [{"sku": "NEW-1"}]}}).engine_version


def test_pickling_keeps_working_without_a_second_copy_of_the_document(small):
    import pickle

    again = pickle.loads(pickle.dumps(small.apply(RAISE_DRILL)))
    assert again.quote("ACME", "DR-1", 1, at=AT).unit_price == Decimal("125.10")


def test_readme_sync_loop(tmp_path, monkeypatch, capsys):
    """The ERP sync loop of the README runs as written on the sample document."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Keeping in step with the ERP", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    doc = json.loads(tarif.sample_document())
    doc["products"].append({"sku": "DRL-OLD-1"})
    (tmp_path / "rules.json").write_text(json.dumps(doc))
    monkeypatch.chdir(tmp_path)
    orders = pa.table({"account": ["R-ELECDIS"], "sku": ["DRL-MAK-DHP487-K5-L"], "qty": ["1"]})
    scope = {"orders": orders}
    exec(compile(code, "README.md", "exec"), scope)
    printed = capsys.readouterr().out
    assert "<EntityChange modified prices[list-eur/DRL-MAK-DHP487-K5-L]>" in printed
    assert "<EntityChange removed products[DRL-OLD-1]>" in printed
    assert scope["moved"].num_rows == 1
    assert scope["handle"].engine is scope["after"]
