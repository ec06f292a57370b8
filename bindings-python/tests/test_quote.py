"""Single queries: Decimal in and out, floats refused, instants, errors and their codes."""

import copy
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pytest

import tarif
from conftest import AT, SMALL


def test_quote_is_decimal_and_exact(small):
    q = small.quote("ACME", "DR-1", 3, at=AT)
    assert q.sku == "DR-1"
    assert q.currency == "EUR"
    assert isinstance(q.unit_price, Decimal)
    assert str(q.unit_price) == "116.10"
    assert str(q.line_total) == "348.30"
    assert str(q.base_price) == "129.00"
    assert str(q.list_price) == "129.00"
    assert q.qty == Decimal("3")
    assert q.buyable is True
    assert q.stage == "unit"
    assert q.engine_version == small.engine_version
    assert [s.rule for s in q.steps] == ["public/DR-1", "acme/tools-10"]
    first, second = q.steps
    assert first.before is None and first.after == Decimal("129.00")
    assert second.before == Decimal("129.00") and second.step == "discount"
    assert (second.source, second.level) == ("contract acme", "account ACME")
    assert isinstance(first.notes, tuple)


def test_quantities_accept_decimal_int_str_and_numpy_ints(small):
    expected = small.quote("ACME", "CAB-1", Decimal("2.5"), at=AT).line_total
    assert expected == Decimal("4.975")
    assert small.quote("ACME", "CAB-1", "2.5", at=AT).line_total == expected
    assert small.quote("ACME", "CAB-1", Decimal("25E-1"), at=AT).line_total == expected
    assert small.quote("ACME", "DR-1", np.int64(2), at=AT).line_total == small.quote("ACME", "DR-1", 2, at=AT).line_total


@pytest.mark.parametrize("qty", [2.5, 2.0, np.float64(2.0), np.float32(2.0)])
def test_float_quantity_is_a_type_error_that_says_why(small, qty):
    with pytest.raises(TypeError, match="float") as info:
        small.quote("ACME", "DR-1", qty, at=AT)
    assert isinstance(info.value, tarif.InputError)
    assert info.value.code == "FLOAT_REJECTED"
    assert "Decimal" in str(info.value)


@pytest.mark.parametrize("qty", [True, None, [1], object()])
def test_other_quantity_types_are_input_errors(small, qty):
    with pytest.raises(tarif.InputError) as info:
        small.quote("ACME", "DR-1", qty, at=AT)
    assert info.value.code == "INVALID_TYPE"


@pytest.mark.parametrize("qty", ["abc", "1e3", "", Decimal("NaN"), Decimal("Infinity")])
def test_unreadable_quantities_are_the_cores_error(small, qty):
    with pytest.raises(tarif.QuoteError) as info:
        small.quote("ACME", "DR-1", qty, at=AT)
    assert info.value.code == "INVALID_QUANTITY"
    assert info.value.details == {"qty": str(qty)}
    # The core's precedence holds: the account is checked before the quantity.
    with pytest.raises(tarif.QuoteError) as info:
        small.quote("NOBODY", "DR-1", qty, at=AT)
    assert info.value.code == "UNKNOWN_ACCOUNT"


@pytest.mark.parametrize("qty", [0, -1, "0", Decimal("-2")])
def test_non_positive_quantities_are_the_cores_error(small, qty):
    with pytest.raises(tarif.QuoteError) as info:
        small.quote("ACME", "DR-1", qty, at=AT)
    assert info.value.code == "INVALID_QUANTITY"


def test_instants(small):
    paris = timezone(timedelta(hours=1))
    by_text = small.quote("ACME", "DR-1", 1, at="2026-03-01T13:00:00+01:00")
    by_datetime = small.quote("ACME", "DR-1", 1, at=datetime(2026, 3, 1, 13, tzinfo=paris))
    assert by_text == by_datetime
    # Before the contract starts (2026-01-01 in Europe/Paris) no discount applies.
    before = small.quote("ACME", "DR-1", 1, at=datetime(2025, 12, 31, 22, 59, 59, tzinfo=timezone.utc))
    start = small.quote("ACME", "DR-1", 1, at=datetime(2025, 12, 31, 23, 0, 0, tzinfo=timezone.utc))
    assert before.unit_price == Decimal("129.00")
    assert start.unit_price == Decimal("116.10")
    # A date means the start of that day in the document's timezone (Europe/Paris).
    assert small.quote("ACME", "DR-1", 1, at=date(2026, 1, 1)) == start
    assert small.quote("ACME", "DR-1", 1, at="2026-01-01") == start
    # Default: now.
    assert small.quote("ACME", "DR-1", 1).unit_price == Decimal("116.10")


