"""`Engine.search` and `Engine.related` beyond the shared fixtures: argument types, cursors,
prices as Decimals, errors and their codes."""

import json
from decimal import Decimal

import numpy as np
import pytest

import tarif
from conftest import AT, FIXTURES

CATALOG = json.loads((FIXTURES / "search" / "catalog.json").read_text(encoding="utf-8"))["document"]
DAY = "2026-03-01"


@pytest.fixture(scope="module")
def catalog() -> tarif.Engine:
    return tarif.Engine.from_dict(CATALOG)


def test_page_rows_facets_and_prices(catalog):
    page = catalog.search(
        "INST",
        filters=[{"attr": "color", "any_of": ["blue"]}, {"attr": "voltage", "min": 12, "max": Decimal("18")}],
        facets=[{"attr": "voltage"}, "brand"],
        price_qty=Decimal("2"),
        at=DAY,
    )
    assert page.total == 4
    assert page.skus() == ["DR-12-B", "DR-18-B", "MID-DR", "OLD-DR"]
    assert [f.name for f in page.facets] == ["voltage", "brand"]
    assert page.facet("voltage") == {"12": 1, "18": 3}
    assert (page.facets[0].kind, page.facets[1].kind) == ("attr", "brand")
    assert [(v.value, v.count) for v in page.facets[1].values] == [("Bosch", 4)]
    row = page.rows[0]
    assert (row.sku, row.brand, row.family, row.variants) == ("DR-12-B", "Bosch", "DR", ())
    assert row.capabilities.buy is True
    # The batch path gives exactly what a quote gives, as Decimals at the quote's scale.
    quote = catalog.quote("INST", "DR-12-B", 2, at=DAY)
    assert isinstance(row.price.unit_price, Decimal)
    assert (row.price.unit_price, row.price.line_total) == (quote.unit_price, quote.line_total)
    assert str(row.price.line_total) == "178.20"
    assert (row.price.status, row.price.ok, row.price.currency) == ("OK", True, "EUR")
    assert page.next is None
    with pytest.raises(KeyError):
        page.facet("color")
    assert "DR-12-B" in repr(page) and "Decimal('89.10')" in repr(row)


def test_failed_row_price_has_a_status_and_no_amounts(catalog):
    page = catalog.search("INST", text="CASE", price_qty="1", at=DAY)
    price = page.rows[0].price
    assert (price.status, price.ok, price.unit_price, price.line_total, price.currency) == (
        "PRICE_HIDDEN",
        False,
        None,
        None,
        None,
    )
    assert catalog.search("INST", text="CASE", at=DAY).rows[0].price is None


def test_grouped_variants_carry_axes(catalog):
    page = catalog.search("PUB", filters=[{"family": "DR"}], group_variants=True, at=DAY)
    assert page.total == 1
    variants = page.rows[0].variants
    assert [v.sku for v in variants] == ["DR-12-B", "DR-18-B", "DR-18-R"]
    assert variants[0].axes == {"color": "blue", "voltage": "12V"}
    assert "DR-12-B" in repr(variants[0])


def test_cursor_round_trip_reads_every_row_once(catalog):
    sort = {"attr": "voltage", "descending": True}
    whole = catalog.search("INST", sort=sort, limit=100, at=DAY).skus()
    walked, cursor = [], None
    while True:
        page = catalog.search("INST", sort=sort, limit=2, cursor=cursor, at=DAY)
        assert page.total == len(whole)
        walked += page.skus()
        if page.next is None:
            break
        assert isinstance(page.next, str)
        cursor = page.next
    assert walked == whole
    # A cursor is text: it survives a trip through a URL or another engine built from the rules.
    first = catalog.search("INST", sort=sort, limit=3, at=DAY)
    again = tarif.Engine.from_dict(CATALOG).search("INST", sort=sort, limit=3, cursor=str(first.next), at=DAY)
    assert again.skus() == whole[3:6]


@pytest.mark.parametrize("cursor", ["bogus", "v:x:A", ""])
def test_bad_cursor_is_an_input_error(catalog, cursor):
    with pytest.raises(tarif.InputError) as info:
        catalog.search("INST", cursor=cursor, at=DAY)
    assert info.value.code == "INVALID_CURSOR"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"filters": [{"attr": "voltage", "min": 12.0}]},
        {"filters": [{"attr": "voltage", "max": np.float64(18)}]},
        {"filters": [{"attr": "voltage", "any_of": [18.0]}]},
        {"price_qty": 2.5},
    ],
)
def test_floats_are_rejected(catalog, kwargs):
    with pytest.raises(TypeError, match="float") as info:
        catalog.search("INST", at=DAY, **kwargs)
    assert isinstance(info.value, tarif.InputError)
    assert info.value.code == "FLOAT_REJECTED"
    assert "Decimal" in str(info.value)


def test_exact_bounds_and_values_in_every_exact_type(catalog):
    def skus(**kwargs):
        return catalog.search("PUB", at=DAY, **kwargs).skus()

    want = ["CAB-2"]
    for bound in ("2.5", Decimal("2.50"), Decimal("25E-1")):
        assert skus(filters=[{"attr": "length_m", "max": bound}]) == want
    assert skus(filters=[{"attr": "length_m", "min": 3, "max": None}]) == ["CAB-10"]
    assert skus(filters=[{"attr": "voltage", "any_of": [36, Decimal("12.0")]}]) == ["BAT-2", "DR-12-B"]
    assert skus(filters=[{"attr": "voltage", "any_of": "12"}]) == ["BAT-2", "DR-12-B"]
    assert skus(filters=[{"brand": ("Nexans",)}, {"category": "cables"}]) == ["CAB-10", "CAB-2"]


