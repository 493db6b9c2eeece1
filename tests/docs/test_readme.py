"""The README's Python and TOML examples are tested files, copied verbatim."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLES = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "tests" / "examples").iterdir() if p.is_file()}
BLOCKS = re.findall(r"```(python|toml)\n(.*?)```", README, flags=re.S)


def test_the_readme_has_examples() -> None:
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize(("lang", "block"), BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_every_code_block_is_part_of_a_tested_example_file(lang: str, block: str) -> None:
    homes = [name for name, text in EXAMPLES.items() if block in text]
    assert homes, f"this README {lang} block is not verbatim in any tests/examples file:\n{block[:400]}"


def test_every_section_marker_is_closed() -> None:
    opened = re.findall(r"<!-- section:([a-z]+) -->", README)
    closed = re.findall(r"<!-- /section:([a-z]+) -->", README)
    assert opened == closed
    assert len(set(opened)) == len(opened)
