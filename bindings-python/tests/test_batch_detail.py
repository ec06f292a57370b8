"""`quote_many` for analysts: per-row instants, the deciding rule, base and list price, cost,
and the caller's own columns kept."""

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

import tarif
from conftest import AT

LINES = pa.table(
    {
        "account": ["ACME", "ACME", "ACME-LYON", "NOBODY", "ACME"],
        "sku": ["DR-1", "DR-1", "MY-DRILL", "DR-1", "NOPE"],
        "qty": ["1", "10", "2", "1", "1"],
        "order_id": ["o-1", "o-2", "o-3", "o-4", "o-5"],
    }
)


def test_detail_columns_say_what_each_quote_says(small):
    out = small.quote_many(LINES, at=AT, detail=True)
    assert out.column_names[-5:] == ["product", "rule", "base_price", "list_price", "cost"]
    rows = out.to_pylist()
    for line, row in zip(LINES.to_pylist(), rows):
        if row["status"] != "OK":
            assert row["rule"] is None and row["base_price"] is None
            continue
        quote = small.quote(line["account"], line["sku"], line["qty"], at=AT)
        assert row["product"] == quote.sku
        assert row["rule"] == quote.steps[-1].rule
        assert row["base_price"] == quote.base_price
        assert row["list_price"] == quote.list_price
        assert row["unit_price"] == quote.unit_price
    assert rows[0]["cost"] == Decimal("50.00")
    assert rows[0]["rule"] == "acme/tools-10"
    assert [r["status"] for r in rows[3:]] == ["UNKNOWN_ACCOUNT", "UNKNOWN_PRODUCT"]
    # Without detail the result is what it was.
    plain = small.quote_many(LINES, at=AT)
    assert plain.column_names == ["status", "unit_price", "line_total", "currency", "buyable"]
    assert out.select(plain.column_names).equals(plain)


def test_keep_returns_the_callers_columns_first(small):
    out = small.quote_many(LINES, at=AT, keep=True)
    assert out.column_names[:4] == ["account", "sku", "qty", "order_id"]
    assert out.column("order_id").to_pylist() == LINES.column("order_id").to_pylist()
    assert small.quote_many(LINES, at=AT, keep=True, detail=True).column_names[4:6] == ["status", "unit_price"]
    with pytest.raises(tarif.InputError, match="two columns named `status`"):
        small.quote_many(LINES.append_column("status", pa.array(["x"] * 5)), at=AT, keep=True)
    with pytest.raises(tarif.InputError, match="keep=True"):
        small.quote_many(["ACME"], ["DR-1"], [1], keep=True)


def test_per_row_instants(small):
    # The ACME contract starts on 2026-01-01: before it, no 10 % off.
    ats = ["2025-12-31", "2026-03-01T12:00:00Z"]
    out = small.quote_many(["ACME", "ACME"], ["DR-1", "DR-1"], [1, 1], at=ats)
    assert out.column("unit_price").to_pylist() == [Decimal("129.00"), Decimal("116.10")]
    as_dates = small.quote_many(["ACME", "ACME"], ["DR-1", "DR-1"], [1, 1], at=[dt.date(2025, 12, 31), dt.date(2026, 3, 1)])
    assert as_dates.column("unit_price").equals(out.column("unit_price"))
    utc = dt.timezone.utc
    stamps = pa.array([dt.datetime(2025, 12, 31, tzinfo=utc), dt.datetime(2026, 3, 1, tzinfo=utc)], pa.timestamp("us", tz="UTC"))
    table = pa.table({"account": ["ACME", "ACME"], "sku": ["DR-1", "DR-1"], "qty": ["1", "1"], "at": stamps})
    assert small.quote_many(table).column("unit_price").equals(out.column("unit_price"))
    dates = table.set_column(3, "at", pa.array([dt.date(2025, 12, 31), dt.date(2026, 3, 1)], pa.date32()))
    assert small.quote_many(dates).column("unit_price").equals(out.column("unit_price"))
    naive = table.set_column(3, "at", pa.array([dt.datetime(2025, 12, 31)] * 2, pa.timestamp("us")))
    with pytest.raises(tarif.InputError) as info:
        small.quote_many(naive)
    assert info.value.code == "NAIVE_DATETIME"
    with pytest.raises(tarif.QuoteError) as info:
        small.quote_many(["ACME"], ["DR-1"], [1], at=["soon"])
    assert info.value.code == "INVALID_INSTANT"
    with pytest.raises(tarif.InputError):
        small.quote_many(["ACME", "ACME"], ["DR-1", "DR-1"], [1, 1], at=["2026-01-01"])
