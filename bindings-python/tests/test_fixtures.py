"""The shared fixtures (tests/fixtures/**.json) through Python: the same answers, to the
printed digit, as the Rust engine gives them (see tests/fixtures/README.md)."""

import json
from decimal import Decimal

import pytest

import tarif
from conftest import FIXTURES

# import/ holds tables and manifests for the importer (test_import.py), not cases.
FILES = sorted(p for p in FIXTURES.rglob("*.json") if "import" not in p.relative_to(FIXTURES).parts)
# Fewer than this means fixtures went missing, not that they pass.
MIN_CASES = 70


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def diagnostic_files():
    for path in FILES:
        fixture = load(path)
        spec = fixture.get("compile") or (fixture if "warnings" in fixture else None)
        if spec is not None:
            yield pytest.param(fixture["document"], spec, id=str(path.relative_to(FIXTURES)))


def cases():
    for path in FILES:
        fixture = load(path)
        for i, case in enumerate(fixture.get("cases", [])):
            name = f"{path.relative_to(FIXTURES)} #{i} {case.get('name', '')}"
            yield pytest.param(fixture["document"], case, id=name)


def test_fixtures_are_there():
    assert FILES, f"no fixture under {FIXTURES}"
    assert len(list(cases())) >= MIN_CASES
    ops = {case.values[1]["op"] for case in cases()}
    assert {"quote", "visibility", "lookup", "search", "related"} <= ops, ops


@pytest.mark.parametrize(("document", "spec"), list(diagnostic_files()))
def test_diagnostics(document, spec):
    try:
        engine = tarif.Engine.from_dict(document)
        reported = {(d.code, d.path) for d in engine.diagnostics}
    except tarif.CompileError as err:
        reported = {(d["code"], d["path"]) for d in err.details}
    for key in ("errors", "warnings"):
        for expected in spec.get(key, []):
            assert (expected["code"], expected["path"]) in reported, reported


_engines: dict[str, tarif.Engine] = {}


def engine_for(document) -> tarif.Engine:
    key = json.dumps(document, sort_keys=True)
    if key not in _engines:
        _engines[key] = tarif.Engine.from_dict(document)
    return _engines[key]


def search_kwargs(query) -> dict:
    """The fixture's query (tests/fixtures/README.md) as `Engine.search` keywords: the dicts of
    filters, sort and facets are the binding's own format."""
    kwargs = {k: v for k, v in query.items() if k != "prices"}
    if "prices" in query:
        kwargs["price_qty"] = query["prices"]["qty"]
        kwargs["currency"] = query["prices"].get("currency")
    return kwargs


def search_answer(engine: tarif.Engine, case) -> dict:
    query = case.get("query", {})
    kwargs = search_kwargs(query)
    page = engine.search(case["account"], at=case["at"], **kwargs)
    out = {
        "total": page.total,
        "skus": page.skus(),
        "facets": {f.name: f.counts for f in page.facets},
    }
    if query.get("group_variants"):
        out["variants"] = [[v.sku for v in row.variants] for row in page.rows]
    if "prices" in query:
        out["prices"] = [str(r.price.unit_price) if r.price.ok else r.price.status for r in page.rows]
    if "walk" in case:
        walked, cursor = [], None
        while True:
            step = engine.search(
                case["account"], at=case["at"], **{**kwargs, "offset": 0, "limit": case["walk"], "cursor": cursor}
            )
            walked += step.skus()
            if step.next is None:
                break
            cursor = step.next
        out["walk"] = walked
    return out


def answer(engine: tarif.Engine, case) -> dict:
    op, account, at = case["op"], case["account"], case["at"]
    try:
        if op == "search":
            return search_answer(engine, case)
        if op == "related":
            return {"skus": [r.sku for r in engine.related(account, case["ref"], case["kind"], at=at)]}
        ref = case["ref"]
        if op == "quote":
            q = engine.quote(account, ref, case["qty"], at=at, currency=case.get("currency"))
            return {
                "sku": q.sku,
                "currency": q.currency,
                "unit_price": str(q.unit_price),
                "line_total": str(q.line_total),
                "base_price": str(q.base_price),
                "list_price": None if q.list_price is None else str(q.list_price),
                "buyable": q.buyable,
                "applied": [s.rule for s in q.steps],
                "stock": None
                if q.stock is None
                else {
                    "available": str(q.stock.available),
                    "backorder": str(q.stock.backorder),
                    "lead_time_days": q.stock.lead_time_days,
                },
            }
        if op == "visibility":
            caps = engine.visibility(account, ref, at=at)
            return {"see": caps.see, "price": caps.price, "buy": caps.buy}
        if op == "lookup":
            return {"sku": engine.lookup(account, ref, at=at)}
    except tarif.QuoteError as err:
        out = {"error": err.code}
        if "nearest" in err.details:
            out["nearest"] = str(err.details["nearest"])
        return out
    raise AssertionError(f"unknown op {op}")


@pytest.mark.parametrize(("document", "case"), list(cases()))
def test_case(document, case):
    got = answer(engine_for(document), case)
    for key, want in case["expect"].items():
        assert key in got, f"{key} missing from {got}"
        if key == "nearest":
            assert Decimal(got[key]) == Decimal(str(want)), got
        else:
            assert got[key] == want, f"{key}: expected {want!r}, got {got[key]!r} ({case.get('why', '')})"
