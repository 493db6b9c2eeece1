"""docs/hooks/reference.py (the MkDocs hook that generates the reference pages), loaded for the tests."""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
NAME = "mockserver_docs_reference_hook"


@functools.cache
def hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location(NAME, ROOT / "docs" / "hooks" / "reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[NAME] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module