def test_naive_datetime_is_refused(small):
    with pytest.raises(tarif.InputError) as info:
        small.quote("ACME", "DR-1", 1, at=datetime(2026, 3, 1, 12))
    assert info.value.code == "NAIVE_DATETIME"
    assert "tzinfo" in str(info.value)


def test_bad_instants(small):
    with pytest.raises(tarif.QuoteError) as info:
        small.quote("ACME", "DR-1", 1, at="yesterday")
    assert info.value.code == "INVALID_INSTANT"
    assert info.value.details == {"at": "yesterday"}
    with pytest.raises(tarif.InputError) as info:
        small.quote("ACME", "DR-1", 1, at=1767225600)
    assert info.value.code == "INVALID_TYPE"


def test_error_codes_and_details(small):
    def error(*args, **kwargs):
        with pytest.raises(tarif.QuoteError) as info:
            small.quote(*args, at=AT, **kwargs)
        assert isinstance(info.value, tarif.TarifError)
        return info.value

    e = error("NOBODY", "DR-1", 1)
    assert (e.code, e.details) == ("UNKNOWN_ACCOUNT", {"account": "NOBODY"})
    assert "NOBODY" in str(e)
    assert error("ACME", "NOPE", 1).code == "UNKNOWN_PRODUCT"
    # A hidden product does not exist for the account.
    assert error("ACME", "HIDDEN-1", 1).code == "UNKNOWN_PRODUCT"
    e = error("ACME", "UNPRICED-1", 1)
    assert e.code == "NO_PRICE" and e.details["sku"] == "UNPRICED-1"
    e = error("ACME", "BOX-1", 7)
    assert e.code == "QUANTITY_RULE"
    assert e.details["nearest"] in (Decimal(5), Decimal(10))
    assert isinstance(e.details["nearest"], Decimal)
    e = error("ACME", "DR-1", 1, currency="GBP")
    assert (e.code, e.details) == ("UNKNOWN_CURRENCY", {"currency": "GBP"})


def test_account_is_checked_before_the_instant(small):
    with pytest.raises(tarif.QuoteError) as info:
        small.quote("NOBODY", "DR-1", 1, at="not-an-instant")
    assert info.value.code == "UNKNOWN_ACCOUNT"


def test_currency(small):
    usd = small.quote("ACME", "DR-1", 1, at=AT, currency="USD")
    assert usd.currency == "USD"
    assert usd.base_price == Decimal("140.00")


def test_errors_pickle_with_their_code():
    import pickle

    err = tarif.QuoteError("unknown account `X`", "UNKNOWN_ACCOUNT", {"account": "X"})
    back = pickle.loads(pickle.dumps(err))
    assert (type(back), back.code, back.details, str(back)) == (tarif.QuoteError, "UNKNOWN_ACCOUNT", {"account": "X"}, str(err))


def test_results_are_frozen(small):
    q = small.quote("ACME", "DR-1", 1, at=AT)
    with pytest.raises(AttributeError):
        q.unit_price = Decimal(0)
    with pytest.raises(AttributeError):
        q.steps[0].after = Decimal(0)
    caps = small.visibility("ACME", "DR-1", at=AT)
    with pytest.raises(AttributeError):
        caps.buy = False
    assert q == small.quote("ACME", "DR-1", 1, at=AT)
    assert hash(q) == hash(small.quote("ACME", "DR-1", 1, at=AT))
    assert "116.10" in repr(q)


def test_visibility_and_lookup(small):
    caps = small.visibility("ACME", "DR-1", at=AT)
    assert (caps.see, caps.price, caps.buy) == (True, True, True)
    assert small.visibility("ACME", "HIDDEN-1", at=AT) == small.visibility("ACME", "hidden-1", at=AT)
    assert not small.visibility("ACME", "HIDDEN-1", at=AT).see
    assert small.visibility("ACME-LYON", "HIDDEN-1", at="2025-06-01").see
    assert small.lookup("ACME-LYON", " my-drill ") == "DR-1"
    assert small.lookup("ACME", "03401234567890", at=date(2026, 3, 1)) == "DR-1"
    with pytest.raises(tarif.QuoteError) as info:
        small.lookup("ACME", "HIDDEN-1", at=AT)
    assert info.value.code == "UNKNOWN_PRODUCT"


def test_explain(small):
    e = small.explain("ACME", "DR-1", 2, at=AT)
    text = str(e)
    assert text.startswith("2 × DR-1 for ACME at ")
    assert "price: 116.10 per unit, 232.20 for the line" in text
    assert (e.account, e.sku, e.currency) == ("ACME", "DR-1", "EUR")
    assert e.at == datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    assert e.unit_price == Decimal("116.10") and e.error_code is None
    assert e.visibility.allowed == (True, True, True)
    base = e.steps[0]
    assert base.step == "base"
    assert any(c.rule == "public/DR-1" and c.applied for c in base.candidates)
    hidden = small.explain("ACME", "HIDDEN-1", 1, at=AT)
    assert hidden.visibility.allowed[0] is False
    assert hidden.visibility.decided_by[0] is not None
    assert hidden.error_code == "UNKNOWN_PRODUCT"
    assert hidden.unit_price is None


