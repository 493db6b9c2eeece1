"""Every fenced block of the README and of every page under docs/ is tested, or checked another honest way.

- python, toml, ini: a verbatim part of a file under tests/examples/ (each such file is a test `make test` runs,
  or data one of them reads).
- yaml: a verbatim part of the compose example, which `make container-test` runs.
- sh (and shell, bash, console): a verbatim part of a test under tests/examples/ that runs it, or a
  block of a page whose own test extracts and runs it (RUN_FROM_PAGE); otherwise every command in it
  must be one CHECKERS knows, and that checker must pass: `mockserver ...` is parsed by the real
  argument parser, `make` targets must exist, `pip install` extras must be declared, the `docker`
  commands must agree with the Dockerfile and the settings, and so on.
- text, json and unlabelled blocks (outputs, pictures of folders): a verbatim part of the test that
  produced them, a block of a RUN_FROM_PAGE page, or one of ILLUSTRATIONS, each with its reason.
"""

from __future__ import annotations

import ast
import re
import shlex
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
EXAMPLES = {p: p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests" / "examples").iterdir()) if p.is_file()}
# The string constants of the example tests, as the tests use them (a shell script written with \\).
CONSTANTS = [
    node.value
    for path, text in EXAMPLES.items()
    if path.suffix == ".py"
    for node in ast.walk(ast.parse(text))
    if isinstance(node, ast.Constant) and isinstance(node.value, str)
]
COMPOSE = {p: p.read_text(encoding="utf-8") for p in [ROOT / "examples" / "compose" / "compose.yaml"]}
SHELL = {"sh", "shell", "bash", "console"}
OUTPUT = {"text", "json", ""}

# Pages whose own test reads their blocks and runs them (and compares what they print).
RUN_FROM_PAGE = {"docs/proxy.md": "tests/docs/test_proxy_doc.py"}

# Output-like blocks no test produces, by page and first line, and why that is fine.
ILLUSTRATIONS = {
    ("docs/architecture.md", "mockserver/"): "the package's folders; tests/architecture checks the layers they name",
    ("docs/testing.md", "somewhere/"): "where the reference folder goes; a picture of two folders",
}


def fenced_blocks(text: str) -> list[tuple[str, str, int]]:
    """(language, body, line number) of every ``` block; the body keeps its final newline."""
    found, lines, i = [], text.splitlines(keepends=True), 0
    while i < len(lines):
        opening = re.match(r"^```(\S*)\s*$", lines[i])
        if opening is None:
            i += 1
            continue
        start, i = i, i + 1
        while i < len(lines) and lines[i].rstrip("\n") != "```":
            i += 1
        if i == len(lines):
            raise AssertionError(f"a ``` block opened at line {start + 1} is never closed")
        found.append((opening.group(1), "".join(lines[start + 1 : i]), start + 1))
        i += 1
    return found


BLOCKS = [(page, *block) for page in PAGES for block in fenced_blocks(page.read_text(encoding="utf-8"))]


def in_a_test(body: str) -> bool:
    """Verbatim in an example test's source, or in one of its string constants (its final newline aside)."""
    if any(body in text for path, text in EXAMPLES.items() if path.suffix == ".py"):
        return True
    return any(body in constant or body.rstrip("\n") == constant for constant in CONSTANTS)


def name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def block_id(block: tuple[Path, str, str, int]) -> str:
    page, lang, _body, line = block
    return f"{name(page)}:{line}:{lang or 'plain'}"


# ---- what each program's commands are checked against ------------------------------------------


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z][\w.-]*):", text, flags=re.M))


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def env_names() -> set[str]:
    from mockserver.core.config import env_name, setting_fields

    return {env_name(f.name) for f in setting_fields()}


def check_make(words: list[str]) -> None:
    targets = [w for w in words[1:] if "=" not in w]
    assert targets, "make without a target"
    missing = set(targets) - makefile_targets()
    assert not missing, f"no such Makefile target: {sorted(missing)}"


def check_mockserver(words: list[str]) -> None:
    from mockserver.tools.cli import build_parser

    try:
        build_parser().parse_args(words[1:])
    except SystemExit as exc:
        raise AssertionError(f"mockserver's own parser refuses {shlex.join(words)}") from exc


def check_python(words: list[str]) -> None:
    assert words[1] == "-m", "only python -m MODULE is checked"
    module, args = words[2], words[3:]
    if module == "mockserver":
        check_mockserver(["mockserver", *args])
    elif module == "benchmarks":
        from benchmarks.__main__ import parse_args

        parse_args(args)
    else:
        raise AssertionError(f"no check for python -m {module}")


def check_pip(words: list[str]) -> None:
    assert words[1] == "install", "only pip install is checked"
    extras = pyproject()["project"]["optional-dependencies"]
    for spec in words[2:]:
        wanted = re.fullmatch(r"(?:.*/)?mockserver\[([\w,]+)\]", spec)
        assert wanted, f"pip install of something other than this package: {spec}"
        for extra in wanted.group(1).split(","):
            assert extra in extras, f"no extra {extra!r} in pyproject.toml"
    if "pytest" in " ".join(words):  # the fixtures' extra brings what the fixtures import
        needs = " ".join(extras["pytest"])
        assert "pytest>=" in needs and "pytest-asyncio" in needs


