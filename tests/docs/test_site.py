"""The documentation site builds with `mkdocs build --strict`: any warning (a broken link or anchor, a
page left out of the navigation, a docstring mkdocstrings cannot render) fails the build and this test.
The reference pages generated from the code (docs/hooks/reference.py) are checked against the code."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .reference_hook import hook

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    assert not re.search(r"^(WARNING|ERROR)\b", log, flags=re.M), log
    return out


def page(site: Path, path: str) -> str:
    return (site / path / "index.html").read_text(encoding="utf-8")


def test_every_page_of_the_navigation_is_built(site: Path) -> None:
    for path in ("getting-started", "pytest", "service", "the-call", "auth", "journal", "faults-and-state"):
        assert "</html>" in page(site, path)
    for path in ("beyond-one-call", "proxy", "limits", "differences", "performance", "architecture", "changelog"):
        assert "</html>" in page(site, path)
    assert (site / "img" / "calls-page.png").is_file()
    assert (site / "search" / "search_index.json").is_file()  # the search box has its index
    assert not (site / "hooks").exists()  # the generator is not published


def test_the_configuration_reference_lists_every_setting_with_its_option_and_variable(site: Path) -> None:
    from mockserver.core.config import env_name, option_name, setting_fields

    html = page(site, "reference/configuration")
    for f in setting_fields():
        assert f"<code>{f.name}</code>" in html
        assert env_name(f.name) in html
        if f.metadata["cli"]:
            assert option_name(f.name).removesuffix("s") in html


def test_the_command_line_reference_holds_every_sub_command_and_option(site: Path) -> None:
    from mockserver.tools.cli import build_parser

    html = page(site, "reference/cli")
    module = hook()
    for name, sub in module.sub_parsers(build_parser()):
        assert f"mockserver {name}" in html
        for action in sub._actions:
            for option in action.option_strings:
                assert option in html, (name, option)


def test_the_api_reference_is_rendered_from_the_docstrings(site: Path) -> None:
    html = page(site, "reference/api")
    for anchor in ("mockserver.core.fake.Fake.assert_saved", "mockserver.testing.server.ThreadedFakeServer"):
        assert f'id="{anchor}"' in html
    assert "A fresh fake served from a background thread" in html  # superoffice_fake's docstring


def test_the_limits_page_shows_the_values_in_force(site: Path) -> None:
    from mockserver.core.config import Settings
    from mockserver.core.headers.steps import MAX_HEADER_VALUE

    html = page(site, "limits")
    assert "generated:limits" not in html
    assert f"{Settings().journal_limit:,}" in html
    assert module_size(MAX_HEADER_VALUE) in html


def module_size(size: int) -> str:
    return hook().human_size(size)
