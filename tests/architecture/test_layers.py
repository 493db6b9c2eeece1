"""The package's structure, checked: layers, the core's wings, a pure core, no cycles, declared imports.

The rules themselves live in pyproject.toml ([tool.importlinter], [tool.deptry], ruff's PLC0415);
these tests run the tools that enforce them, so `make test` fails the moment a rule is broken.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import warnings
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "mockserver"
BIN = Path(sys.executable).parent
# A module holds one idea a reader can hold: most stay under the guideline (a warning says which do
# not, to be looked at, not split); past the ceiling it is surely more than one idea.
GUIDELINE_LINES = 500
CEILING_LINES = 1000
CONTRACTS = ("layers", "wings", "pure-core", "tools-on-top", "acyclic")
CORE = PACKAGE / "core"
WINGS = {"vocabulary", "headers", "body", "answering", "proxy", "storage", "online"}
# At the top of the core, only what ties the wings together.
TIES = {"__init__.py", "fake.py", "exchange.py", "assertions.py", "loader.py", "tenants.py", "config.py"}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("contract", CONTRACTS)
def test_import_contract_is_kept(contract: str) -> None:
    done = _run(str(BIN / "lint-imports"), "--no-cache", "--contract", contract)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


def test_every_third_party_import_is_declared() -> None:
    done = _run(str(BIN / "deptry"), "mockserver")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_package_imports_its_own_modules_at_the_top_only() -> None:
    done = _run(str(BIN / "ruff"), "check", "--no-cache", "--select", "PLC0415", "mockserver")
    assert done.returncode == 0, done.stdout + done.stderr


def _private_names_imported_across_modules() -> list[str]:
    """`from mockserver.x import _name` in another module of the package (tests may; the package may not)."""
    graph = grimp.build_graph("mockserver")
    found = []
    for importer in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(importer):
            for detail in graph.get_import_details(importer=importer, imported=imported):
                source = _module_file(importer)
                tree = ast.parse(source.read_text(encoding="utf-8"))
                for node in ast.walk(tree):
                    if isinstance(node, ast.ImportFrom) and node.lineno == detail["line_number"]:
                        private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
                        found += [f"{importer}:{node.lineno} imports {imported}.{name}" for name in private]
    return sorted(set(found))


def _module_file(module: str) -> Path:
    path = ROOT.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def test_no_module_imports_another_modules_private_names() -> None:
    assert _private_names_imported_across_modules() == []


@pytest.mark.parametrize("module", ["mockserver.core", "mockserver"])
def test_importing_the_core_leaves_aiohttp_out(module: str) -> None:
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.split('.')[0] in ('aiohttp', 'pytest')))"
    done = _run(sys.executable, "-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_lazy_names_still_load_the_servers() -> None:
    done = _run(sys.executable, "-c", "import mockserver; print(mockserver.FakeServer.__module__)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "mockserver.testing.server"


def test_modules_hold_one_idea() -> None:
    sizes = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.rglob("*.py")}
    assert sizes, "no modules found"
    assert {name: n for name, n in sizes.items() if n > CEILING_LINES} == {}
    long = {name: n for name, n in sizes.items() if n > GUIDELINE_LINES}
    if long:
        warnings.warn(f"modules past the ~{GUIDELINE_LINES}-line guideline (one idea each?): {long}", stacklevel=1)


def test_the_core_top_holds_only_the_wings_and_what_ties_them() -> None:
    entries = {p.name for p in CORE.iterdir() if p.name != "__pycache__" and not p.name.startswith(".")}
    assert "fake.py" in entries
    folders = {name for name in entries if (CORE / name).is_dir()}
    assert folders - WINGS - {"storage"} == set(), "a folder under core/ that is no wing"
    assert entries - folders - TIES == set(), "a module at the core's top that ties no wings together"


@pytest.mark.parametrize("wing", sorted(WINGS))
def test_every_wing_says_what_it_holds(wing: str) -> None:
    init = CORE / wing / "__init__.py"
    doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
    assert doc is not None and len(doc.split()) >= 20, f"core/{wing}/__init__.py needs a paragraph saying what it holds"


def test_the_public_surface_is_sorted_and_complete() -> None:
    import mockserver

    assert mockserver.__all__ == sorted(mockserver.__all__)
    for name in mockserver.__all__:
        assert getattr(mockserver, name) is not None, name
