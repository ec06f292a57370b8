import json
from pathlib import Path

import pytest

import tarif

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"

# A small document with one of everything the query tests need.
SMALL = {
    "format": "tarif/1",
    "settings": {"default_price_lists": ["public"], "timezone": "Europe/Paris"},
    "currencies": [{"code": "EUR"}, {"code": "USD"}],
    "categories": [{"id": "tools"}],
    "products": [
        {"sku": "DR-1", "ean": "3401234567890", "categories": ["tools"], "cost": "50.00"},
        {"sku": "CAB-1", "order": {"min": "1", "multiple": "0.5"}},
        {"sku": "BOX-1", "order": {"min": 5, "multiple": 5}},
        {"sku": "HIDDEN-1"},
        {"sku": "UNPRICED-1"},
    ],
    "price_lists": [
        {
            "id": "public",
            "currency": "EUR",
            "prices": [
                {"sku": "DR-1", "price": "129.00", "tiers": [{"min_qty": 10, "price": "119.00"}]},
                {"sku": "CAB-1", "price": "1.99"},
                {"sku": "BOX-1", "price": "0.10"},
                {"sku": "HIDDEN-1", "price": "5.00"},
            ],
        },
        {"id": "usd", "currency": "USD", "prices": [{"sku": "DR-1", "price": "140.00"}]},
    ],
    "segments": [{"id": "installers", "price_lists": ["usd"]}],
    "accounts": [
        {"id": "ACME", "segments": ["installers"]},
        {"id": "ACME-LYON", "parent": "ACME", "aliases": {"MY-DRILL": "DR-1"}},
    ],
    "contracts": [
        {
            "id": "acme",
            "audience": {"accounts": ["ACME"]},
            "valid": {"from": "2026-01-01"},
            "visibility": [{"effect": "deny", "products": {"sku": "HIDDEN-1"}}],
            "rules": [
                {"id": "tools-10", "step": "discount", "products": {"category": "tools"}, "percent": "-10"}
            ],
        }
    ],
}

AT = "2026-03-01T12:00:00Z"


@pytest.fixture(scope="session")
def small() -> tarif.Engine:
    return tarif.Engine.from_dict(SMALL)


@pytest.fixture(scope="session")
def sample_text() -> str:
    return tarif.sample_document()


@pytest.fixture(scope="session")
def sample(sample_text: str) -> tarif.Engine:
    return tarif.Engine.from_json(sample_text)


@pytest.fixture(scope="session")
def sample_doc(sample_text: str) -> dict:
    return json.loads(sample_text)
