"""``tarif.EngineHandle``: the engine a service serves, swapped atomically."""

from __future__ import annotations

import os
import threading
from typing import Any

from tarif._tarif import Engine


class EngineHandle:
    """Serves the current engine and swaps to a new one atomically.

    Queries go to the engine current when they are called (``handle.quote(...)`` is
    ``handle.engine.quote(...)``) and finish on it even if a swap happens meanwhile; every
    answer carries its ``engine_version``. ``apply`` and ``reload`` build the next engine
    without holding up readers (the GIL is released while it compiles) and swap it in only if
    it built: a rejected change raises and the current engine keeps serving. Changes are
    applied one at a time, each to the engine the previous one produced.
    """

    __slots__ = ("_engine", "_lock")

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        """The engine serving queries now."""
        return self._engine

    @property
    def engine_version(self) -> str:
        """``engine_version`` of the current engine."""
        return self._engine.engine_version

    def swap(self, engine: Engine) -> Engine:
        """Serves ``engine`` from now on; returns the one it replaces."""
        with self._lock:
            previous, self._engine = self._engine, engine
        return previous

    def apply(self, changes: str | dict[str, Any], *, strict: bool = False) -> Engine:
        """Applies a ``tarif/1-changes`` document to the current engine and serves the result."""
        with self._lock:
            engine = self._engine.apply(changes, strict=strict)
            self._engine = engine
        return engine

    def reload(self, path: str | os.PathLike[str], *, strict: bool = False) -> Engine:
        """Compiles a rules file, or opens a snapshot (``Engine.save``), and serves it once
        loaded."""
        engine = Engine.from_path(path, strict=strict)
        with self._lock:
            self._engine = engine
        return engine

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def __repr__(self) -> str:
        return f"<tarif.EngineHandle serving {self._engine!r}>"
