"""`tarif.dask` on a LocalCluster of two worker processes: the same answers, line for line, as
one process."""

import json

import pandas as pd
import pyarrow as pa
import pytest

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
dd = pytest.importorskip("dask.dataframe")

import tarif  # noqa: E402
import tarif.dask as tdask  # noqa: E402
from conftest import AT, SMALL  # noqa: E402

DEEPER = {
    "format": "tarif/1-changes",
    "upsert": {"rules": [{"contract": "acme", "id": "tools-10", "step": "discount", "products": {"category": "tools"}, "percent": "-20"}]},
}


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    path = tmp_path_factory.mktemp("rules") / "rules.json"
    path.write_text(json.dumps(SMALL))
    return path


def lines(n=400):
    accounts = ["ACME", "ACME-LYON", "NOBODY"]
    skus = ["DR-1", "CAB-1", "BOX-1", "HIDDEN-1", "MY-DRILL"]
    qtys = ["1", "2", "5", "10", "12.5"]
    return pd.DataFrame(
        {
            "line_id": range(n),
            "account": [accounts[i % 3] for i in range(n)],
            "sku": [skus[(i // 3) % 5] for i in range(n)],
            "qty": [qtys[(i // 7) % 5] for i in range(n)],
        }
    )


def test_reprice_equals_one_process(cluster, rules):
    frame = lines()
    priced = tdask.reprice(dd.from_pandas(frame, npartitions=4), rules, at=AT, detail=True).compute()
    assert cluster.run(lambda: 1)  # two live workers did the work
    priced = priced.sort_values("line_id").reset_index(drop=True)
    alone = tarif.Engine.from_path(rules).quote_many(pa.Table.from_pandas(frame), at=AT, detail=True, keep=True).to_pandas()
    assert list(priced["status"].astype(str)) == list(alone["status"].astype(str))
    for column in ("unit_price", "line_total", "base_price", "list_price", "cost"):
        got = [None if pd.isna(v) else v for v in priced[column]]
        want = [None if v is None or pd.isna(v) else v for v in alone[column]]
        assert got == want, column
    assert list(priced["rule"].fillna("")) == list(alone["rule"].fillna(""))


def test_simulate_equals_one_process(cluster, rules):
    frame = lines()
    sim = tdask.simulate(dd.from_pandas(frame, npartitions=3), rules, {"deeper": DEEPER}, at=AT)
    got = sim.lines.compute().sort_values(["scenario", "line_id"]).reset_index(drop=True)
    base = tarif.Engine.from_path(rules)
    alone = tarif.simulate(base, {"deeper": DEEPER}, pa.Table.from_pandas(frame), at=AT)
    want = alone.lines.to_pandas()
    want["scenario"] = want["scenario"].astype(str)
    want = want.sort_values(["scenario", "line_id"]).reset_index(drop=True)
    assert len(got) == len(want) == 2 * len(frame)
    for column in ("status", "unit_price", "line_total", "margin", "change", "rule"):
        g = [None if pd.isna(v) else (str(v) if column in ("status", "rule") else v) for v in got[column]]
        w = [None if v is None or pd.isna(v) else (str(v) if column in ("status", "rule") else v) for v in want[column]]
        assert g == w, column
    groups = alone.groups.to_pandas()
    assert list(sim.groups["by"]) == list(groups["by"])
    assert list(sim.groups["key"]) == list(groups["key"])
    assert list(sim.groups["scenario"].astype(str)) == list(groups["scenario"].astype(str))
    for column in ("lines", "priced", "revenue", "margin", "affected"):
        assert list(sim.groups[column]) == list(groups[column]), column


def test_simulate_groups_alone(cluster, rules):
    frame = lines()
    sim = tdask.simulate(dd.from_pandas(frame, npartitions=3), rules, {"deeper": DEEPER}, at=AT, per_line=False)
    assert sim.lines is None
    alone = tarif.simulate(tarif.Engine.from_path(rules), {"deeper": DEEPER}, pa.Table.from_pandas(frame), at=AT)
    groups = alone.groups.to_pandas()
    assert list(sim.groups["key"]) == list(groups["key"])
    for column in ("lines", "priced", "revenue", "margin", "affected"):
        assert list(sim.groups[column]) == list(groups[column]), column


def test_simulate_by_some_groupings(cluster, rules):
    frame = lines()
    sim = tdask.simulate(dd.from_pandas(frame, npartitions=3), rules, {"deeper": DEEPER}, at=AT, per_line=False, by=["segment"])
    alone = tarif.simulate(tarif.Engine.from_path(rules), {"deeper": DEEPER}, pa.Table.from_pandas(frame), at=AT, by=["segment"])
    groups = alone.groups.to_pandas()
    assert set(sim.groups["by"]) == {"segment"}
    assert list(sim.groups["key"]) == list(groups["key"])
    for column in ("lines", "revenue", "margin", "affected"):
        assert list(sim.groups[column]) == list(groups[column]), column
