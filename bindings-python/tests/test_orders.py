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
        return out
    return {"sku": line.sku, "unit_price": str(line.unit_price), "line_total": str(line.line_total)}


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
            order = engine.price_order(
                case["account"],
                [
                    {
                        "ref": line["ref"],
                        "qty": line["qty"],
                        "cost_centre": line.get("cost_centre"),
                        "ship_to": line.get("ship_to"),
                    }
                    for line in case["lines"]
                ],
                at=case["at"],
                currency=case.get("currency"),
                user=case.get("user"),
                spent=case.get("spent"),
            )
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
            if key == "nearest":
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
