"""The exception hierarchy of tarif: one base class, a stable ``code`` on every error."""

from __future__ import annotations

from typing import Any


class TarifError(Exception):
    """Base of every tarif error.

    ``code`` is stable (``UNKNOWN_ACCOUNT``, ``COMPILE_ERROR``, ``FLOAT_REJECTED``…);
    ``details`` holds the values the message names: a dict, or for ``CompileError`` the list of
    every diagnostic (dicts with ``code``, ``severity``, ``path``, ``message``, ``ids``).
    ``INTERNAL`` marks a bug in tarif (a Rust panic), never a bad input.
    """

    code: str
    details: Any

    def __init__(self, message: str, code: str = "INTERNAL", details: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.details = {} if details is None else details

    def __reduce__(self) -> tuple[Any, ...]:
        # The default pickling passes only ``args`` (the message) back to ``__init__``.
        return (type(self), (str(self), self.code, self.details))


class CompileError(TarifError):
    """The rules document was rejected; ``details`` lists every problem with its path."""


class QuoteError(TarifError):
    """A query has no answer: unknown account or product, hidden or missing price…"""


class SnapshotError(TarifError):
    """A snapshot file is damaged or not one (``SNAPSHOT_CORRUPT``), or was written in a
    format version this build does not read (``SNAPSHOT_VERSION``)."""


class InputError(TarifError, TypeError, ValueError):
    """A Python value tarif cannot use (a float quantity, a naive datetime…).

    It is also a ``TypeError`` and a ``ValueError``, so code written against Python's usual
    conversions catches it too.
    """
