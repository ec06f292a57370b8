"""`tarif.Scenario`: what-if edits by id, made by the core; equal to the hand-written changes."""

from decimal import Decimal

import pytest

import tarif
from conftest import AT

DEEPER = {
    "format": "tarif/1-changes",
    "upsert": {
        "rules": [{"contract": "acme", "id": "tools-10", "step": "discount", "products": {"category": "tools"}, "percent": "-20"}]
    },
}


def test_an_edit_equals_the_hand_written_changes(small):
    scenario = tarif.Scenario(small).set_percent("acme", "tools-10", "-20")
    assert scenario.engine().engine_version == small.apply(DEEPER).engine_version
    changes = scenario.changes()
    assert changes["engine_version"] == small.engine_version
    assert changes["upsert"] == DEEPER["upsert"]
    # The base is untouched; each method returns a new scenario.
    assert small.quote("ACME", "DR-1", 1, at=AT).unit_price == Decimal("116.10")
    assert scenario.engine().quote("ACME", "DR-1", 1, at=AT).unit_price == Decimal("103.20")
    assert len(scenario.scale_list("public", 2).edits) == 2 and len(scenario.edits) == 1


def test_every_edit(small):
    scenario = (
        tarif.Scenario(small)
        .set_percent("acme", "tools-10", Decimal("-12.5"))
        .shift_contract("acme", days=-31)
        .add_rule("acme", {"id": "cables", "step": "discount", "products": {"sku": "CAB-1"}, "percent": "-50"})
        .shift_rule("acme", "cables", to={"from": "2026-02-01", "until": None})
        .scale_list("public", "1.1")
    )
    changes = scenario.changes()
    assert changes["upsert"]["contracts"][0]["valid"] == {"from": "2025-12-01"}
    assert changes["upsert"]["rules"][1] == {
        "contract": "acme",
        "id": "cables",
        "step": "discount",
        "products": {"sku": "CAB-1"},
        "percent": "-50",
        "valid": {"from": "2026-02-01"},
    }
    # 129.00 × 1.1, 119.00 × 1.1 (the tier), 1.99 × 1.1 = 2.189 → 2.19 (EUR, half_up).
    public = changes["upsert"]["price_lists"][0]["prices"]
    assert (public[0]["price"], public[0]["tiers"][0]["price"], public[1]["price"]) == ("141.90", "130.90", "2.19")
    engine = scenario.engine()
    assert engine.quote("ACME", "CAB-1", 1, at=AT).unit_price == Decimal("1.10")  # 2.19 − 50 %, rounded
    removed = tarif.Scenario(small).remove_rule("acme", "tools-10").engine()
    assert removed.quote("ACME", "DR-1", 1, at=AT).unit_price == Decimal("129.00")


def test_errors_name_every_edit(small):
    scenario = (
        tarif.Scenario(small)
        .set_percent("nope", "tools-10", 1)
        .remove_rule("acme", "nope")
        .scale_list("nope", 2)
        .scale_list("public", 0)
    )
    with pytest.raises(tarif.CompileError) as err:
        scenario.engine()
    found = [(d["code"], d["path"]) for d in err.value.details]
    assert found == [
        ("UNKNOWN_ID", "edits[0].contract"),
        ("UNKNOWN_ID", "edits[1].rule"),
        ("UNKNOWN_ID", "edits[2].list"),
        ("INVALID_DECIMAL", "edits[3].factor"),
    ]
    # The edits' shape is checked first, as a changes document's is.
    with pytest.raises(tarif.CompileError) as err:
        tarif.Scenario(small).remove_rule("acme", "nope").shift_rule("acme", "tools-10").engine()
    assert [(d["code"], d["path"]) for d in err.value.details] == [("INVALID_TYPE", "edits[1]")]
    with pytest.raises(tarif.CompileError) as err:
        tarif.Scenario(small).set_percent("acme", "tools-10", 0.5).changes()
    assert [(d["code"], d["path"]) for d in err.value.details] == [("INVALID_TYPE", "edits[0].percent")]
    # A compile problem of what an edit wrote points at the edit.
    with pytest.raises(tarif.CompileError) as err:
        tarif.Scenario(small).set_percent("acme", "tools-10", "-150").engine()
    assert [(d["code"], d["path"]) for d in err.value.details] == [("INVALID_PERCENT", "edits[0].percent")]


def test_simulate_takes_scenarios(small):
    import pyarrow as pa

    lines = pa.table({"account": ["ACME", "ACME"], "sku": ["DR-1", "CAB-1"], "qty": ["1", "10"]})
    scenario = tarif.Scenario(small).set_percent("acme", "tools-10", "-20")
    by_scenario = tarif.simulate(small, {"deeper": scenario}, lines, at=AT)
    by_changes = tarif.simulate(small, {"deeper": DEEPER}, lines, at=AT)
    assert by_scenario.lines.equals(by_changes.lines)
    assert by_scenario.groups.equals(by_changes.groups)
