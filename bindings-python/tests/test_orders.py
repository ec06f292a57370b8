"""Orders through Python: the shared order fixtures (tests/fixtures/orders/) give the same
answers as in Rust and Node, and the Python surface takes the lines buyers' code has."""

import json
from decimal import Decimal

import pytest

import tarif
from conftest import FIXTURES

FILES = sorted((FIXTURES / "orders").glob("*.json"))


def cases():
    for path in FILES:
        fixture = json.loads(path.read_text(encoding="utf-8"))
        for i, case in enumerate(fixture["orders"]):
            yield pytest.param(fixture["document"], case, id=f"{path.name} #{i} {case['name']}")


_engines: dict[str, tarif.Engine] = {}


def engine_for(document) -> tarif.Engine:
    key = json.dumps(document, sort_keys=True)
    if key not in _engines:
        _engines[key] = tarif.Engine.from_dict(document)
    return _engines[key]


def line_json(line):
    if isinstance(line, tarif.LineError):
        out = {"error": line.code}
        if line.code == "QUANTITY_RULE":
            out["nearest"] = str(line.details["nearest"])
        if line.code == "PRICE_BOUND":
            out.update(
                bound=line.details["bound"],
                limit=str(line.details["limit"]),
                rule=line.details["rule"],
            )
        return out
    return {"sku": line.sku, "unit_price": str(line.unit_price), "line_total": str(line.line_total)}


def order_lines(case):
    return [
        {
            "ref": line["ref"],
            "qty": line["qty"],
            "cost_centre": line.get("cost_centre"),
            "ship_to": line.get("ship_to"),
        }
        for line in case["lines"]
    ]


def order_json(order):
    approval = order.approval
    return {
        "currency": order.currency,
        "subtotal": str(order.subtotal),
        "adjustments": [
            {"id": a.id, "kind": a.kind, "amount": str(a.amount), "ship_to": a.ship_to}
            for a in order.adjustments
        ],
        "total": str(order.total),
        "lines": [line_json(line) for line in order.lines],
        "approval": {
            "decision": approval["decision"],
            "reasons": [
                {k: reason[k] for k in ("rule", "kind", "approvers")}
                for reason in approval["reasons"]
            ],
        },
        "allocated": [str(a) for a in order.allocated],
    }


def quoted_json(order):
    out = order_json(order)
    out["overrides"] = [
        None if o is None else {
            "origin": o["origin"],
            "rules_unit_price": None if o["rules_unit_price"] is None else str(o["rules_unit_price"]),
            "rules_line_total": None if o["rules_line_total"] is None else str(o["rules_line_total"]),
        }
        for o in order.overrides
    ]
    if order.placed_quote is not None:
        out["placed_quote"] = {k: order.placed_quote[k] for k in ("number", "rules_changed")}
    return out


def prepare(engine, case, key):
    return engine.prepare_quote(
        case["account"],
        order_lines(case),
        valid_until=case["valid_until"],
        key=key,
        manual_prices=case.get("manual_prices"),
        at=case["at"],
        currency=case.get("currency"),
        number=case.get("number"),
    )


def quote_answer(engine, case):
    """`prepare_quote` and `place_quote` cases, as tests/fixtures/orders/sales_quotes.json
    describes them."""
    if case["op"] == "prepare_quote":
        prepared = prepare(engine, case, case["key"])
        out = quoted_json(prepared.order)
        out["signed"] = prepared.document is not None
        if prepared.document is not None:
            quote = json.loads(prepared.document)
            out["quote"] = {
                "number": quote["number"],
                "total": quote["total"],
                "lines": [
                    {k: line[k] for k in ("sku", "unit_price", "line_total", "allocated", "manual")}
                    for line in quote["lines"]
                ],
            }
        return out
    document = prepare(engine, case["prepare"], case["key"]).document
    if "tamper" in case:
        before, after = case["tamper"]
        assert before in document
        document = document.replace(before, after)
    today = engine_for(case["rules"]) if "rules" in case else engine
    placed = today.place_quote(
        document,
        key=case.get("place_key", case["key"]),
        at=case["at"],
        user=case.get("user"),
        spent=case.get("spent"),
    )
    return quoted_json(placed)


