"""The request fixtures (tests/fixtures/requests/): bad values of every kind for every query get
the same codes here as in Rust and Node (tests/fixtures/README.md, "Request fixtures")."""

import json

import pytest

import tarif
from conftest import FIXTURES

FILES = sorted((FIXTURES / "requests").rglob("*.json"))
# Fewer than this means the fixtures went missing, not that they pass.
MIN_REQUESTS = 150
OPS = {"quote", "explain", "visibility", "lookup", "search", "related", "quote_many"}


def value(v):
    """A fixture value as the Python value it stands for."""
    if isinstance(v, dict) and set(v) == {"$bigint"}:
        return int(v["$bigint"])
    if isinstance(v, dict) and set(v) == {"$utf16"}:
        # chr() of a lone surrogate code unit gives the lone surrogate itself.
        return "".join(chr(u) for u in v["$utf16"])
    if isinstance(v, dict):
        return {k: value(x) for k, x in v.items()}
    if isinstance(v, list):
        return [value(x) for x in v]
    return v


def requests():
    for path in FILES:
        fixture = json.loads(path.read_text(encoding="utf-8"))
        for i, request in enumerate(fixture["requests"]):
            name = f"{path.relative_to(FIXTURES)} #{i} {request['op']}: {request['name']}"
            yield pytest.param(fixture["document"], request, id=name)


_engines: dict[str, tarif.Engine] = {}


def engine_for(document) -> tarif.Engine:
    key = json.dumps(document, sort_keys=True)
    if key not in _engines:
        _engines[key] = tarif.Engine.from_dict(document)
    return _engines[key]


def call(engine: tarif.Engine, op: str, args: dict) -> dict:
    a = {k: value(v) for k, v in args.items()}
    if op in ("quote", "explain"):
        kwargs = {k: a[k] for k in ("at", "currency") if k in a}
        answer = getattr(engine, op)(a["account"], a["ref"], a["qty"], **kwargs)
        if op == "explain":
            return {"ok": True, **({"outcome": answer.error_code} if answer.error_code else {})}
        return {"ok": True}
    if op in ("visibility", "lookup"):
        getattr(engine, op)(a["account"], a["ref"], **({"at": a["at"]} if "at" in a else {}))
        return {"ok": True}
    if op == "related":
        engine.related(a["account"], a["ref"], a["kind"], **({"at": a["at"]} if "at" in a else {}))
        return {"ok": True}
    if op == "search":
        page = engine.search(a["account"], **a.get("query", {}), **({"at": a["at"]} if "at" in a else {}))
        return {"ok": True, "prices": [row.price.status for row in page.rows if row.price is not None]}
    if op == "quote_many":
        kwargs = {k: a[k] for k in ("at", "currency") if k in a}
        table = engine.quote_many(a["accounts"], a["skus"], a["qtys"], **kwargs)
        return {"statuses": table.column("status").to_pylist()}
    raise AssertionError(f"unknown op {op}")


def answer(engine: tarif.Engine, op: str, args: dict) -> dict:
    try:
        return call(engine, op, args)
    except tarif.TarifError as err:
        out = {"error": err.code}
        if err.code == "QUANTITY_RULE":
            out["nearest"] = str(err.details["nearest"])
        return out


def test_request_fixtures_are_there():
    found = list(requests())
    assert len(found) >= MIN_REQUESTS
    assert {p.values[1]["op"] for p in found} == OPS


@pytest.mark.parametrize(("document", "request_"), list(requests()))
def test_request(document, request_):
    got = answer(engine_for(document), request_["op"], request_["args"])
    for key, want in request_["expect"].items():
        assert got.get(key) == want, f"{key}: expected {want!r}, got {got}"
