"""The `mockserver` command: check contracts, settings from options and env, and serve as a process."""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import mockserver
from mockserver import Settings
from mockserver.core.vocabulary.errors import ConfigError
from mockserver.tools.cli import build_parser, main, settings_and_sources

from ..support import BASIC, ROOT, SAVE_CONTRACT, SAVE_PATH, save_body

GOOD = SAVE_CONTRACT.read_text(encoding="utf-8")


# ---- check -------------------------------------------------------------------------------------


def test_check_accepts_the_packaged_contracts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "ok: " in out and "SaveImageStream.toml: POST /api/v1/Agents/BLOB/SaveImageStream" in out


def test_check_one_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(SAVE_CONTRACT)]) == 0
    assert capsys.readouterr().out == (
        f"ok: {SAVE_CONTRACT}: POST /api/v1/Agents/BLOB/SaveImageStream (3 properties)\n"
    )


BROKEN = {
    "BadToml.toml": ("[operation]", "[operation", ": is not valid TOML"),
    "UnknownKey.toml": ('agent = "BLOB"', 'agent = "BLOB"\ncolour = "red"', ": operation.colour: is not a known key"),
    "BadEnum.toml": ("PersonImage = 1", 'PersonImage = "one"', ": enums.BlobLinkType.PersonImage: must be int"),
    "BadMedia.toml": (
        '  "text/json",\n  "application/xml",',
        '  "text/jsn",\n  "application/xml",',
        ": request.media_types[1]: must be one of",
    ),
    "BadBehaviour.toml": (
        'behaviour = "save_image"',
        'behaviour = "teleport"',
        ": operation.behaviour: must be one of",
    ),
    "WrongType.toml": ("status = 200", 'status = "200"', ": response.status: must be int (got str '200')"),
}


@pytest.fixture
def broken_dir(tmp_path: Path) -> Path:
    for name, (old, new, _) in BROKEN.items():
        assert old in GOOD, old
        (tmp_path / name).write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    return tmp_path


def test_check_names_file_and_key_of_every_broken_contract(
    broken_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(broken_dir)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == len(BROKEN)
    for line, (name, (_, _, detail)) in zip(err, sorted(BROKEN.items()), strict=True):
        assert line.startswith(f"error: {broken_dir / name}{detail}"), line


def test_check_reports_two_files_with_one_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "A.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "B.toml").write_text(GOOD.replace('name = "SaveImageStream"', 'name = "Copy"'), encoding="utf-8")
    assert main(["check", str(tmp_path)]) == 1
    assert "B.toml: operation.path: repeats the path of A.toml" in capsys.readouterr().err


def test_check_missing_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path / "nope.toml")]) == 1
    assert capsys.readouterr().err == f"error: {tmp_path / 'nope.toml'}: does not exist\n"


# ---- settings from options and environment -------------------------------------------------------


def settings(argv: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for key in [k for k in os.environ if k.startswith("MOCKSERVER_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return settings_and_sources(build_parser().parse_args(["serve", *argv]))[0]


@pytest.mark.parametrize(
    ("argv", "env", "field", "value"),
    [
        ([], {}, "host", "127.0.0.1"),
        (["--host", "0.0.0.0"], {}, "host", "0.0.0.0"),
        ([], {"MOCKSERVER_HOST": "::1"}, "host", "::1"),
        ([], {}, "port", 8080),
        (["--port", "0"], {}, "port", 0),
        ([], {"MOCKSERVER_PORT": "9999"}, "port", 9999),
        (["--port", "1234"], {"MOCKSERVER_PORT": "9999"}, "port", 1234),
        ([], {}, "first_id", 1),
        (["--first-id", "33"], {}, "first_id", 33),
        ([], {"MOCKSERVER_FIRST_ID": "44"}, "first_id", 44),
        ([], {}, "strict", False),
        (["--strict"], {}, "strict", True),
        ([], {"MOCKSERVER_STRICT": "yes"}, "strict", True),
        ([], {}, "max_body_size", 32 * 1024 * 1024),
        (["--max-body-size", "512k"], {}, "max_body_size", 512 * 1024),
        ([], {"MOCKSERVER_MAX_BODY_SIZE": "2M"}, "max_body_size", 2 * 1024 * 1024),
        ([], {"MOCKSERVER_MAX_BODY_SIZE": "1000"}, "max_body_size", 1000),
        (["--contracts", str(SAVE_CONTRACT)], {}, "contracts", SAVE_CONTRACT),
        ([], {"MOCKSERVER_CONTRACTS": str(SAVE_CONTRACT)}, "contracts", SAVE_CONTRACT),
        ([], {}, "log_calls", True),
        (["--quiet"], {}, "log_calls", False),
        ([], {"MOCKSERVER_LOG_CALLS": "0"}, "log_calls", False),
    ],
)
def test_each_option_and_its_environment_variable(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], env: dict[str, str], field: str, value: object
) -> None:
    assert getattr(settings(argv, env, monkeypatch), field) == value


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MOCKSERVER_PORT": "eighty"}, "MOCKSERVER_PORT must be a whole number (got 'eighty')"),
        ({"MOCKSERVER_STRICT": "maybe"}, "MOCKSERVER_STRICT must be true or false (got 'maybe')"),
        ({"MOCKSERVER_MAX_BODY_SIZE": "lots"}, "MOCKSERVER_MAX_BODY_SIZE must be a size like"),
        ({"MOCKSERVER_FIRST_ID": "0"}, "first_id must be between 1 and 2147483647 (got 0)"),
        ({"MOCKSERVER_FIRST_ID": "2147483648"}, "first_id must be between 1 and 2147483647"),
        ({"MOCKSERVER_PORT": "70000"}, "port must be between 0 and 65535 (got 70000)"),
    ],
)
def test_bad_environment_values_are_named(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings([], env, monkeypatch)
    assert message in str(info.value)


def test_bad_option_value_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["serve", "--max-body-size", "huge"])
    assert info.value.code == 2
    assert "--max-body-size must be a size like 1048576, 512k or 32M (got 'huge')" in capsys.readouterr().err


