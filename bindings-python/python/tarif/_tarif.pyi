# Hand-written stub of the native module; `make test` checks it against the built module with
# mypy.stubtest.
from datetime import date, datetime
from decimal import Decimal
from os import PathLike
from collections.abc import Callable, Iterable
from typing import Any, Literal, Required, TypedDict, final, overload

import pyarrow  # type: ignore[import-untyped]

__all__ = [
    "Adjustment",
    "CandidateReport",
    "Capabilities",
    "ConditionReport",
    "Diagnostic",
    "Engine",
    "EntityChange",
    "Explanation",
    "FacetCounts",
    "FacetValue",
    "LineError",
    "OrderExplanation",
    "OrderText",
    "PreparedQuote",
    "PricedOrder",
    "Quote",
    "RelatedProduct",
    "RowPrice",
    "SearchPage",
    "SearchRow",
    "Step",
    "StepReport",
    "Stock",
    "TextLine",
    "Variant",
    "VisibilityReport",
    "__version__",
    "add_up_groups",
    "pivot_groups",
    "run_cli",
    "scenario_changes",
    "scenario_engine",
    "simulate_tables",
]
__version__: str

_Qty = Decimal | int | str
_At = datetime | date | str
_Ids = str | Iterable[str]

class _OrderLine(TypedDict, total=False):
    ref: str
    sku: str
    qty: Required[_Qty]
    cost_centre: str | None
    ship_to: str | None

# Search filters, sorts and facets: plain dicts in the shape of the shared fixtures.
class _Approvers(TypedDict):
    role: str | None
    users: list[str]

class _ApprovalReason(TypedDict):
    rule: str
    kind: Literal["total_above", "products", "cost_centre_budget", "user_limit", "role"]
    approvers: _Approvers
    detail: str

class _PriceOverride(TypedDict):
    origin: Literal["manual", "quote"]
    rules_unit_price: Decimal | None
    rules_line_total: Decimal | None

class _PlacedQuote(TypedDict):
    number: str | None
    engine_version: str
    priced_at: datetime
    valid_until: datetime
    rules_changed: bool

class _Approval(TypedDict):
    decision: Literal["allowed", "needs_approval", "refused"]
    reasons: list[_ApprovalReason]

class _AttrValues(TypedDict):
    attr: str
    any_of: str | Iterable[str | int | bool | Decimal]

class _AttrRange(TypedDict, total=False):
    attr: Required[str]
    min: Decimal | int | str | None
    max: Decimal | int | str | None

class _Category(TypedDict):
    category: _Ids

class _Brand(TypedDict):
    brand: _Ids

class _Family(TypedDict):
    family: _Ids

class _InStock(TypedDict):
    in_stock: Literal[True]

class _AttrSort(TypedDict, total=False):
    attr: Required[str]
    descending: bool

class _AttrFacet(TypedDict):
    attr: str

_Filter = _AttrValues | _AttrRange | _Category | _Brand | _Family | _InStock
_Sort = Literal["sku"] | _AttrSort
_Facet = Literal["brand", "category", "family", "in_stock"] | _AttrFacet
_Capability = Literal["see", "price", "buy"]
_RelationKind = Literal["requires", "accessories", "compatible", "excludes", "replacement"]

