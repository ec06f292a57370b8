"""`quote_many`: lists, numpy, pyarrow arrays and tables give what row-by-row quotes give."""

import random
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import tarif
from conftest import AT

SHOWCASE_AT = "2027-03-18T10:00:00+01:00"


@pytest.fixture(scope="module")
def lines(sample):
    """Deterministic lines over the sample, with some bad rows mixed in."""
    rng = random.Random(7)
    accounts = sample.accounts() + ["NOBODY"]
    skus = sample.skus()[:400] + ["NOPE", "CAB-NEX-R2V3G-2.5"]
    rows = []
    for _ in range(3000):
        qty = rng.choice(["1", "2", "5", "12", "0.5", "2.5", "100", "0", "-1"])
        rows.append((rng.choice(accounts), rng.choice(skus), qty))
    return rows


def row_by_row(engine, rows, at, currency=None):
    out = []
    for account, sku, qty in rows:
        try:
            q = engine.quote(account, sku, qty, at=at, currency=currency)
            out.append(("OK", q.unit_price, q.line_total, q.currency, q.buyable))
        except tarif.QuoteError as err:
            out.append((err.code, None, None, None, None))
    return out


def table_rows(table):
    assert table.column_names == ["status", "unit_price", "line_total", "currency", "buyable"]
    return list(
        zip(
            table.column("status").to_pylist(),
            table.column("unit_price").to_pylist(),
            table.column("line_total").to_pylist(),
            table.column("currency").to_pylist(),
            table.column("buyable").to_pylist(),
        )
    )


@pytest.fixture(scope="module")
def expected(sample, lines):
    return row_by_row(sample, lines, SHOWCASE_AT)


def columns(lines):
    return [list(c) for c in zip(*lines)]


def test_lists(sample, lines, expected):
    accounts, skus, qtys = columns(lines)
    got = table_rows(sample.quote_many(accounts, skus, qtys, at=SHOWCASE_AT))
    assert got == expected
    statuses = {s for s, *_ in got}
    assert {"OK", "UNKNOWN_ACCOUNT", "UNKNOWN_PRODUCT", "INVALID_QUANTITY"} <= statuses


def test_numpy(sample, lines, expected):
    accounts, skus, qtys = columns(lines)
    got = table_rows(
        sample.quote_many(np.array(accounts), np.array(skus), np.array(qtys), at=SHOWCASE_AT)
    )
    assert got == expected
    object_columns = [np.array(c, dtype=object) for c in (accounts, skus, qtys)]
    assert table_rows(sample.quote_many(*object_columns, at=SHOWCASE_AT)) == expected


def test_numpy_integer_quantities(sample, lines):
    int_lines = [(a, s, str(random.Random(i).randint(1, 50))) for i, (a, s, _) in enumerate(lines)]
    accounts, skus, qtys = columns(int_lines)
    ints = np.array([int(q) for q in qtys], dtype=np.int32)
    got = table_rows(sample.quote_many(np.array(accounts), np.array(skus), ints, at=SHOWCASE_AT))
    assert got == row_by_row(sample, int_lines, SHOWCASE_AT)


def test_pyarrow_arrays_and_tables(sample, lines, expected):
    accounts, skus, qtys = columns(lines)
    arrays = (pa.array(accounts), pa.array(skus), pa.array([Decimal(q) for q in qtys]))
    assert pa.types.is_decimal(arrays[2].type)
    assert table_rows(sample.quote_many(*arrays, at=SHOWCASE_AT)) == expected
    table = pa.table({"account": accounts, "sku": skus, "qty": qtys})
    assert table_rows(sample.quote_many(table, at=SHOWCASE_AT)) == expected
    # Several chunks, dictionary-encoded ids, large strings.
    chunked = pa.concat_tables([table.slice(0, 1000), table.slice(1000)])
    chunked = chunked.set_column(0, "account", pa.chunked_array(
        [c.dictionary_encode() for c in chunked.column("account").chunks]))
    chunked = chunked.set_column(1, "sku", chunked.column("sku").cast(pa.large_string()))
    assert chunked.column("account").num_chunks == 2
    assert table_rows(sample.quote_many(chunked, at=SHOWCASE_AT)) == expected
    assert table_rows(sample.quote_many(
        chunked.column("account"), chunked.column("sku"), chunked.column("qty"), at=SHOWCASE_AT
    )) == expected


def test_pandas_round_trip(sample, lines, expected):
    frame = pd.DataFrame(lines, columns=["account", "sku", "qty"])
    result = sample.quote_many(frame["account"], frame["sku"], frame["qty"], at=SHOWCASE_AT)
    assert table_rows(result) == expected
    priced = frame.join(result.to_pandas())
    assert list(priced.columns) == ["account", "sku", "qty", "status", "unit_price", "line_total", "currency", "buyable"]
    ok = priced[priced["status"] == "OK"]
    assert sum(ok["line_total"]) == sum(r[2] for r in expected if r[0] == "OK")


def test_decimal128_at_the_currency_scale(small):
    result = small.quote_many(["ACME", "ACME", "ACME"], ["DR-1", "CAB-1", "NOPE"], [3, "2.5", 1], at=AT)
    assert result.schema.field("unit_price").type == pa.decimal128(38, 2)
    # 2.5 m of cable at 1.99 is exactly 4.975: the line column keeps the third decimal.
    assert result.schema.field("line_total").type == pa.decimal128(38, 3)
    assert result.column("line_total").to_pylist() == [Decimal("348.30"), Decimal("4.975"), None]
    assert result.column("status").to_pylist() == ["OK", "OK", "UNKNOWN_PRODUCT"]
    assert result.column("currency").to_pylist() == ["EUR", "EUR", None]


