"""The README: short, its code blocks tested (tests/docs/test_blocks.py), its table in step with the code."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from .reference_hook import hook

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_stays_short() -> None:
    assert 200 <= len(README.splitlines()) < 300


def test_the_two_commands_come_first_then_using_it_from_a_project() -> None:
    headings = re.findall(r"^## (.+)$", README, flags=re.M)
    assert headings[:3] == ["The two commands", "Use it from your project", "Run it as a service"]


def test_the_configuration_table_is_the_code_s() -> None:
    rows = [line for line in README.splitlines() if re.match(r"^\| `[a-z_]+` \| `--", line)]
    assert rows == hook().readme_rows()


def test_every_relative_link_and_image_points_at_a_file() -> None:
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    local = [t for t in targets if not re.match(r"^[a-z]+:", t)]
    assert local
    for target in local:
        assert (ROOT / target).is_file(), target


def test_the_picture_is_the_committed_screenshot() -> None:
    assert "![" in README and "(docs/img/calls-page.png)" in README
    assert (ROOT / "docs" / "img" / "calls-page.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_numbers_say_how_they_were_measured() -> None:
    assert "TIMING" not in README
    assert re.search(r"\d+ tests", README) and "git clone" in README


# ---- the README's tests, as a user pastes them into a project of their own ---------------------------


def readme_blocks(lang: str) -> list[str]:
    from .test_blocks import fenced_blocks

    return [body for found, body, _line in fenced_blocks(README) if found == lang]


def run_user_project(folder: Path, files: dict[str, str], *options: str) -> subprocess.CompletedProcess[str]:
    """pytest in a folder of its own, with only the given files: no conftest, the installed plugin."""
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    if not any(n in files for n in ("pytest.ini", "pyproject.toml")):
        (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")  # the rootdir: nothing above it counts
    # Only the plugins the pytest extra installs: pytest-asyncio's and ours (not the test tools' here).
    plugins = ["-p", "asyncio", "-p", "mockserver.testing.plugin"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")} | {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *plugins, *options],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_each_python_block_of_the_readme_runs_alone(tmp_path: Path) -> None:
    blocks = readme_blocks("python")
    assert len(blocks) == 2
    for i, block in enumerate(blocks):
        folder = tmp_path / f"alone{i}"
        folder.mkdir()
        result = run_user_project(folder, {"test_readme_block.py": block})
        assert result.returncode == 0, result.stdout + result.stderr
        assert "1 passed" in result.stdout


def test_the_python_blocks_of_the_readme_run_pasted_into_one_file(tmp_path: Path) -> None:
    blocks = readme_blocks("python")
    result = run_user_project(tmp_path, {"test_readme_blocks.py": "\n\n".join(blocks)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(blocks)} passed" in result.stdout


@pytest.mark.parametrize(("lang", "file"), [("toml", "pyproject.toml"), ("ini", "pytest.ini")])
def test_the_readme_s_pytest_asyncio_lines_need_no_marker_and_silence_the_warning(
    tmp_path: Path, lang: str, file: str
) -> None:
    (config,) = readme_blocks(lang)
    unmarked = "\n\n".join(readme_blocks("python")).replace("@pytest.mark.asyncio  #", "#")
    assert "@pytest.mark.asyncio" not in unmarked
    result = run_user_project(tmp_path, {file: config, "test_readme_blocks.py": unmarked}, "-W", "error")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout and "warning" not in result.stdout


def test_what_the_readme_s_tests_import_comes_with_the_pytest_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirement = re.compile(r"[A-Za-z0-9_.-]+")
    brought = {"mockserver"} | {
        requirement.match(r).group(0).lower()
        for r in [*project["dependencies"], *project["optional-dependencies"]["pytest"]]
    }
    owners = importlib.metadata.packages_distributions()
    imported = set()
    for block in readme_blocks("python"):
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported if m not in sys.stdlib_module_names}
    assert {"requests", "aiohttp", "pytest"} <= third_party
    for module in third_party:
        distributions = {d.lower() for d in owners.get(module, [module])}
        assert distributions & brought, f"the README's tests import {module}, which the pytest extra does not install"


def test_the_configuration_reference_is_a_link() -> None:
    paragraph = next(p for p in README.split("\n\n") if "configuration" in p and "reference" in p and "make docs" in p)
    links = re.findall(r"\]\(([^)]+)\)", paragraph)
    assert "docs/hooks/reference.py" in links and any(link.endswith("config.py") for link in links)
