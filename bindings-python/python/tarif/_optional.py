"""Optional dependencies: a clear install hint when one is missing.

pyarrow is the ``arrow`` extra (``pip install 'tarif[arrow]'``): only the Arrow batch path,
``Engine.quote_many``, needs it, and the native module imports it at that point. Whichever code
imports it, a missing pyarrow then raises a ``ModuleNotFoundError`` that says how to install it,
instead of a bare ``No module named 'pyarrow'``.
"""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

# Top-level module -> the extra of the tarif distribution that installs it.
EXTRAS = {"pyarrow": "arrow"}


class MissingExtraHint(importlib.abc.MetaPathFinder):
    """Consulted last on ``sys.meta_path``, hence only for a module no other finder found."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        extra = EXTRAS.get(fullname)
        if extra is None:
            return None
        raise ModuleNotFoundError(
            f"No module named {fullname!r}: tarif's Arrow batches (Engine.quote_many) need it; "
            f"install it with: pip install 'tarif[{extra}]'",
            name=fullname,
        )


def install() -> None:
    """Appends the hint finder once, behind every finder that can actually import modules."""
    if not any(isinstance(finder, MissingExtraHint) for finder in sys.meta_path):
        sys.meta_path.append(MissingExtraHint())