def text_line_json(line):
    out = {
        "line": line.line,
        "merged": list(line.merged),
        "ref": line.reference,
        "sku": line.sku,
        "qty": None if line.qty is None else str(line.qty),
        "cost_centre": line.cost_centre,
        "ship_to": line.ship_to,
        "error": None if line.error is None else line.error.code,
    }
    if line.error is not None and line.error.code == "QUANTITY_RULE":
        out["nearest"] = str(line.error.details["nearest"])
    return out


def answer(engine, case):
    try:
        if case["op"] == "price_order":
            return order_json(
                engine.price_order(
                    case["account"],
                    order_lines(case),
                    at=case["at"],
                    currency=case.get("currency"),
                    user=case.get("user"),
                    spent=case.get("spent"),
                )
            )
        if case["op"] in ("prepare_quote", "place_quote"):
            return quote_answer(engine, case)
        parsed = engine.parse_order_lines(
            case["account"], case["text"], at=case["at"],
            merge_duplicates=case.get("merge_duplicates", True),
        )
        return {
            "format": parsed.format,
            "header": parsed.header,
            "lines": [text_line_json(line) for line in parsed.lines],
        }
    except tarif.QuoteError as err:
        return {"error": err.code}


def check(expect, got, path="answer"):
    """Every key an expected object lists must match; arrays match in length and order;
    `nearest` compares as a decimal value."""
    if isinstance(expect, dict):
        assert isinstance(got, dict), f"{path}: expected {expect}, got {got}"
        for key, want in expect.items():
            assert key in got, f"{path}.{key}: missing in {got}"
            if key in ("nearest", "limit"):
                assert Decimal(got[key]) == Decimal(want), f"{path}.{key}: {got[key]} != {want}"
            else:
                check(want, got[key], f"{path}.{key}")
    elif isinstance(expect, list):
        assert isinstance(got, list) and len(got) == len(expect), f"{path}: expected {expect}, got {got}"
        for i, (want, have) in enumerate(zip(expect, got)):
            check(want, have, f"{path}[{i}]")
    else:
        assert got == expect, f"{path}: expected {expect!r}, got {got!r}"


def test_order_fixtures_are_there():
    assert len(list(cases())) >= 24


@pytest.mark.parametrize(("document", "case"), list(cases()))
def test_order_fixture(document, case):
    check(case["expect"], answer(engine_for(document), case))


@pytest.fixture(scope="module")
def orders():
    path = FIXTURES / "orders" / "orders.json"
    return engine_for(json.loads(path.read_text(encoding="utf-8"))["document"])


AT = "2026-03-01T00:00:00Z"


def test_lines_are_tuples_or_mappings_with_exact_quantities(orders):
    order = orders.price_order(
        "SITE",
        [
            ("perceuse", 2),
            {"ref": "CAB-R", "qty": Decimal("10"), "cost_centre": "ATELIER"},
            {"sku": "BAT-2", "qty": "12"},
        ],
        at=AT,
    )
    assert [line.line_total for line in order.lines] == [Decimal("258.00"), Decimal("25.00"), Decimal("540.00")]
    assert order.subtotal == order.total == Decimal("823.00")
    assert order.failed_lines == 0
    assert order.engine_version == orders.engine_version
    assert order.at.isoformat() == "2026-03-01T00:00:00+00:00"
    assert "PricedOrder(lines=3" in repr(order)


def test_a_failed_line_is_a_value_with_code_message_and_details(orders):
    order = orders.price_order("SITE", [("CAB-B", 7), ("NB-1", 1), ("CAB-R", "ten")], at=AT)
    rule, not_buyable, unreadable = order.lines
    assert rule.code == "QUANTITY_RULE"
    assert rule.details == {"sku": "CAB-B", "qty": Decimal("7"), "nearest": Decimal("10")}
    assert "nearest valid quantity is `10`" in rule.message
    assert not_buyable.code == "NOT_BUYABLE" and not_buyable.details == {"sku": "NB-1"}
    assert unreadable.code == "INVALID_QUANTITY" and "`ten`" in unreadable.message
    assert order.subtotal == 0 and order.failed_lines == 3