def check_docker(words: list[str]) -> None:
    sub, args = words[1], words[2:]
    text = dockerfile()
    if sub == "build":
        assert args[-1] == ".", "the build context is the repository"
        assert "-t" in args and args[args.index("-t") + 1] == "mockserver"
        for i, arg in enumerate(args):
            if arg == "--build-arg":
                assert f"ARG {args[i + 1].split('=')[0]}" in text, f"the Dockerfile has no ARG for {args[i + 1]}"
        return
    if sub == "run":
        assert args[-1] == "mockserver", "the image built above"
        for i, arg in enumerate(args):
            if arg == "-p":
                assert args[i + 1].endswith(":8080") and "EXPOSE 8080" in text
            elif arg == "-v":
                assert args[i + 1].endswith(":/data") and "VOLUME /data" in text
            elif arg == "-e":
                variable = args[i + 1].split("=")[0]
                assert variable in env_names(), f"{variable} is not a setting's variable"
                if variable == "MOCKSERVER_STATE":
                    assert args[i + 1].split("=", 1)[1].startswith("/data/")
        return
    if sub == "compose":
        check_compose(["docker-compose", *args])
        return
    raise AssertionError(f"no check for docker {sub}")


def check_compose(words: list[str]) -> None:
    # What tests/service/test_container.py runs in examples/compose: up --exit-code-from client, down --volumes.
    container_test = (ROOT / "tests" / "service" / "test_container.py").read_text(encoding="utf-8")
    allowed = {"up": {"--exit-code-from", "client"}, "down": {"-v", "--volumes"}}
    sub, args = words[1], set(words[2:])
    assert sub in allowed and args <= allowed[sub], f"compose {sub} {sorted(args)} is not what the container test runs"
    assert f'run("{sub}"' in container_test


def check_cd(words: list[str]) -> None:
    assert (ROOT / words[1]).is_dir(), f"no folder {words[1]}"


CHECKERS: dict[str, Callable[[list[str]], None]] = {
    "make": check_make,
    "mockserver": check_mockserver,
    "python": check_python,
    "python3": check_python,
    ".venv/bin/python": check_python,
    "pip": check_pip,
    "docker": check_docker,
    "docker-compose": check_compose,
    "cd": check_cd,
}


def commands(block: str) -> list[list[str]]:
    """The block's commands as words: continuation lines joined, comments dropped."""
    out = []
    for line in block.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        if words:
            assert not {"|", "&&", ";", "&", ">"} & set(words), f"a compound command must be run by a test: {line}"
            out.append(words)
    return out


# ---- the tests ----------------------------------------------------------------------------------


def test_there_are_blocks_of_every_kind() -> None:
    langs = {lang for _page, lang, _body, _line in BLOCKS}
    assert {"python", "toml", "yaml", "sh", "text", "json"} <= langs
    assert len(BLOCKS) >= 40


@pytest.mark.parametrize("block", BLOCKS, ids=block_id)
def test_every_block_is_tested_or_checked(block: tuple[Path, str, str, int]) -> None:
    page, lang, body, line = block
    where = f"{name(page)} line {line}"
    if name(page) in RUN_FROM_PAGE:
        test = ROOT / RUN_FROM_PAGE[name(page)]
        assert Path(name(page)).name in test.read_text(encoding="utf-8")
        return
    if lang in {"python", "toml", "ini"}:
        assert any(body in text for text in EXAMPLES.values()), f"{where}: not verbatim in tests/examples:\n{body}"
    elif lang == "yaml":
        assert any(body in text for text in COMPOSE.values()), f"{where}: not verbatim in the compose example"
    elif lang in SHELL:
        if in_a_test(body):
            return  # pasted from a test that runs it
        for words in commands(body):
            checker = CHECKERS.get(words[0])
            assert checker is not None, f"{where}: nothing checks the command {shlex.join(words)!r}; run it in a test"
            checker(words)
    elif lang in OUTPUT:
        first = body.splitlines()[0] if body else ""
        if (name(page), first) in ILLUSTRATIONS:
            return
        assert in_a_test(body), f"{where}: output no test produces:\n{body}"
    else:
        raise AssertionError(f"{where}: no rule for ```{lang} blocks")


def test_every_illustration_and_page_runner_is_still_there() -> None:
    for page, first in ILLUSTRATIONS:
        assert any(name(p) == page and b.startswith(first) for p, _lang, b, _line in BLOCKS), (page, first)
    for page, test in RUN_FROM_PAGE.items():
        assert (ROOT / page).is_file() and (ROOT / test).is_file()


@pytest.mark.parametrize(
    ("page", "example"),
    [
        ("docs/pytest.md", "test_howto_sync.py"),
        ("docs/pytest.md", "test_howto_async.py"),
        ("docs/beyond-one-call.md", "test_howto_flow.py"),
        ("docs/auth.md", "test_howto_auth.py"),
        ("docs/auth.md", "credentials.toml"),
        ("README.md", "test_quickstart.py"),
        ("README.md", "test_quickstart_async.py"),
        ("README.md", "pytest-asyncio.toml"),
        ("README.md", "pytest-asyncio.ini"),
    ],
)
def test_these_examples_are_shown_whole(page: str, example: str) -> None:
    text = (ROOT / "tests" / "examples" / example).read_text(encoding="utf-8")
    lang = {".toml": "toml", ".ini": "ini"}.get(Path(example).suffix, "python")
    assert f"```{lang}\n{text}```" in (ROOT / page).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["mockserver", "serve", "--frist-id", "3"], "parser refuses"),
        (["make", "no-such-target"], "no such Makefile target"),
        (["pip", "install", "mockserver[nope]"], "no extra"),
        (["docker", "run", "-e", "MOCKSERVER_NOPE=1", "mockserver"], "not a setting"),
    ],
)
def test_the_checkers_do_refuse(words: list[str], message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        CHECKERS[words[0]](words)
