"""The README: short, its code blocks tested (tests/docs/test_blocks.py), its table in step with the code."""

from __future__ import annotations

import re
from pathlib import Path

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