def test_the_order_as_a_whole_fails_with_a_quote_error(orders):
    with pytest.raises(tarif.QuoteError) as err:
        orders.price_order("NOBODY", [("DR-1", 1)], at="not a date")
    assert err.value.code == "UNKNOWN_ACCOUNT"
    with pytest.raises(tarif.QuoteError) as err:
        orders.price_order("SITE", [("DR-1", 1)], at="not a date")
    assert err.value.code == "INVALID_INSTANT"


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        ([("DR-1", 1.5)], "FLOAT_REJECTED"),
        ([("DR-1",)], "INVALID_TYPE"),
        ([{"qty": 1}], "INVALID_TYPE"),
        ([(1, 1)], "INVALID_TYPE"),
        (42, "INVALID_TYPE"),
    ],
)
def test_lines_of_the_wrong_type_reject_the_call(orders, lines, code):
    with pytest.raises(tarif.InputError) as err:
        orders.price_order("SITE", lines, at=AT)
    assert err.value.code == code


def test_parsed_text_prices_as_an_order(orders):
    parsed = orders.parse_order_lines(
        "SITE", "Référence;Qté\nperceuse;1\nNOPE;2\n3401234567890;1\nCAB-R;15\n", at=AT
    )
    assert (parsed.format, parsed.header) == (";", True)
    first = parsed.lines[0]
    assert (first.line, first.merged, first.sku, first.qty) == (2, [4], "DR-1", Decimal("2"))
    assert parsed.lines[1].error.code == "UNKNOWN_PRODUCT"
    assert parsed.lines[1].error.details == {"ref": "NOPE"}
    order = orders.price_order("SITE", parsed.order_lines(), at=AT)
    assert [line.sku for line in order.lines] == ["DR-1", "CAB-R"]
    assert order.total == Decimal("295.50")
    assert repr(parsed) == 'OrderText(format=";", header=True, lines=3, failed_lines=1)'


def test_unreadable_text_is_a_quote_error(orders):
    with pytest.raises(tarif.QuoteError) as err:
        orders.parse_order_lines("SITE", "Qté;Désignation\n1;x\n", at=AT)
    assert err.value.code == "INVALID_ORDER_TEXT"
    assert "`Qté, Désignation`" in str(err.value)


def test_spent_rejects_a_float():
    engine = engine_for(json.loads((FIXTURES / "orders" / "approvals.json").read_text())["document"])
    with pytest.raises(tarif.TarifError) as err:
        engine.price_order("SITE", [("CAB", 1)], user="bob", spent={"CC-1": 9.5})
    assert err.value.code == "FLOAT_REJECTED"


def test_an_unknown_user_names_the_user():
    engine = engine_for(json.loads((FIXTURES / "orders" / "approvals.json").read_text())["document"])
    with pytest.raises(tarif.QuoteError) as err:
        engine.price_order("SITE", [("CAB", 1)], user="zoe")
    assert (err.value.code, err.value.details) == ("UNKNOWN_USER", {"user": "zoe"})
    with pytest.raises(tarif.QuoteError) as err:
        engine.explain_order("SITE", [("CAB", 1)], user="zoe")
    assert err.value.code == "UNKNOWN_USER"


def test_explain_order_decides_the_approval_as_price_order_does():
    fixture = json.loads((FIXTURES / "orders" / "approvals.json").read_text())
    engine = engine_for(fixture["document"])
    for case in fixture["orders"]:
        if case["op"] != "price_order" or "error" in case["expect"]:
            continue
        args = dict(at=case["at"], currency=case.get("currency"), user=case.get("user"),
                    spent=case.get("spent"))
        priced = engine.price_order(case["account"], order_lines(case), **args)
        explained = engine.explain_order(case["account"], order_lines(case), **args)
        assert explained.approval == priced.approval, case["name"]


