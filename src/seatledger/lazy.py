"""Modules imported on first use, so that start-up does not pay for what the first page does
not need (numpy takes ~0.1 s; the start-up budget is 1.5 s for everything)."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for a module until an attribute is read, then imports it (once; after that each
    read is a dictionary lookup).  Annotations never trigger it: they stay strings."""

    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attribute)