def test_hidden_products_never_appear(catalog, small):
    # DR-18-R is denied to installers: not a row, not a variant, not counted, not related.
    page = catalog.search("INST", limit=100, facets=["family", {"attr": "color"}], group_variants=True, at=DAY)
    everything = {v.sku for row in page.rows for v in row.variants} | set(page.skus())
    assert "DR-18-R" not in everything and "CAB-10" not in everything
    assert page.facet("color").get("black") is None
    assert page.facet("family")["DR"] == 2
    assert catalog.search("INST", text="DR-18-R", at=DAY).total == 0
    assert "CAB-10" not in [r.sku for r in catalog.related("INST", "DR-18-B", "accessories", at=DAY)]
    with pytest.raises(tarif.QuoteError) as info:
        catalog.related("INST", "DR-18-R", "accessories", at=DAY)
    assert info.value.code == "UNKNOWN_PRODUCT"
    # The conftest document hides HIDDEN-1 from ACME.
    assert small.search("ACME", limit=100, at=AT).skus() == ["BOX-1", "CAB-1", "DR-1", "UNPRICED-1"]


def test_related(catalog):
    related = catalog.related("PUB", "OLD-DR", "replacement", at=DAY)
    assert [r.sku for r in related] == ["MID-DR"]
    assert related[0].capabilities.buy is True
    assert "MID-DR" in repr(related[0])
    assert [r.sku for r in catalog.related("INST", "3401234567890", "requires", at=DAY)] == ["BAT-4"]
    assert catalog.related("PUB", "BAT-4", "accessories", at=DAY) == []


@pytest.mark.parametrize("kind", ["accessory", "ACCESSORIES", ""])
def test_bad_relation_kind_is_an_input_error(catalog, kind):
    with pytest.raises(tarif.InputError) as info:
        catalog.related("INST", "DR-18-B", kind, at=DAY)
    assert info.value.code == "INVALID_RELATION_KIND"
    assert "accessories" in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"filters": [{"attr": "color", "anyof": ["blue"]}]}, "INVALID_QUERY"),
        ({"filters": [{"attr": "color"}]}, "INVALID_QUERY"),
        ({"filters": [{"attr": "voltage", "any_of": ["12"], "min": 1}]}, "INVALID_QUERY"),
        ({"filters": [{"brand": ["Bosch"], "family": ["DR"]}]}, "INVALID_QUERY"),
        ({"filters": [{"attr": "voltage", "min": "twelve"}]}, "INVALID_QUERY"),
        ({"filters": {"brand": ["Bosch"]}}, "INVALID_TYPE"),
        ({"filters": ["brand"]}, "INVALID_TYPE"),
        ({"filters": [{"brand": [1]}]}, "INVALID_TYPE"),
        ({"filters": [{"attr": "voltage", "min": True}]}, "INVALID_TYPE"),
        ({"facets": ["colour"]}, "INVALID_QUERY"),
        ({"facets": "brand"}, "INVALID_TYPE"),
        ({"sort": "voltage"}, "INVALID_QUERY"),
        ({"sort": {"attr": "voltage", "descending": "yes"}}, "INVALID_TYPE"),
        ({"capability": "order"}, "INVALID_QUERY"),
        ({"limit": -1}, "INVALID_QUERY"),
        ({"offset": -5}, "INVALID_QUERY"),
    ],
)
def test_malformed_queries_are_input_errors(catalog, kwargs, code):
    with pytest.raises(tarif.InputError) as info:
        catalog.search("INST", at=DAY, **kwargs)
    assert info.value.code == code, str(info.value)


def test_query_errors_keep_the_core_precedence(catalog):
    with pytest.raises(tarif.QuoteError) as info:
        catalog.search("NOBODY", at="not a date")
    assert info.value.code == "UNKNOWN_ACCOUNT"
    with pytest.raises(tarif.QuoteError) as info:
        catalog.search("INST", at="not a date")
    assert info.value.code == "INVALID_INSTANT"
    # One row's failure never fails a page: an unreadable quantity is a status per row.
    page = catalog.search("INST", price_qty="abc", limit=1, at=DAY)
    assert page.rows[0].price.status == "INVALID_QUANTITY"


def test_search_releases_the_gil_and_is_thread_safe(catalog):
    from concurrent.futures import ThreadPoolExecutor

    expected = catalog.search("INST", facets=["brand"], at=DAY)
    with ThreadPoolExecutor(4) as pool:
        pages = list(pool.map(lambda _: catalog.search("INST", facets=["brand"], at=DAY), range(32)))
    assert all(p == expected for p in pages)


def test_in_stock_filter_and_facet(catalog):
    page = catalog.search("INST", at=DAY, filters=[{"in_stock": True}], facets=["in_stock"])
    # The catalog fixture has no stock section: nothing is in stock, and the facet says so.
    assert page.total == 0
    (facet,) = page.facets
    assert (facet.kind, facet.name) == ("in_stock", "in_stock")
    assert set(facet.counts) <= {"false"}


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ({"in_stock": False}, "INVALID_QUERY"),
        ({"in_stock": 1}, "INVALID_TYPE"),
        ({"in_stock": True, "brand": ["B"]}, "INVALID_QUERY"),
    ],
)
def test_in_stock_filter_only_takes_true(catalog, bad, code):
    with pytest.raises(tarif.InputError) as err:
        catalog.search("INST", at=DAY, filters=[bad])
    assert err.value.code == code