def test_compile_errors_list_every_problem():
    doc = copy.deepcopy(SMALL)
    doc["products"].append({"sku": "DR-1"})
    doc["accounts"].append({"id": "X", "parent": "NOBODY"})
    doc["bogus"] = 1
    with pytest.raises(tarif.CompileError) as info:
        tarif.Engine.from_dict(doc)
    err = info.value
    assert err.code == "COMPILE_ERROR"
    codes = {(d["code"], d["path"]) for d in err.details}
    assert ("UNKNOWN_FIELD", "bogus") in codes
    assert any(code == "DUPLICATE_ID" for code, _ in codes)
    assert any(code == "UNKNOWN_REFERENCE" for code, _ in codes)
    assert all(set(d) == {"code", "severity", "path", "message", "ids"} for d in err.details)
    with pytest.raises(tarif.CompileError) as info:
        tarif.Engine.from_json("{not json")
    assert info.value.details[0]["code"] == "PARSE_ERROR"


def test_warnings_and_strict():
    doc = copy.deepcopy(SMALL)
    doc["products"].append({"sku": "DUP", "ean": "03401234567890"})
    engine = tarif.Engine.from_dict(doc)
    dups = [d for d in engine.diagnostics if d.code == "DUPLICATE_EAN"]
    assert dups and dups[0].severity == "warning" and dups[0].path == "products[5].ean"
    assert isinstance(dups[0].ids, tuple)
    assert str(dups[0]).startswith("DUPLICATE_EAN at products[5].ean: ")
    with pytest.raises(tarif.CompileError) as info:
        tarif.Engine.from_dict(doc, strict=True)
    assert info.value.code == "STRICT_WARNINGS"


def test_from_path(tmp_path, small):
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(SMALL), encoding="utf-8")
    assert tarif.Engine.from_path(path).engine_version == small.engine_version
    assert tarif.Engine.from_path(str(path)).engine_version == small.engine_version
    with pytest.raises(FileNotFoundError, match="missing.json"):
        tarif.Engine.from_path(tmp_path / "missing.json")


def test_catalog_listing(small):
    assert small.skus() == ["DR-1", "CAB-1", "BOX-1", "HIDDEN-1", "UNPRICED-1"]
    assert small.accounts() == ["ACME", "ACME-LYON"]
    assert small.currencies() == ["EUR", "USD"]
    assert small.engine_version.startswith("t1-")
    assert "5 products" in repr(small)


def test_sample_document_compiles(sample, sample_doc):
    assert len(sample.skus()) == len(sample_doc["products"]) > 3000
    q = sample.quote("R-ELECDIS", "DRL-MAK-DHP487-K5-L", 1, at="2027-03-18T10:00:00+01:00")
    assert q.unit_price > 0


def test_integers_beyond_64_bits(small):
    assert small.quote("ACME", "CAB-1", 10**20, at=AT).line_total == Decimal("1.99") * 10**20
    with pytest.raises(tarif.QuoteError) as info:
        small.quote("ACME", "CAB-1", 10**40, at=AT)
    assert info.value.code == "INVALID_QUANTITY"


def test_stock_splits_the_quantity_and_never_moves_the_price():
    doc = copy.deepcopy(SMALL)
    doc["stock"] = [
        {"sku": "DR-1", "warehouses": [{"id": "LYON", "available": "2", "lead_time_days": 4}, {"id": "PARIS", "available": 1}]},
    ]
    stocked = tarif.Engine.from_dict(doc)
    plain = tarif.Engine.from_dict(SMALL)
    q = stocked.quote("ACME", "DR-1", 5, at=AT)
    assert q.stock is not None
    assert (q.stock.available, q.stock.backorder, q.stock.lead_time_days) == (Decimal("3"), Decimal("2"), 4)
    assert q.stock.warehouses == (("LYON", Decimal("2"), 4), ("PARIS", Decimal("1"), None))
    assert q.line_total == plain.quote("ACME", "DR-1", 5, at=AT).line_total
    assert plain.quote("ACME", "DR-1", 5, at=AT).stock is None
    # Nothing backordered: no lead time.
    assert stocked.quote("ACME", "DR-1", 3, at=AT).stock.lead_time_days is None
    # Frozen and comparable, like every value object.
    with pytest.raises(AttributeError):
        q.stock.available = Decimal(1)  # type: ignore[misc]
    assert q.stock == stocked.quote("ACME", "DR-1", 5, at=AT).stock
    assert "backorder=Decimal('2')" in repr(q.stock)
