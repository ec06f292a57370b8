"""Repricing and simulation over a Dask DataFrame (``pip install 'dask[distributed]'``).

Each worker process compiles the rules once (cached per file, its size and modification time),
then prices its partitions with Arrow end to end: a pandas partition becomes an Arrow table,
the core prices it, the result comes back as Arrow-backed pandas columns (``decimal128``
amounts, never floats). The same partition function runs anywhere a partition is an Arrow
table; under Spark, for instance::

    def price(batches):                                   # DataFrame.mapInArrow
        engine = tarif.Engine.from_path("/dbfs/rules.json")
        for batch in batches:
            table = pyarrow.Table.from_batches([batch])
            yield from engine.quote_many(table, keep=True).to_batches()

    spark_lines.mapInArrow(price, schema)

The result of :func:`reprice` and :func:`simulate` equals, line for line, pricing the whole
frame in one process (``Engine.quote_many``, :func:`tarif.simulate`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import dask.dataframe as dd  # type: ignore[import-untyped]
import pandas as pd  # type: ignore[import-untyped]
import pyarrow as pa  # type: ignore[import-untyped]

from tarif._simulate import simulate as _simulate
from tarif._tarif import Engine, add_up_groups

_CACHE: dict[tuple[Any, ...], Engine] = {}
_LOCK = threading.RLock()

# Every partition's amounts at one type, so that partitions concatenate: a partition's own
# scale depends on its values. 12 decimals hold any amount the core writes for a currency of up
# to 4 decimals times a quantity of up to 8; a value that does not fit fails its cast loudly
# rather than losing a digit.
AMOUNT = pa.decimal128(38, 12)


def _engine(rules: str, changes: str | None = None) -> Engine:
    """The engine of a rules file (with a change applied), compiled once per worker process."""
    stat = os.stat(rules)
    key = (rules, stat.st_size, stat.st_mtime_ns, changes)
    with _LOCK:
        engine = _CACHE.get(key)
        if engine is None:
            engine = Engine.from_path(rules) if changes is None else _engine(rules).apply(changes)
            _CACHE[key] = engine
        return engine


def _arrow(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


def _pandas(table: pa.Table) -> pd.DataFrame:
    for i, field in enumerate(table.schema):
        if pa.types.is_decimal(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(AMOUNT))
        elif pa.types.is_dictionary(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.string()))
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def _reprice_partition(
    frame: pd.DataFrame, rules: str, at: Any, currency: str | None, detail: bool
) -> pd.DataFrame:
    out = _engine(rules).quote_many(_arrow(frame), at=at, currency=currency, detail=detail, keep=True)
    return _pandas(out)


def reprice(
    lines: dd.DataFrame,
    rules: str | os.PathLike[str],
    *,
    at: Any = None,
    currency: str | None = None,
    detail: bool = False,
) -> dd.DataFrame:
    """``Engine.quote_many(partition, keep=True)`` on every partition of ``lines`` (columns
    ``account``, ``sku``, ``qty``, optionally ``at``, and any others, kept): a lazy Dask
    DataFrame. ``rules`` is a path every worker can read."""
    rules = os.fspath(rules)
    meta = _reprice_partition(lines._meta, rules, at, currency, detail)
    return lines.map_partitions(_reprice_partition, rules, at, currency, detail, meta=meta)


def _simulate_partition(
    frame: pd.DataFrame,
    rules: str,
    scenarios: tuple[tuple[str, str], ...],
    at: Any,
    currency: str | None,
    by: list[str] | None,
    part: str,
) -> pd.DataFrame:
    base = _engine(rules)
    engines = {name: _engine(rules, changes) for name, changes in scenarios}
    if part == "groups":
        # The groups alone: summed a step of lines at a time, only the reached lines
        # repriced under each scenario.
        groups = _simulate(base, engines, _arrow(frame), at=at, currency=currency, per_line=False, by=by).groups
        return _pandas(groups)
    sim = _simulate(base, engines, _arrow(frame), at=at, currency=currency, by=[])
    # A partition's row numbers mean nothing across partitions: the caller's own columns
    # identify a line.
    return _pandas(sim.lines.drop_columns(["row"]))


@dataclass(frozen=True)
class DaskSimulation:
    """What :func:`simulate` returns: ``lines``, lazy (one row per line and scenario; ``None``
    when asked ``per_line=False``), and ``groups``, computed (the partitions' aggregates added
    up: the same table :func:`tarif.simulate` gives for the whole frame)."""

    lines: dd.DataFrame | None
    groups: pd.DataFrame


def simulate(
    lines: dd.DataFrame,
    rules: str | os.PathLike[str],
    scenarios: Mapping[str, str | dict[str, Any]],
    *,
    at: Any = None,
    currency: str | None = None,
    per_line: bool = True,
    by: Iterable[str] | None = None,
) -> DaskSimulation:
    """:func:`tarif.simulate` over the partitions of ``lines``; each scenario is a
    ``tarif/1-changes`` document applied to the rules once per worker. ``per_line=False``
    leaves ``lines`` ``None`` and computes the groups alone (as :func:`tarif.simulate`
    does); ``by`` names the groupings computed, as in :func:`tarif.simulate`."""
    import json

    rules = os.fspath(rules)
    changes = tuple((name, s if isinstance(s, str) else json.dumps(s, default=str)) for name, s in scenarios.items())
    args = (rules, changes, at, currency, None if by is None else list(by))
    priced = None
    if per_line:
        line_meta = _simulate_partition(lines._meta, *args, "lines")
        priced = lines.map_partitions(_simulate_partition, *args, "lines", meta=line_meta)
    group_meta = _simulate_partition(lines._meta, *args, "groups")
    partial = lines.map_partitions(_simulate_partition, *args, "groups", meta=group_meta)
    # A partition's groups are few next to its lines: they are gathered, and the core adds
    # them up and orders them as tarif.simulate does.
    parts = _arrow(partial.compute())
    groups = _pandas(add_up_groups(parts, ["base", *scenarios]))
    return DaskSimulation(lines=priced, groups=groups)
