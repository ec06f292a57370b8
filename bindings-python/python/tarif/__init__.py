"""Tarif: a B2B pricing and catalog-visibility engine.

Compile a ``tarif/1`` rules document once into an :class:`Engine`, then ask it, exactly and
fast, what a customer may see and buy, at which price, and why::

    import tarif
    engine = tarif.Engine.from_json(tarif.sample_document())
    quote = engine.quote("R-ELECDIS", "DRL-MAK-DHP487-K5-L", 3, at="2027-03-18")
    quote.unit_price  # Decimal('…'), exactly the Rust engine's value

Amounts are ``decimal.Decimal``; floats are refused. Batches go through Arrow:
``engine.quote_many(table)`` returns a pyarrow Table (``pip install 'tarif[arrow]'``). ``engine.search(account, filters=[...],
facets=[...])`` pages through a customer's own catalog; ``engine.related(account, sku,
"accessories")`` lists what goes with a product.
"""

from tarif import _optional
from tarif._errors import CompileError, InputError, QuoteError, TarifError
from tarif._tarif import (
    CandidateReport,
    Capabilities,
    Diagnostic,
    Engine,
    Explanation,
    FacetCounts,
    FacetValue,
    Quote,
    RelatedProduct,
    RowPrice,
    SearchPage,
    SearchRow,
    Step,
    StepReport,
    Variant,
    VisibilityReport,
    __version__,
    sample_document,
)

_optional.install()

__all__ = [
    "CandidateReport",
    "Capabilities",
    "CompileError",
    "Diagnostic",
    "Engine",
    "Explanation",
    "FacetCounts",
    "FacetValue",
    "InputError",
    "Quote",
    "QuoteError",
    "RelatedProduct",
    "RowPrice",
    "SearchPage",
    "SearchRow",
    "Step",
    "StepReport",
    "TarifError",
    "Variant",
    "VisibilityReport",
    "__version__",
    "sample_document",
]
