"""`tarif.simulate`: scenarios side by side, margins, aggregates; and the account table."""

from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

import tarif
from conftest import AT

LINES = pa.table(
    {
        "account": ["ACME", "ACME", "ACME-LYON", "ACME", "NOBODY"],
        "sku": ["DR-1", "CAB-1", "DR-1", "BOX-1", "DR-1"],
        "qty": ["1", "10", "10", "5", "1"],
        "order_id": ["o-1", "o-2", "o-3", "o-4", "o-5"],
    }
)

DEEPER = {
    "format": "tarif/1-changes",
    "upsert": {
        "rules": [{"contract": "acme", "id": "tools-10", "step": "discount", "products": {"category": "tools"}, "percent": "-20"}]
    },
}


def test_scenarios_side_by_side(small):
    sim = tarif.simulate(small, {"deeper": DEEPER, "same": small}, LINES, at=AT)
    assert sim.scenarios == ("base", "deeper", "same")
    lines = sim.lines
    assert lines.num_rows == 3 * LINES.num_rows
    assert lines.column_names[:6] == ["scenario", "row", "account", "sku", "qty", "order_id"]
    rows = lines.to_pylist()
    base = [r for r in rows if r["scenario"] == "base"]
    deeper = [r for r in rows if r["scenario"] == "deeper"]
    same = [r for r in rows if r["scenario"] == "same"]
    # Each scenario's lines are what its engine quotes, one by one.
    engine = small.apply(DEEPER)
    for line, row in zip(LINES.to_pylist(), deeper):
        try:
            quote = engine.quote(line["account"], line["sku"], line["qty"], at=AT)
        except tarif.QuoteError as err:
            assert row["status"] == err.code
            continue
        assert (row["unit_price"], row["line_total"], row["rule"]) == (quote.unit_price, quote.line_total, quote.steps[-1].rule)
    # The drill (category tools, cost 50.00) is affected; the cable is not.
    assert deeper[0]["line_total"] == Decimal("103.20")
    assert deeper[0]["change"] == Decimal("-12.90")
    assert deeper[0]["margin"] == Decimal("53.20")
    assert deeper[1]["change"] == Decimal("0.00")
    assert deeper[1]["margin"] is None  # the cable has no cost
    assert all(r["change"] in (None, Decimal(0)) for r in same)
    assert base[4]["status"] == "UNKNOWN_ACCOUNT"


def test_aggregates(small):
    sim = tarif.simulate(small, {"deeper": DEEPER}, LINES, at=AT)
    groups = sim.groups.to_pylist()
    acme = {g["scenario"]: g for g in groups if g["by"] == "account" and g["key"] == "ACME"}
    assert acme["base"]["lines"] == 3 and acme["deeper"]["affected"] == 1
    assert acme["deeper"]["revenue"] - acme["base"]["revenue"] == Decimal("-12.90")
    # ACME-LYON's lines count under its root, ACME.
    root = {g["scenario"]: g for g in groups if g["by"] == "root" and g["key"] == "ACME"}
    assert root["base"]["lines"] == 4
    by_rule = sim.by("rule")
    assert "acme/tools-10" in by_rule.column("rule").to_pylist()
    by_account = sim.by("account").to_pylist()
    first = next(r for r in by_account if r["account"] == "ACME")
    assert first["revenue_change_deeper"] == Decimal("-12.90")
    with pytest.raises(ValueError):
        sim.by("colour")


def test_groups_alone_equal_the_groups_of_the_lines(small):
    """``per_line=False`` sums the lines a step at a time without the per-line table; a
    scenario made by ``apply`` reprices only the lines it reaches, one compiled whole every
    line: the groups are the same."""
    frame = pa.table({"account": ["ACME", "ACME", "NOBODY"], "sku": ["DR-1", "DR-1", "DR-1"], "qty": ["1", "2", "1"], "at": ["2025-12-31", AT, AT]})
    import pickle

    # A pickled engine is compiled again from its document: it does not know how it was made.
    whole = pickle.loads(pickle.dumps(small.apply(DEEPER)))
    scenarios = {"deeper": DEEPER, "whole": whole, "same": small}
    full = tarif.simulate(small, scenarios, LINES.select(["account", "sku", "qty"]), at=AT)
    alone = tarif.simulate(small, scenarios, LINES, at=AT, per_line=False)
    assert alone.lines is None
    assert alone.groups.equals(full.groups)
    stepped = tarif.simulate(small, scenarios, frame, per_line=False, floats=True)
    assert stepped.lines is None
    assert stepped.groups.equals(tarif.simulate(small, scenarios, frame, floats=True).groups)


def test_pandas_lines_per_row_instants_and_floats(small):
    frame = pd.DataFrame({"account": ["ACME", "ACME"], "sku": ["DR-1", "DR-1"], "qty": ["1", "1"], "at": ["2025-12-31", AT]})
    sim = tarif.simulate(small, {"deeper": DEEPER}, frame, floats=True)
    base = sim.lines.filter(pa.compute.equal(sim.lines["scenario"].cast(pa.string()), "base"))
    # Before the contract starts, no discount: the list price.
    assert base.column("unit_price").to_pylist() == pytest.approx([129.0, 116.1])
    assert pa.types.is_float64(sim.groups.schema.field("revenue").type)
    with pytest.raises(ValueError):
        tarif.simulate(small, {"base": DEEPER}, frame)
    with pytest.raises(tarif.InputError):
        tarif.simulate(small, {"deeper": DEEPER}, [("ACME", "DR-1", 1)])