def test_currency_and_empty_batches(small):
    result = small.quote_many(["ACME"], ["DR-1"], [1], at=AT, currency="USD")
    assert result.column("currency").to_pylist() == ["USD"]
    assert result.column("unit_price").to_pylist() == [Decimal("126.00")]
    assert small.quote_many([], [], [], at=AT).num_rows == 0
    empty = pa.table({"account": pa.array([], pa.string()), "sku": pa.array([], pa.string()), "qty": pa.array([], pa.int64())})
    assert small.quote_many(empty, at=AT).num_rows == 0
    # A batch that prices no row keeps its currency's scale, not decimal128(38, 0).
    for nothing_priced in (small.quote_many([], [], [], at=AT), small.quote_many(["NOBODY"], ["DR-1"], [1], at=AT)):
        assert nothing_priced.schema.field("unit_price").type == pa.decimal128(38, 2)
        assert nothing_priced.schema.field("line_total").type == pa.decimal128(38, 2)
    jpy = tarif.Engine.from_dict({"format": "tarif/1", "currencies": [{"code": "EUR"}, {"code": "JPY", "scale": 0}]})
    assert jpy.quote_many([], [], [], at=AT, currency="JPY").schema.field("line_total").type == pa.decimal128(38, 0)
    assert jpy.quote_many([], [], [], at=AT).schema.field("line_total").type == pa.decimal128(38, 2)


def test_columns_without_chunks_are_still_typed(small):
    # A ChunkedArray or a table with no chunk at all: an empty batch, and a column of the wrong
    # type is still refused.
    empty = small.quote_many(pa.chunked_array([], pa.string()), pa.chunked_array([], pa.string()), pa.chunked_array([], pa.int64()), at=AT)
    assert empty.num_rows == 0
    with pytest.raises(tarif.InputError) as info:
        small.quote_many(pa.chunked_array([], pa.int64()), pa.chunked_array([], pa.string()), pa.chunked_array([], pa.int64()), at=AT)
    assert info.value.code == "INVALID_TYPE"
    no_batches = pa.Table.from_batches([], pa.schema({"account": pa.string(), "sku": pa.float64(), "qty": pa.int64()}))
    with pytest.raises(tarif.InputError) as info:
        small.quote_many(no_batches, at=AT)
    assert info.value.code == "INVALID_TYPE"


def test_bad_batches(small):
    with pytest.raises(TypeError, match="float") as info:
        small.quote_many(["ACME"], ["DR-1"], [1.5], at=AT)
    assert info.value.code == "FLOAT_REJECTED"
    with pytest.raises(tarif.InputError, match="float"):
        small.quote_many(["ACME"], ["DR-1"], np.array([1.0]), at=AT)
    with pytest.raises(tarif.InputError, match="float"):
        small.quote_many(pa.array(["ACME"]), pa.array(["DR-1"]), pa.array([1.0]), at=AT)
    with pytest.raises(tarif.InputError) as info:
        small.quote_many(["ACME", "ACME"], ["DR-1"], [1, 2], at=AT)
    assert info.value.code == "INVALID_BATCH"
    with pytest.raises(tarif.InputError) as info:
        small.quote_many(pa.table({"account": ["ACME"], "qty": [1]}), at=AT)
    assert info.value.code == "INVALID_BATCH" and "sku" in str(info.value)
    with pytest.raises(tarif.InputError) as info:
        small.quote_many(["ACME"], [7], [1], at=AT)
    assert info.value.code == "INVALID_TYPE"
    with pytest.raises(tarif.InputError) as info:
        small.quote_many(pa.array([1]), pa.array(["DR-1"]), pa.array([1]), at=AT)
    assert info.value.code == "INVALID_TYPE"
    with pytest.raises(tarif.InputError):
        small.quote_many(["ACME"], ["DR-1"])
    with pytest.raises(tarif.QuoteError) as info:
        small.quote_many(["ACME"], ["DR-1"], [1], at="soon")
    assert info.value.code == "INVALID_INSTANT"



def test_several_bad_inputs_report_the_one_node_reports(small):
    # Columns first (accounts, skus, qtys), then the instant, then the currency: the order of
    # bindings-node's quoteMany, whose test checks the same inputs.
    with pytest.raises(tarif.InputError) as info:
        small.quote_many(["ACME", 7], ["DR-1", "DR-1"], [1, 1], at="soon", currency=42)
    assert info.value.code == "INVALID_TYPE" and "accounts[1]" in str(info.value)
    with pytest.raises(tarif.InputError) as info:
        small.quote_many(["ACME"], ["DR-1"], [1.5], at="soon", currency=42)
    assert info.value.code == "FLOAT_REJECTED"
    with pytest.raises(tarif.QuoteError) as info:
        small.quote_many(["ACME"], ["DR-1"], [1], at="soon", currency=42)
    assert info.value.code == "INVALID_INSTANT"
    with pytest.raises(tarif.InputError) as info:
        small.quote_many(["ACME"], ["DR-1"], [1], at=AT, currency=42)
    assert info.value.code == "INVALID_TYPE" and "currency" in str(info.value)

def test_bad_quantity_values_fail_their_row_only(small):
    result = small.quote_many(["ACME"] * 4, ["DR-1"] * 4, ["1", "abc", None, Decimal("NaN")], at=AT)
    assert result.column("status").to_pylist() == ["OK"] + ["INVALID_QUANTITY"] * 3
    nulls = pa.array([1, None], pa.int64())
    assert small.quote_many(["ACME"] * 2, ["DR-1"] * 2, nulls, at=AT).column("status").to_pylist() == ["OK", "INVALID_QUANTITY"]