def test_order_conditions_explained_and_refusals_carry_what_is_missing():
    path = FIXTURES / "orders" / "conditions.json"
    engine = tarif.Engine.from_dict(json.loads(path.read_text(encoding="utf-8"))["document"])
    why = engine.explain_order("SITE", [("A", 10), ("B", 5), ("C", 6)], at=AT)
    assert why.total == Decimal("480.20") and why.allocated == [Decimal("2.00"), Decimal("3.00"), Decimal("4.80")]
    assert [a.id for a in why.adjustments] == ["key/d2"]
    reports = {c.id: c for c in why.conditions}
    assert reports["key/d2"].applied and reports["key/d2"].kind == "order_discount"
    assert "below its threshold `500.00`" in reports["key/d5"].reason
    assert "not valid" in reports["key-winter/half"].reason
    assert isinstance(why.lines[0], tarif.Explanation) and why.refused is None
    with pytest.raises(tarif.QuoteError) as err:
        engine.price_order("STRICT", [("A", 9)], at=AT)
    assert err.value.code == "MINIMUM_ORDER"
    assert err.value.details == {"minimum": Decimal("100.00"), "missing": Decimal("10.00")}
    assert engine.explain_order("STRICT", [("A", 9)], at=AT).refused.code == "MINIMUM_ORDER"


def sales_quote_engine():
    fixture = json.loads((FIXTURES / "orders" / "sales_quotes.json").read_text(encoding="utf-8"))
    return engine_for(fixture["document"])


def test_a_quote_takes_exact_manual_prices_and_bytes_or_str_keys():
    engine = sales_quote_engine()
    lines = [("A", 10), ("C", Decimal("4"))]
    for key in (b"sixteen bytes ok", "sixteen bytes ok"):
        prepared = engine.prepare_quote(
            "SITE", lines, valid_until="2026-04-01", key=key, at="2026-03-01",
            manual_prices=[Decimal("9.5")],
        )
        assert prepared.order.lines[0].unit_price == Decimal("9.50")
        assert prepared.order.overrides[0]["origin"] == "manual"
        placed = engine.place_quote(prepared.document, key=b"sixteen bytes ok", at="2026-03-02")
        assert placed.total == prepared.order.total
        assert placed.placed_quote["rules_changed"] is False
    with pytest.raises(tarif.InputError) as err:
        engine.prepare_quote("SITE", lines, valid_until="2026-04-01", key="sixteen bytes ok",
                             manual_prices=[9.5])
    assert err.value.code == "FLOAT_REJECTED"
    with pytest.raises(tarif.InputError):
        engine.prepare_quote("SITE", lines, valid_until="2026-04-01", key=16)


def test_a_refused_quote_names_its_code_and_what_is_wrong():
    engine = sales_quote_engine()
    prepared = engine.prepare_quote(
        "SITE", [("A", 1)], valid_until="2026-04-01", key="sixteen bytes ok", at="2026-03-01",
        manual_prices=["7"],
    )
    error = prepared.order.lines[0]
    assert error.code == "PRICE_BOUND"
    assert error.details == {
        "sku": "A", "price": Decimal("7"), "bound": "min_margin_pct",
        "limit": Decimal("7.5"), "rule": "limits/a-margin",
    }
    assert prepared.document is None
    with pytest.raises(tarif.QuoteError) as err:
        engine.place_quote('{"format": "tarif/1-quote"}', key="sixteen bytes ok")
    assert err.value.code == "QUOTE_INVALID"
    with pytest.raises(tarif.QuoteError) as err:
        engine.prepare_quote("SITE", [("A", 1)], valid_until="2026-04-01", key="short")
    assert (err.value.code, err.value.details) == ("QUOTE_KEY", {"key_len": 5})


def test_readme_block():
    """The "Orders, quick orders and sales quotes" block of bindings-python/README.md runs as
    written."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Orders, quick orders and sales quotes", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    engine = tarif.Engine.from_json(tarif.sample_document())
    scope = {"tarif": tarif, "engine": engine, "AT": "2027-03-18T10:00:00+01:00"}
    exec(compile(code, "README.md", "exec"), scope)
    parsed, order, placed = scope["parsed"], scope["order"], scope["placed"]
    assert [line.error and line.error.code for line in parsed.lines] == [None, None, "UNKNOWN_PRODUCT"]
    assert order.approval["decision"] == "needs_approval"
    assert scope["quote"].order.lines[0].unit_price == Decimal("13.90")
    assert placed.total == scope["quote"].order.total
    assert placed.placed_quote["rules_changed"] is False
