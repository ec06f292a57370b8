"""``tarif.Scenario``: the common what-if moves on a base engine, addressed by id."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tarif._tarif import Engine, scenario_changes, scenario_engine

_Exact = Decimal | int | str
_Validity = Mapping[str, str | None]


def _exact(value: _Exact) -> Any:
    # An int is exact: written as the decimal string money takes. Anything else (a float
    # included) goes to the core as it is, which refuses what is not a decimal string.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class Scenario:
    """Edits of ``base``'s rules, made by the core when the scenario is used (docs/spec.md
    §17.3). Each method returns a new scenario with one more edit, so one scenario can be the
    start of several; ``base`` is never modified::

        deeper = tarif.Scenario(base).set_percent("installers", "cables", "-15")
        dearer = deeper.scale_list("public", "1.03")
        tarif.simulate(base, {"deeper": deeper, "dearer": dearer}, lines)

    Edits apply in the order made; several edits of one rule, contract or list compose. An
    unknown contract, rule or list id, a rule without the action an edit sets, a bad bound or
    factor raise :class:`tarif.CompileError` when the scenario is used, every problem at once,
    each at ``edits[i].field``.
    """

    __slots__ = ("base", "edits")

    def __init__(self, base: Engine, edits: tuple[dict[str, Any], ...] = ()) -> None:
        self.base = base
        self.edits = tuple(edits)

    def _with(self, edit: str, **fields: Any) -> Scenario:
        return Scenario(self.base, (*self.edits, {"edit": edit, **fields}))

    def set_percent(self, contract: str, rule: str, percent: _Exact) -> Scenario:
        """Sets the percent of a ``percent`` rule (its tiers kept)."""
        return self._with("set_percent", contract=contract, rule=rule, percent=_exact(percent))

    def set_price(self, contract: str, rule: str, price: _Exact) -> Scenario:
        """Sets the price of a ``price`` rule (its tiers kept)."""
        return self._with("set_price", contract=contract, rule=rule, price=_exact(price))

    def shift_rule(
        self, contract: str, rule: str, *, days: int | None = None, to: _Validity | None = None
    ) -> Scenario:
        """Moves a rule's validity by ``days`` (negative: earlier), or ``to`` new bounds
        (``{"from": …, "until": …}``, a missing or ``None`` bound open)."""
        return self._with("shift_rule", contract=contract, rule=rule, **_shift(days, to))

    def shift_contract(self, contract: str, *, days: int | None = None, to: _Validity | None = None) -> Scenario:
        """Moves a contract's validity, as :meth:`shift_rule` a rule's."""
        return self._with("shift_contract", contract=contract, **_shift(days, to))

    def add_rule(self, contract: str, rule: Mapping[str, Any]) -> Scenario:
        """Adds a rule (as the document writes it, ``id`` included) to a contract."""
        return self._with("add_rule", contract=contract, rule=dict(rule))

    def remove_rule(self, contract: str, rule: str) -> Scenario:
        """Removes a rule from a contract."""
        return self._with("remove_rule", contract=contract, rule=rule)

    def scale_list(self, price_list: str, factor: _Exact) -> Scenario:
        """Multiplies every price of a list (entries and tiers) by ``factor`` (> 0, exact),
        each rounded as a quote from that list alone rounds."""
        return self._with("scale_list", list=price_list, factor=_exact(factor))

    def changes(self) -> dict[str, Any]:
        """The ``tarif/1-changes`` document these edits make, for ``base.apply`` or an ERP
        (it names ``base``'s ``engine_version``: it applies to that state of the rules only)."""
        loaded: dict[str, Any] = json.loads(scenario_changes(self.base, list(self.edits)))
        return loaded

    def engine(self, *, strict: bool = False) -> Engine:
        """A new engine: ``base`` with the edits made (the GIL is released while it
        compiles)."""
        return scenario_engine(self.base, list(self.edits), strict=strict)

    def __repr__(self) -> str:
        return f"<Scenario of {len(self.edits)} edits on {self.base.engine_version}>"


def _shift(days: int | None, to: _Validity | None) -> dict[str, Any]:
    # Exactly one of the two, else the core says so with the edit's path.
    out: dict[str, Any] = {}
    if days is not None:
        out["days"] = days
    if to is not None:
        out["to"] = dict(to)
    return out