def run_cli(args: list[str]) -> int: ...
def pivot_groups(groups: pyarrow.Table, grouping: str, scenarios: list[str]) -> pyarrow.Table: ...
def add_up_groups(groups: pyarrow.Table, scenarios: list[str]) -> pyarrow.Table: ...
def scenario_changes(base: Engine, edits: list[dict[str, Any]]) -> str: ...
def scenario_engine(base: Engine, edits: list[dict[str, Any]], *, strict: bool = False) -> Engine: ...
def simulate_tables(
    base: Engine,
    names: list[str],
    engines: list[Engine],
    lines: Any,
    at: Any = None,
    currency: str | None = None,
    progress: Callable[[int, int], object] | None = None,
    per_line: bool = True,
    by: list[str] | None = None,
) -> tuple[pyarrow.Table | None, pyarrow.Table]: ...
@final
class Engine:
    @staticmethod
    def from_json(
        text: str,
        *,
        strict: bool = False,
        progress: Callable[[str, int, int], object] | None = None,
    ) -> Engine: ...
    @staticmethod
    def from_path(
        path: str | PathLike[str],
        *,
        strict: bool = False,
        progress: Callable[[str, int, int], object] | None = None,
    ) -> Engine: ...
    @staticmethod
    def from_dict(
        document: dict[str, Any],
        *,
        strict: bool = False,
        progress: Callable[[str, int, int], object] | None = None,
    ) -> Engine: ...
    @staticmethod
    def open(path: str | PathLike[str]) -> Engine: ...
    def save(self, path: str | PathLike[str]) -> None: ...
    def apply(self, changes: str | dict[str, Any], *, strict: bool = False) -> Engine:
        """Applies a ``tarif/1-changes`` document: a new engine, this one untouched."""
    @overload
    def diff(
        self, new: Engine, lines: None = None, at: _At | None = None, currency: str | None = None
    ) -> list[EntityChange]: ...
    @overload
    def diff(
        self, new: Engine, lines: Any, at: _At | None = None, currency: str | None = None
    ) -> pyarrow.Table: ...
    @staticmethod
    def import_tables(
        manifest: str | PathLike[str] | dict[str, Any],
        *,
        tables: dict[str, Any] | None = None,
        strict: bool = False,
    ) -> Engine: ...
    def quote(
        self,
        account: str,
        sku: str,
        qty: _Qty,
        at: _At | None = None,
        currency: str | None = None,
    ) -> Quote: ...
    def explain(
        self,
        account: str,
        sku: str,
        qty: _Qty,
        at: _At | None = None,
        currency: str | None = None,
    ) -> Explanation: ...
    def price_order(
        self,
        account: str,
        lines: Iterable[tuple[str, _Qty] | _OrderLine],
        at: _At | None = None,
        currency: str | None = None,
        user: str | None = None,
        spent: dict[str, Decimal | int | str] | None = None,
    ) -> PricedOrder: ...
    def prepare_quote(
        self,
        account: str,
        lines: Iterable[tuple[str, _Qty] | _OrderLine],
        *,
        valid_until: _At,
        key: bytes | str,
        manual_prices: Iterable[Decimal | int | str | None] | None = None,
        at: _At | None = None,
        currency: str | None = None,
        user: str | None = None,
        spent: dict[str, Decimal | int | str] | None = None,
        number: str | None = None,
    ) -> PreparedQuote: ...
    def place_quote(
        self,
        document: str,
        *,
        key: bytes | str,
        at: _At | None = None,
        user: str | None = None,
        spent: dict[str, Decimal | int | str] | None = None,
    ) -> PricedOrder: ...
    def explain_order(
        self,
        account: str,
        lines: Iterable[tuple[str, _Qty] | _OrderLine],
        at: _At | None = None,
        currency: str | None = None,
        user: str | None = None,
        spent: dict[str, Decimal | int | str] | None = None,
    ) -> OrderExplanation: ...
    def parse_order_lines(
        self,
        account: str,
        text: str,
        at: _At | None = None,
        *,
        merge_duplicates: bool = True,
    ) -> OrderText: ...
    def visibility(self, account: str, sku: str, at: _At | None = None) -> Capabilities: ...
    def lookup(self, account: str, reference: str, at: _At | None = None) -> str: ...
    def quote_many(
        self,
        accounts: Any,
        skus: Any | None = None,
        qtys: Any | None = None,
        at: _At | Iterable[_At | None] | Any | None = None,
        currency: str | None = None,
        *,
        progress: Callable[[int, int], object] | None = None,
        detail: bool = False,
        keep: bool = False,
    ) -> pyarrow.Table:
        """Columns are lists, numpy arrays or pyarrow arrays; or pass one table (anything with
        ``__arrow_c_stream__``) with columns ``account``, ``sku``, ``qty`` (and ``at``). Priced as
        one batch on the core's threads: every 20 ms Ctrl-C is checked (it raises
        ``KeyboardInterrupt``) and ``progress(done, total)`` is called if rows were priced since
        its last call. ``detail`` adds ``product``, ``rule``, ``base_price``,
        ``list_price``, ``cost``; ``keep`` returns the table's own columns first."""
    def search(
        self,
        account: str,
        *,
        filters: Iterable[_Filter] | None = None,
        text: str | None = None,
        capability: _Capability | None = None,
        sort: _Sort | None = None,
        offset: int | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        facets: Iterable[_Facet] | None = None,
        group_variants: bool | None = None,
        price_qty: _Qty | None = None,
        currency: str | None = None,
        at: _At | None = None,
    ) -> SearchPage:
        """``None`` is the default of each option: capability ``"see"``, sort by SKU, offset 0,
        limit 20, variants not grouped."""
    def related(
        self, account: str, reference: str, kind: _RelationKind, at: _At | None = None
    ) -> list[RelatedProduct]: ...
    @property
    def diagnostics(self) -> list[Diagnostic]: ...
    @property
    def engine_version(self) -> str: ...
    def skus(self) -> list[str]: ...
    def accounts(self) -> list[str]: ...
    def accounts_table(self) -> pyarrow.Table: ...
    def currencies(self) -> list[str]: ...
    def __reduce__(self) -> tuple[Any, tuple[str]]: ...