# ---- serve, as a real process -------------------------------------------------------------------


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")}
    env.update(extra)
    return env


class Served:
    """A `python -m mockserver serve` child process and what it printed."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "serve", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.selector = selectors.DefaultSelector()
        assert self.proc.stdout is not None
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)
        first = self.line()
        match = re.match(r"mockserver listening on (http://\S+) ", first)
        assert match, f"unexpected first line {first!r}; stderr: {self.proc.stderr.read() if self.proc.stderr else ''}"
        self.url = match.group(1)
        # Then the version, every setting in force (one line each, with where it came from) and the fd limit.
        # Printed with the first line in one write, so they are already in the pipe's read buffer.
        self.banner = [self.proc.stdout.readline() for _ in range(len(Settings().public()) + 2)]

    def line(self, timeout: float = 30) -> str:
        # A bound on the wait so a hung child fails the test instead of hanging the suite.
        assert self.selector.select(timeout), "the server printed nothing"
        assert self.proc.stdout is not None
        return self.proc.stdout.readline()

    def post(self, body: bytes, **hdrs: str) -> tuple[int, bytes]:
        request = urllib.request.Request(
            self.url + SAVE_PATH,
            data=body,
            headers={"Content-Type": "application/json", "Authorization": BASIC, **hdrs},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def stop(self, sig: int) -> tuple[int, str, str]:
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=30)
        return self.proc.returncode, out, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@pytest.fixture
def serve() -> Iterator[type[Served]]:
    started: list[Served] = []

    class Tracked(Served):
        def __init__(self, args: list[str], env: dict[str, str]) -> None:
            started.append(self)
            super().__init__(args, env)

    yield Tracked
    for s in started:
        s.kill()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_prints_real_url_logs_each_call_and_stops_cleanly(serve: type[Served], sig: int) -> None:
    server = serve(["--port", "0", "--first-id", "7", "--contracts", str(SAVE_CONTRACT)], clean_env())
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url)
    assert not server.url.endswith(":0")
    assert server.banner[0].startswith("  version ")
    assert "  first_id = 7  (flag --first-id)\n" in server.banner
    assert "  strict = False  (default)\n" in server.banner
    assert "  log_calls = True  (mockserver serve)\n" in server.banner
    assert server.post(save_body()) == (200, b"7")
    assert server.line() == f"#1 POST {SAVE_PATH} -> 200 id 7\n"
    assert server.post(json.dumps({"Type": 1}).encode())[0] == 400
    assert server.line() == f"#2 POST {SAVE_PATH} -> 400 body.Image must be base64 (required) (got nothing)\n"
    code, out, err = server.stop(sig)
    assert code == 0
    assert out == "mockserver stopped\n"
    assert "Traceback" not in err


def test_serve_reads_its_settings_from_the_environment(serve: type[Served]) -> None:
    env = clean_env(
        MOCKSERVER_PORT="0",
        MOCKSERVER_FIRST_ID="40",
        MOCKSERVER_STRICT="1",
        MOCKSERVER_MAX_BODY_SIZE="2k",
        MOCKSERVER_CONTRACTS=str(SAVE_CONTRACT),
        MOCKSERVER_LOG_CALLS="0",
    )
    server = serve([], env)
    assert server.post(save_body()) == (200, b"40")
    status, body = server.post(save_body(Unknown=1))  # a warning, and strict
    assert status == 400 and b"body.Unknown" in body
    status, body = server.post(save_body(description="x" * 3000))
    assert status == 413
    code, out, _ = server.stop(signal.SIGTERM)
    assert (code, out) == (0, "mockserver stopped\n")  # MOCKSERVER_LOG_CALLS=0: no call lines


def test_broken_contract_stops_serve_with_the_message_and_no_traceback(broken_dir: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mockserver",
            "serve",
            "--port",
            "0",
            "--contracts",
            str(broken_dir / "BadBehaviour.toml"),
        ],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(f"error: {broken_dir / 'BadBehaviour.toml'}: operation.behaviour: must be one of")
    assert "Traceback" not in done.stderr


def test_bad_environment_stops_serve_without_a_traceback() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve"],
        cwd=ROOT,
        env=clean_env(MOCKSERVER_PORT="eighty"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (2, "error: MOCKSERVER_PORT must be a whole number (got 'eighty')\n")


def test_python_dash_m_mockserver_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    for option in ("--host", "--port", "--first-id", "--strict", "--max-body-size", "MOCKSERVER_PORT"):
        assert option in done.stdout


def test_check_names_every_problem_of_one_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = GOOD
    for old, new in [
        ('behaviour = "save_image"', 'behaviour = "teleport"'),
        ("status = 200", 'status = "200"'),
        ('  "text/json",\n  "application/xml",', '  "text/jsn",\n  "application/xml",'),
        ("PersonImage = 1", 'PersonImage = "one"'),
        ('type = "bytes"', 'type = "blob"'),
        ('agent = "BLOB"', 'agent = "BLOB"\ncolour = "red"'),
    ]:
        assert old in broken, old
        broken = broken.replace(old, new, 1)
    path = tmp_path / "Many.toml"
    path.write_text(broken, encoding="utf-8")
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err.splitlines()
    keys = sorted(line.split(": ")[2] for line in err)
    assert keys == [
        "body.Image.type",
        "enums.BlobLinkType.PersonImage",
        "operation.behaviour",
        "operation.colour",
        "request.media_types[1]",
        "response.status",
    ], err
    assert all(line.startswith(f"error: {path}: ") for line in err)


def test_serve_with_a_contract_of_several_problems_names_each_and_stops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "Two.toml"
    broken = GOOD.replace("status = 200", "status = 99", 1).replace('agent = "BLOB"', "agent = 1", 1)
    path.write_text(broken, encoding="utf-8")
    assert main(["serve", "--port", "0", "--contracts", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert sorted(line.split(": ")[2] for line in err) == ["operation.agent", "response.status"]


@pytest.mark.parametrize("token", [None, "s3cret"])
def test_binding_beyond_loopback_without_an_admin_token_warns(serve: type[Served], token: str | None) -> None:
    args = ["--host", "0.0.0.0", "--port", "0", "--contracts", str(SAVE_CONTRACT)]
    server = serve([*args, "--admin-token", token] if token else args, clean_env())
    assert server.url.startswith("http://0.0.0.0:")
    code, _, err = server.stop(signal.SIGTERM)
    assert code == 0
    warned = "without --admin-token" in err
    assert warned is (token is None), err
    assert "s3cret" not in err


def test_version_flag_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"mockserver {mockserver.__version__}\n"


def test_serve_help_names_the_environment_variable_of_every_option() -> None:
    text = " ".join(build_parser()._subparsers._group_actions[0].choices["serve"].format_help().split())  # type: ignore[union-attr]
    for name in Settings().public():
        if name == "log_calls":
            assert "MOCKSERVER_LOG_CALLS" in text  # under --quiet
            continue
        assert f"env MOCKSERVER_{name.upper()}" in text, name


def test_log_format_json_writes_the_record_as_one_json_object(serve: type[Served]) -> None:
    server = serve(["--port", "0", "--log-format", "json", "--contracts", str(SAVE_CONTRACT)], clean_env())
    assert server.post(json.dumps({"Type": "PersonImage", "Image": "R0lGODlh", "Bogus": 1}).encode())[0] == 200
    record = json.loads(server.line())
    assert (record["seq"], record["status"], record["tenant"]) == (1, 200, "")
    assert record["headers"] and all(value != BASIC for _name, value in record["headers"])


def test_a_text_log_line_carries_the_first_warning(serve: type[Served]) -> None:
    server = serve(["--port", "0", "--contracts", str(SAVE_CONTRACT)], clean_env())
    assert server.post(json.dumps({"Type": "PersonImage", "Image": "R0lGODlh", "Bogus": 1}).encode())[0] == 200
    line = server.line()
    assert line.startswith(f"#1 POST {SAVE_PATH} -> 200 id 1; warning: ")


def test_a_closed_pipe_ends_check_quietly_with_status_0() -> None:
    # stdout is a pipe nobody reads (as `mockserver check | head -0`): the first write meets EPIPE.
    code = (
        "import os, sys; r, w = os.pipe(); os.close(r); os.dup2(w, 1)\n"
        "from mockserver.tools.cli import main; sys.exit(main(['check']))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")


def test_check_counts_properties_in_good_english(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one = tmp_path / "One.toml"
    one.write_text((ROOT / "contracts" / "GetBlobStream.toml").read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["check", str(one)]) == 0
    assert capsys.readouterr().out.endswith("(1 property)\n")
    assert main(["check"]) == 0
    assert "(1 properties)" not in capsys.readouterr().out
