"""`quote_many` amounts are exact whatever mix of scales and magnitudes one batch holds.

One output column has one scale; a batch mixing a 22-decimal line with a 29-digit one must
neither drop digits nor shift a value by a power of ten: every row equals its own `quote`.
"""

from decimal import Decimal

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

import tarif

AT = "2026-03-01T12:00:00Z"


def engine_with_prices(prices):
    return tarif.Engine.from_dict({
        "format": "tarif/1",
        "settings": {"default_price_lists": ["list"]},
        "currencies": [{"code": "EUR", "scale": 2}],
        "products": [{"sku": f"P{i}"} for i in range(len(prices))],
        "price_lists": [{
            "id": "list",
            "currency": "EUR",
            "prices": [{"sku": f"P{i}", "price": p} for i, p in enumerate(prices)],
        }],
        "accounts": [{"id": "A"}],
    })


def decimal_text(draw, max_int_digits, max_scale):
    """A decimal of a drawn magnitude and scale that a `Decimal` holds (≤ 28 digits)."""
    scale = draw(st.integers(0, max_scale))
    int_digits = draw(st.integers(1, min(max_int_digits, 28 - scale)))
    whole = draw(st.integers(10 ** (int_digits - 1), 10**int_digits - 1))
    frac = draw(st.integers(0, 10**scale - 1)) if scale else 0
    return str(whole) if not scale else f"{whole}.{frac:0{scale}d}"


@st.composite
def batches(draw):
    prices = [decimal_text(draw, 28, 4) for _ in range(draw(st.integers(1, 5)))]
    rows = []
    for _ in range(draw(st.integers(1, 12))):
        product = draw(st.integers(0, len(prices) - 1))
        qty = decimal_text(draw, 28, 24)
        rows.append((f"P{product}", qty))
    return prices, rows


def row_by_row(engine, rows):
    out = []
    for sku, qty in rows:
        try:
            q = engine.quote("A", sku, qty, at=AT)
            out.append(("OK", q.unit_price, q.line_total))
        except tarif.QuoteError as err:
            out.append((err.code, None, None))
    return out


def batch(engine, rows):
    result = engine.quote_many(["A"] * len(rows), [s for s, _ in rows], [q for _, q in rows], at=AT)
    return list(zip(
        result.column("status").to_pylist(),
        result.column("unit_price").to_pylist(),
        result.column("line_total").to_pylist(),
    ))


@settings(max_examples=300, deadline=None)
@given(batches())
def test_batch_equals_row_by_row_on_any_scales_and_magnitudes(case):
    prices, rows = case
    engine = engine_with_prices(prices)
    assert batch(engine, rows) == row_by_row(engine, rows)


def test_a_tiny_quantity_does_not_shrink_a_large_line():
    engine = engine_with_prices(["1234567.00", "1.00"])
    rows = [("P0", "10"), ("P1", "0.0000000000000000000001")]
    got = batch(engine, rows)
    assert got[0] == ("OK", Decimal("1234567.00"), Decimal("12345670.00"))
    assert got[1][2] == Decimal("0.0000000000000000000001")
    assert got == row_by_row(engine, rows)


def test_the_widest_amount_next_to_the_finest_is_exact():
    engine = engine_with_prices(["79228162514264337593543950335", "1.00"])
    result = engine.quote_many(
        ["A", "A"], ["P0", "P1"], ["1", "0.0000000000000000000001"], at=AT
    )
    # 29 integer digits and 24 decimals (1.00 × 10⁻²²) do not fit decimal128's 38 digits.
    assert result.schema.field("line_total").type == pa.decimal256(76, 24)
    assert result.column("line_total").to_pylist() == [
        Decimal("79228162514264337593543950335"),
        Decimal("0.0000000000000000000001"),
    ]
    assert result.schema.field("unit_price").type == pa.decimal128(38, 2)