def test_accounts_table(small):
    table = small.accounts_table()
    assert table.column_names == ["account", "parent", "root", "segments"]
    rows = {r["account"]: r for r in table.to_pylist()}
    assert rows["ACME-LYON"] == {"account": "ACME-LYON", "parent": "ACME", "root": "ACME", "segments": ["installers"]}
    assert rows["ACME"]["parent"] is None


def test_readme_block(sample):
    """The "Simulate a price change" block of bindings-python/README.md runs as written."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Simulate a price change", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    history = pa.table(
        {
            "account": ["I-VOLTA-LYON", "R-ELECDIS"],
            "sku": ["WD-LEG-CELIANE-SOCK-WH", "WD-LEG-CELIANE-SOCK-WH"],
            "qty": ["10", "10"],
            "at": ["2027-03-18", "2027-03-18"],
        }
    )
    scope = {"tarif": tarif, "engine": sample, "history": history}
    exec(compile(code, "README.md", "exec"), scope)
    sim = scope["sim"]
    changes = {r["segment"]: r["margin_change_wiring-25"] for r in sim.by("segment").to_pylist()}
    assert changes["installers"] < 0 and changes["resellers"] == 0


def _reference_by(sim, grouping):
    """`Simulation.by` as it was written in Python before the core pivoted the groups: the
    pivot must give the same table."""
    import pyarrow.compute as pc

    rows = sim.groups.filter(pc.equal(sim.groups["by"], grouping))
    keys = sorted(set(rows["key"].to_pylist()))
    out = {grouping: pa.array(keys, pa.string())}
    position = {key: i for i, key in enumerate(keys)}
    values = {}
    for name in sim.scenarios:
        mine = rows.filter(pc.equal(rows["scenario"].cast(pa.string()), name))
        for column in ("lines", "revenue", "margin", "affected"):
            column_values = [None] * len(keys)
            for key, value in zip(mine["key"].to_pylist(), mine[column].to_pylist()):
                column_values[position[key]] = value
            values[f"{column}_{name}"] = column_values
            out[f"{column}_{name}"] = pa.array(column_values, rows.schema.field(column).type)
    base = sim.scenarios[0]
    for name in sim.scenarios[1:]:
        for column in ("revenue", "margin"):
            after, before = values[f"{column}_{name}"], values[f"{column}_{base}"]
            change = [None if a is None or b is None else a - b for a, b in zip(after, before)]
            out[f"{column}_change_{name}"] = pa.array(change, rows.schema.field(column).type)
    return pa.table(out)


@pytest.mark.parametrize("grouping", ["account", "root", "segment", "category", "brand", "rule"])
def test_by_equals_the_python_pivot(small, grouping):
    sim = tarif.simulate(small, {"deeper": DEEPER, "same": small}, LINES, at=AT)
    got, want = sim.by(grouping), _reference_by(sim, grouping)
    assert got.schema.names == want.schema.names
    assert got.to_pylist() == want.to_pylist()
    assert [f.type for f in got.schema] == [f.type for f in want.schema]
    # With floats, the exact pivot cast by Arrow (which may land an ulp off Python's float()).
    floats = tarif.simulate(small, {"deeper": DEEPER, "same": small}, LINES, at=AT, floats=True).by(grouping)
    exact = [{k: float(v) if isinstance(v, Decimal) else v for k, v in row.items()} for row in got.to_pylist()]
    assert floats.to_pylist() == [{k: pytest.approx(v) if isinstance(v, float) else v for k, v in row.items()} for row in exact]
    assert all(pa.types.is_floating(f.type) for f in floats.schema if f.name.startswith(("revenue", "margin")))


def test_by_names_the_groupings(small):
    sim = tarif.simulate(small, {"deeper": DEEPER}, LINES, at=AT)
    with pytest.raises(ValueError, match="unknown grouping `colour`, expected one of account, root"):
        sim.by("colour")


@pytest.mark.parametrize("per_line", [True, False])
def test_by_computes_only_the_groupings_named(small, per_line):
    scenarios = {"deeper": DEEPER, "same": small}
    every = tarif.simulate(small, scenarios, LINES, at=AT, per_line=per_line).groups.to_pylist()
    some = tarif.simulate(small, scenarios, LINES, at=AT, per_line=per_line, by=["segment", "rule"])
    assert some.groups.to_pylist() == [g for g in every if g["by"] in ("segment", "rule")]
    assert some.groupings == ("segment", "rule")
    assert some.by("rule").num_rows > 0
    with pytest.raises(ValueError, match="did not compute the `account` groups"):
        some.by("account")
    with pytest.raises(ValueError, match="unknown grouping `colour`"):
        tarif.simulate(small, scenarios, LINES, at=AT, per_line=per_line, by=["colour"])


def test_by_nothing_gives_the_lines_without_groups(small):
    sim = tarif.simulate(small, {"deeper": DEEPER}, LINES, at=AT, by=[])
    assert sim.lines.num_rows == 2 * LINES.num_rows
    assert sim.groups.num_rows == 0
    with pytest.raises(ValueError, match="nothing to compute"):
        tarif.simulate(small, {"deeper": DEEPER}, LINES, at=AT, by=[], per_line=False)