@final
class Quote:
    @property
    def sku(self) -> str: ...
    @property
    def qty(self) -> Decimal: ...
    @property
    def currency(self) -> str: ...
    @property
    def unit_price(self) -> Decimal: ...
    @property
    def line_total(self) -> Decimal: ...
    @property
    def base_price(self) -> Decimal: ...
    @property
    def list_price(self) -> Decimal | None: ...
    @property
    def buyable(self) -> bool: ...
    @property
    def stage(self) -> str: ...
    @property
    def steps(self) -> tuple[Step, ...]: ...
    @property
    def engine_version(self) -> str: ...
    @property
    def stock(self) -> Stock | None: ...

@final
class Stock:
    @property
    def available(self) -> Decimal: ...
    @property
    def backorder(self) -> Decimal: ...
    @property
    def lead_time_days(self) -> int | None: ...
    @property
    def warehouses(self) -> tuple[tuple[str, Decimal, int | None], ...]: ...

@final
class LineError:
    @property
    def code(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def details(self) -> dict[str, Any]: ...

@final
class PricedOrder:
    @property
    def lines(self) -> list[Quote | LineError]: ...
    @property
    def subtotal(self) -> Decimal: ...
    @property
    def adjustments(self) -> list[Adjustment]: ...
    @property
    def allocated(self) -> list[Decimal]: ...
    @property
    def total(self) -> Decimal: ...
    @property
    def currency(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def failed_lines(self) -> int: ...
    @property
    def engine_version(self) -> str: ...
    @property
    def approval(self) -> _Approval: ...
    @property
    def overrides(self) -> list[_PriceOverride | None]: ...
    @property
    def placed_quote(self) -> _PlacedQuote | None: ...

@final
class PreparedQuote:
    @property
    def order(self) -> PricedOrder: ...
    @property
    def document(self) -> str | None: ...

@final
class Adjustment:
    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def ship_to(self) -> str | None: ...
    @property
    def why(self) -> str: ...

@final
class ConditionReport:
    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def applied(self) -> bool: ...
    @property
    def reason(self) -> str: ...

@final
class OrderExplanation:
    @property
    def lines(self) -> list[Explanation | LineError]: ...
    @property
    def subtotal(self) -> Decimal: ...
    @property
    def conditions(self) -> list[ConditionReport]: ...
    @property
    def adjustments(self) -> list[Adjustment]: ...
    @property
    def allocated(self) -> list[Decimal]: ...
    @property
    def total(self) -> Decimal: ...
    @property
    def refused(self) -> LineError | None: ...
    @property
    def approval(self) -> _Approval: ...

@final
class OrderText:
    @property
    def format(self) -> str: ...
    @property
    def header(self) -> bool: ...
    @property
    def lines(self) -> list[TextLine]: ...
    def order_lines(self) -> list[_OrderLine]: ...

@final
class TextLine:
    @property
    def line(self) -> int: ...
    @property
    def merged(self) -> list[int]: ...
    @property
    def reference(self) -> str: ...
    @property
    def qty(self) -> Decimal | None: ...
    @property
    def sku(self) -> str | None: ...
    @property
    def cost_centre(self) -> str | None: ...
    @property
    def ship_to(self) -> str | None: ...
    @property
    def error(self) -> LineError | None: ...

@final
class Step:
    @property
    def step(self) -> str: ...
    @property
    def rule(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def level(self) -> str: ...
    @property
    def before(self) -> Decimal | None: ...
    @property
    def after(self) -> Decimal: ...
    @property
    def notes(self) -> tuple[str, ...]: ...

@final
class Capabilities:
    @property
    def see(self) -> bool: ...
    @property
    def price(self) -> bool: ...
    @property
    def buy(self) -> bool: ...

@final
class Diagnostic:
    @property
    def code(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def ids(self) -> tuple[str, ...]: ...

@final
class Explanation:
    @property
    def account(self) -> str: ...
    @property
    def sku(self) -> str: ...
    @property
    def qty(self) -> Decimal: ...
    @property
    def at(self) -> datetime: ...
    @property
    def currency(self) -> str: ...
    @property
    def visibility(self) -> VisibilityReport: ...
    @property
    def steps(self) -> tuple[StepReport, ...]: ...
    @property
    def unit_price(self) -> Decimal | None: ...
    @property
    def line_total(self) -> Decimal | None: ...
    @property
    def error_code(self) -> str | None: ...
    @property
    def error_message(self) -> str | None: ...

@final
class VisibilityReport:
    @property
    def allowed(self) -> tuple[bool, bool, bool]: ...
    @property
    def decided_by(self) -> tuple[str | None, str | None, str | None]: ...

@final
class StepReport:
    @property
    def step(self) -> str: ...
    @property
    def select(self) -> str: ...
    @property
    def skipped(self) -> bool: ...
    @property
    def candidates(self) -> tuple[CandidateReport, ...]: ...

@final
class CandidateReport:
    @property
    def rule(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def level(self) -> str: ...
    @property
    def priority(self) -> int: ...
    @property
    def specificity(self) -> str: ...
    @property
    def result(self) -> Decimal | None: ...
    @property
    def applied(self) -> bool: ...
    @property
    def reason(self) -> str: ...

@final
class SearchPage:
    @property
    def rows(self) -> tuple[SearchRow, ...]: ...
    @property
    def total(self) -> int: ...
    @property
    def next(self) -> str | None: ...
    @property
    def facets(self) -> tuple[FacetCounts, ...]: ...
    def skus(self) -> list[str]: ...
    def facet(self, name: str) -> dict[str, int]: ...

@final
class SearchRow:
    @property
    def sku(self) -> str: ...
    @property
    def name(self) -> str | None: ...
    @property
    def brand(self) -> str | None: ...
    @property
    def family(self) -> str | None: ...
    @property
    def capabilities(self) -> Capabilities: ...
    @property
    def variants(self) -> tuple[Variant, ...]: ...
    @property
    def price(self) -> RowPrice | None: ...

@final
class Variant:
    @property
    def sku(self) -> str: ...
    @property
    def axes(self) -> dict[str, str]: ...
    @property
    def capabilities(self) -> Capabilities: ...
    @property
    def price(self) -> RowPrice | None: ...

@final
class RowPrice:
    @property
    def status(self) -> str: ...
    @property
    def ok(self) -> bool: ...
    @property
    def unit_price(self) -> Decimal | None: ...
    @property
    def line_total(self) -> Decimal | None: ...
    @property
    def currency(self) -> str | None: ...

@final
class FacetCounts:
    @property
    def kind(self) -> Literal["attr", "brand", "category", "family", "in_stock"]: ...
    @property
    def name(self) -> str: ...
    @property
    def values(self) -> tuple[FacetValue, ...]: ...
    @property
    def counts(self) -> dict[str, int]: ...

@final
class FacetValue:
    @property
    def value(self) -> str: ...
    @property
    def count(self) -> int: ...

@final
class RelatedProduct:
    @property
    def sku(self) -> str: ...
    @property
    def capabilities(self) -> Capabilities: ...

@final
class EntityChange:
    """One entity that differs between two engines' documents."""

    @property
    def section(self) -> str: ...
    @property
    def parent(self) -> str | None: ...
    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> Literal["added", "removed", "modified"]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
