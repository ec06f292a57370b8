"""``tarif.simulate``: the same order lines priced under the current rules and under what-if
scenarios, side by side, with margins and ready aggregates."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tarif._scenario import Scenario
from tarif._tarif import Engine, pivot_groups, simulate_tables

GROUPINGS = ("account", "root", "segment", "category", "brand", "rule")


@dataclass(frozen=True)
class Simulation:
    """What :func:`simulate` returns.

    ``lines`` (``None`` when :func:`simulate` was asked ``per_line=False``) has one row per
    input line and scenario (``base`` first): ``scenario``, ``row``
    (the line's position in the input), the input's own columns, then ``status``,
    ``unit_price``, ``line_total``, ``rule`` (the one that set the price), ``cost``, ``margin``
    (line total − cost × quantity) and ``change`` (line total − the base's), amounts as
    ``decimal128``. ``groups`` aggregates them: ``by`` (account, root, segment, category, brand,
    rule), ``key``, ``scenario``, ``lines``, ``priced``, ``revenue``, ``margin``, ``affected``
    (lines whose status or total differs from the base's).
    """

    lines: Any
    groups: Any
    scenarios: tuple[str, ...]
    # The groups at exact decimals, which ``by`` pivots whatever ``floats`` asked.
    exact_groups: Any = field(default=None, repr=False, compare=False)
    floats: bool = False
    # The groupings computed (``simulate(by=...)``).
    groupings: tuple[str, ...] = GROUPINGS

    def by(self, grouping: str) -> Any:
        """The groups of one grouping, one row per key with a ``lines``, ``revenue``,
        ``margin`` and ``affected`` column per scenario (``revenue_base``,
        ``revenue_<scenario>``, …) and the change of revenue and margin against the base; the
        core pivots them."""
        if grouping in GROUPINGS and grouping not in self.groupings:
            # An empty pivot would read as "no lines": say the groups were not computed.
            raise ValueError(f"the simulation did not compute the `{grouping}` groups (it was asked `by={list(self.groupings)}`)")
        groups = self.groups if self.exact_groups is None else self.exact_groups
        table = pivot_groups(groups, grouping, list(self.scenarios))
        return _as_floats(table) if self.floats else table


def simulate(
    base: Engine,
    scenarios: Mapping[str, Engine | Scenario | str | dict[str, Any]],
    lines: Any,
    *,
    at: Any = None,
    currency: str | None = None,
    progress: Callable[[int, int], object] | None = None,
    floats: bool = False,
    per_line: bool = True,
    by: Iterable[str] | None = None,
) -> Simulation:
    """Prices ``lines`` under ``base`` and under each named scenario, in one call.

    A scenario is an :class:`Engine`, a :class:`Scenario` of ``base`` (its engine), or a
    ``tarif/1-changes`` document (dict or JSON text) applied to ``base`` (``base.apply``; the
    base is never modified). ``lines`` is a table
    with columns ``account``, ``sku``, ``qty`` and optionally ``at`` (a pyarrow Table, a pandas
    or Polars DataFrame); any other column is kept in ``Simulation.lines``. Every line is
    priced at its own ``at`` (else ``at``, else now, read once). Amounts are exact
    ``decimal128`` unless ``floats=True`` asks for ``float64`` (for plotting, never for money
    that goes back into a system). Ctrl-C interrupts it within about a third of a second;
    ``progress(done, total)`` is called as lines are priced.

    ``per_line=False`` computes the groups alone (``Simulation.lines`` is ``None``): the lines
    are priced a step at a time and added up, so memory grows with the distinct accounts,
    products and rules, not with the lines, and a scenario made by ``base.apply`` (or a
    :class:`Scenario`) of prices, products or pricing rules prices only the lines its changes
    can reach. The groups are the same either way.

    ``by`` names the groupings computed (of ``account``, ``root``, ``segment``, ``category``,
    ``brand``, ``rule``; every one when ``None``): the groups of the others are not computed,
    which saves most of their cost (``by=["segment"]`` adds each line up by account alone,
    and neither by product nor by rule). ``by=[]`` with ``per_line=True`` gives the lines
    without groups.
    """
    import pyarrow  # type: ignore[import-untyped]  # noqa: F401 - says how to install it, before any work
    if "base" in scenarios:
        raise ValueError("`base` names the base engine; give the scenario another name")
    groupings = None if by is None else list(by)
    if groupings == [] and not per_line:
        raise ValueError("`by` names no grouping and `per_line=False` asks for no lines: nothing to compute")
    names = list(scenarios)
    engines = [_engine(base, s) for s in scenarios.values()]
    if not hasattr(lines, "__arrow_c_stream__") and hasattr(lines, "to_arrow"):
        lines = lines.to_arrow()
    table, groups = simulate_tables(base, names, engines, lines, at, currency, progress, per_line, groupings)
    scenario_names = ("base", *names)
    computed = GROUPINGS if groupings is None else tuple(g for g in GROUPINGS if g in groupings)
    if floats:
        lines_out = None if table is None else _as_floats(table)
        return Simulation(lines_out, _as_floats(groups), scenario_names, groups, floats=True, groupings=computed)
    return Simulation(lines=table, groups=groups, scenarios=scenario_names, groupings=computed)


def _engine(base: Engine, scenario: Engine | Scenario | str | dict[str, Any]) -> Engine:
    if isinstance(scenario, Engine):
        return scenario
    if isinstance(scenario, Scenario):
        return scenario.engine()
    return base.apply(scenario)


def _as_floats(table: Any) -> Any:
    import pyarrow as pa  # type: ignore[import-untyped]

    for i, field in enumerate(table.schema):
        if pa.types.is_decimal(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.float64()))
    return table
