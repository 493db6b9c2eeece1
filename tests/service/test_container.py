"""The container image, for real: build it, serve from it, stop it, restart it on its state volume.

Marked `container`: `make test` leaves these out, `make container-test` runs them. They need root
and a Docker engine. docker.io and debootstrap are installed with apt-get when missing; when no
engine answers, one `dockerd --iptables=false --bridge=none` is started with its own socket,
pidfile, data-root and exec-root in a temporary folder, and stopped by its PID at the end. The
image is built on python:3.12-slim when that is local or can be pulled, else on the Debian base
made by container/build-base.sh (mockserver-base:local). Containers run with --network host bound
to 127.0.0.1 on a free port, or with --network none. Every container, volume and image made here
is removed again; what was there before is left alone. Where the engine cannot be installed or
started, the tests are skipped with the reason.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

import mockserver

from ..support import BASIC, ROOT

pytestmark = pytest.mark.container

DEFAULT_BASE = "python:3.12-slim"
LOCAL_BASE = "mockserver-base:local"
BUILD_BASE = ROOT / "container" / "build-base.sh"
COMPOSE_DIR = ROOT / "examples" / "compose"
CLIENT = COMPOSE_DIR / "client.py"
HEALTHCHECK = "/opt/mockserver/healthcheck.py"
UID = 10001  # the image's user: a bind-mounted /data must be writable by it

GIF_B64 = "R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="  # a real 1x1 GIF
GIF = base64.b64decode(GIF_B64)
TENANT_PATH = "/Cust12345/api/v1/Agents/BLOB/SaveImageStream"
XML_ANSWER = '<int xmlns="http://schemas.microsoft.com/2003/10/Serialization/">{}</int>'
RUNTIME = {"mockserver", "aiohttp", "lxml", "aiohappyeyeballs", "aiosignal", "attrs", "frozenlist", "idna"}
RUNTIME |= {"multidict", "pillow", "propcache", "typing-extensions", "yarl"}
RUNTIME |= {"pyjwt", "cryptography", "cffi", "pycparser"}  # the JWTs Online logins and notifications sign

SBIN_PATH = os.environ.get("PATH", "") + ":/usr/local/sbin:/usr/sbin:/sbin"
# What a dockerd run leaves outside its data-root and exec-root; removed when they were not there.
DAEMON_TRACES = [
    Path("/etc/docker/key.json"),
    Path("/run/containerd/s"),
    Path("/run/containerd"),
    Path("/run/docker/plugins"),
    Path("/run/docker"),
]
# The building machine's proxy and index settings, handed to the build as build args when set.
PASSED_TO_BUILD = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_TRUSTED_HOST",
)


def tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # straight to 127.0.0.1, whatever proxy the environment names
    return session


def say(config: pytest.Config, text: str) -> None:
    """A progress line on the terminal (what was installed, started, built, and how long it took)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(f"container: {text}")


# ---- the engine ------------------------------------------------------------------------------------


def apt_install(packages: list[str]) -> str | None:
    """Install Debian packages; None when done, else why not."""
    if os.geteuid() != 0:
        return "not root, so apt-get cannot install"
    if shutil.which("apt-get") is None:
        return "no apt-get on this machine"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        try:
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200)
        except subprocess.TimeoutExpired:
            return f"`{' '.join(cmd)}` did not finish in 20 minutes"
        if done.returncode != 0:
            return f"`{' '.join(cmd)}` failed with exit status {done.returncode}: {tail(done.stderr, 5)}"
    return None


def answers(env: dict[str, str]) -> bool:
    """Does a Docker engine answer the docker CLI with this environment?"""
    try:
        done = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"], env=env, capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and bool(done.stdout.strip())


@dataclass
class Daemon:
    """A dockerd started by these tests, in a folder of its own."""

    folder: Path
    proc: subprocess.Popen[bytes]
    log: Any
    traces: list[Path]

    @property
    def host(self) -> str:
        return f"unix://{self.folder}/docker.sock"

    @classmethod
    def start(cls, env: dict[str, str], config: pytest.Config) -> Daemon:
        dockerd = shutil.which("dockerd", path=SBIN_PATH)
        if dockerd is None:
            pytest.skip("the Docker engine could not be started: no dockerd binary after installing docker.io")
        folder = Path(tempfile.mkdtemp(prefix="mockserver-dockerd-"))
        traces = [p for p in DAEMON_TRACES if not p.exists()]
        log = (folder / "dockerd.log").open("wb")
        cmd = [
            dockerd,
            "--iptables=false",
            "--bridge=none",
            f"--data-root={folder}/data",
            f"--exec-root={folder}/exec",
            f"--pidfile={folder}/dockerd.pid",
            f"--host=unix://{folder}/docker.sock",
        ]
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        daemon = cls(folder, proc, log, traces)
        started = time.monotonic()
        mine = {**env, "DOCKER_HOST": daemon.host}
        while not answers(mine):
            if proc.poll() is not None or time.monotonic() - started > 60:
                why = f"exited with status {proc.returncode}" if proc.poll() is not None else "gave no answer in 60 s"
                ending = tail((folder / "dockerd.log").read_text(errors="replace"), 8)
                daemon.stop()
                pytest.skip(f"the Docker engine could not be started: `{' '.join(cmd)}` {why}; its log ends:\n{ending}")
            time.sleep(0.3)
        say(config, f"started dockerd, pid {proc.pid}, in {folder} ({time.monotonic() - started:.1f} s)")
        return daemon

    def stop(self) -> None:
        """SIGTERM to the PID it was started with; what it left behind goes with its folder."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        # Its containerd (and any shim) runs in a session of its own and normally ends with it;
        # one left behind still names this run's folder on its command line.
        for pid in processes_naming(str(self.folder)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for mount in mounts_under(self.folder):
            subprocess.run(["umount", "-l", mount], capture_output=True, check=False)
        shutil.rmtree(self.folder, ignore_errors=True)
        for path in self.traces:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            elif path.exists():
                path.unlink()


def processes_naming(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(int(entry.name))
    return found


def mounts_under(folder: Path) -> list[str]:
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4]
        if point == str(folder) or point.startswith(f"{folder}/"):
            points.append(point)
    return sorted(points, key=len, reverse=True)


@dataclass
class Engine:
    """The docker CLI pointed at the engine these tests use."""

    env: dict[str, str]
    config: pytest.Config
    containers: list[str] = field(default_factory=list)

    def docker(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(["docker", *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(
                f"docker {' '.join(args)}: exit status {done.returncode}\n{tail(done.stdout)}\n{tail(done.stderr)}"
            )
        return done

    def image_ids(self) -> set[str]:
        return set(self.docker("images", "--all", "--quiet", "--no-trunc").stdout.split())

    def has_image(self, ref: str) -> bool:
        return self.docker("image", "inspect", ref, check=False).returncode == 0


@pytest.fixture(scope="module")
def engine(pytestconfig: pytest.Config) -> Iterator[Engine]:
    missing = [tool for tool in ("docker", "dockerd", "debootstrap") if shutil.which(tool, path=SBIN_PATH) is None]
    if missing:
        why = apt_install(["docker.io", "debootstrap"])
        if why is not None:
            pytest.skip(f"the Docker engine could not be installed ({', '.join(missing)} missing): {why}")
        say(pytestconfig, f"installed docker.io and debootstrap ({', '.join(missing)} were missing)")
    # The classic builder: the same on Debian's docker.io 20.10 and on newer engines, with or
    # without the buildx plugin, and it takes --network host for the build's RUN steps.
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    daemon = None
    if answers(env):
        say(pytestconfig, "using the Docker engine that was already running")
    else:
        daemon = Daemon.start(env, pytestconfig)
        env["DOCKER_HOST"] = daemon.host
    try:
        yield Engine(env, pytestconfig)
    finally:
        if daemon is not None:
            daemon.stop()
            say(pytestconfig, f"stopped dockerd, pid {daemon.proc.pid} (exit status {daemon.proc.returncode})")


# ---- the image -------------------------------------------------------------------------------------


def build_args() -> list[str]:
    out = []
    for name in PASSED_TO_BUILD:
        value = os.environ.get(name, "")
        if name.endswith("INDEX_URL"):  # file:// and local paths mean nothing inside the build
            value = " ".join(u for u in value.split() if u.startswith(("http://", "https://")))
        if value:
            out += ["--build-arg", f"{name}={value}"]
    return out


def build(engine: Engine, tag: str, base: str) -> subprocess.CompletedProcess[str]:
    return engine.docker(
        "build",
        "--network",
        "host",
        "--force-rm",
        "--build-arg",
        f"BASE={base}",
        *build_args(),
        "--tag",
        tag,
        str(ROOT),
        timeout=1800,
        check=False,
    )


@pytest.fixture(scope="module")
def image(engine: Engine) -> Iterator[str]:
    """The image, built here; at the end it goes, with every base and layer made for it."""
    config = engine.config
    before = engine.image_ids()
    tag = f"mockserver:container-test-{uuid.uuid4().hex[:8]}"
    made: list[str] = []
    try:
        default_ok = engine.has_image(DEFAULT_BASE)
        if not default_ok:
            try:
                pulled = engine.docker("pull", "--quiet", DEFAULT_BASE, timeout=120, check=False)
                default_ok = pulled.returncode == 0
                why_not = tail(pulled.stderr, 2)
            except subprocess.TimeoutExpired:
                why_not = "no answer within 120 s"
            if default_ok:
                made.append(DEFAULT_BASE)
            else:
                say(config, f"{DEFAULT_BASE} is not local and cannot be pulled: {why_not}")
        built = None
        if default_ok:
            started = time.monotonic()
            built = build(engine, tag, DEFAULT_BASE)
            if built.returncode == 0:
                say(config, f"built {tag} on {DEFAULT_BASE} in {time.monotonic() - started:.0f} s")
            else:
                say(config, f"the build on {DEFAULT_BASE} failed, trying {LOCAL_BASE}: {tail(built.stderr, 3)}")
        if built is None or built.returncode != 0:
            if engine.has_image(LOCAL_BASE):
                say(config, f"using the existing {LOCAL_BASE}")
            else:
                if os.geteuid() != 0:
                    pytest.skip(f"no base image: {DEFAULT_BASE} cannot be had and {BUILD_BASE.name} needs root")
                started = time.monotonic()
                done = subprocess.run(
                    [str(BUILD_BASE), LOCAL_BASE], env=engine.env, capture_output=True, text=True, timeout=1800
                )
                assert done.returncode == 0, f"{BUILD_BASE} failed:\n{tail(done.stdout)}\n{tail(done.stderr, 30)}"
                made.append(LOCAL_BASE)
                say(config, f"built {LOCAL_BASE} with {BUILD_BASE.name} in {time.monotonic() - started:.0f} s")
            started = time.monotonic()
            built = build(engine, tag, LOCAL_BASE)
            assert built.returncode == 0, f"docker build failed:\n{tail(built.stdout, 30)}\n{tail(built.stderr, 30)}"
            say(config, f"built {tag} on {LOCAL_BASE} in {time.monotonic() - started:.0f} s")
        made.append(tag)
        size = int(engine.docker("image", "inspect", "--format", "{{.Size}}", tag).stdout)
        say(config, f"{tag}: {size / 1e6:.0f} MB")
        yield tag
    finally:
        for ref in reversed(made):
            engine.docker("rmi", ref, check=False)
        # Layers and build stages left untagged by the build: remove until nothing more goes.
        while True:
            left = engine.image_ids() - before
            if not left or all(engine.docker("rmi", ref, check=False).returncode != 0 for ref in left):
                break
        assert not engine.image_ids() - before, "images made by these tests could not be removed"


@dataclass
class Served:
    name: str
    url: str


class Containers:
    """Containers of one test; removed at its end, anonymous volumes included."""

    def __init__(self, engine: Engine, image: str) -> None:
        self.engine, self.image = engine, image
        self.names: list[str] = []

    def run(self, *options: str, command: tuple[str, ...] = ()) -> str:
        name = f"mockserver-test-{uuid.uuid4().hex[:10]}"
        self.names.append(name)
        self.engine.docker("run", "--detach", "--name", name, *options, self.image, *command)
        return name

    def serve(self, data: Path | None = None, *options: str) -> Served:
        """The fake on 127.0.0.1 of this machine (--network host), state on `data` as /data."""
        port = free_port()
        volume = ["--volume", f"{data}:/data", "--env", "MOCKSERVER_STATE=/data/state.sqlite"] if data else []
        env = ["--env", "MOCKSERVER_HOST=127.0.0.1", "--env", f"MOCKSERVER_PORT={port}"]
        name = self.run("--network", "host", *env, *volume, *options)
        self.wait_healthy(name)
        return Served(name, f"http://127.0.0.1:{port}")

    def state(self, name: str) -> dict[str, Any]:
        return dict(json.loads(self.engine.docker("inspect", "--format", "{{json .State}}", name).stdout))

    def logs(self, name: str) -> tuple[str, str]:
        done = self.engine.docker("logs", name)
        return done.stdout, done.stderr

    def wait_healthy(self, name: str, timeout: float = 90) -> None:
        """Until the image's own HEALTHCHECK reports healthy."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.engine.docker("inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip()
            if status == "healthy":
                return
            state = self.state(name)
            if status == "unhealthy" or state["Status"] == "exited" or time.monotonic() > deadline:
                out, err = self.logs(name)
                raise AssertionError(f"{name} is {status or state['Status']}: {state}\nstdout: {out}\nstderr: {err}")
            time.sleep(0.25)

    def stop(self, name: str) -> float:
        """`docker stop` (SIGTERM, SIGKILL after 10 s); the seconds it took."""
        started = time.monotonic()
        self.engine.docker("stop", "--time", "10", name)
        took = time.monotonic() - started
        say(self.engine.config, f"docker stop {name}: {took:.2f} s, exit status {self.state(name)['ExitCode']}")
        return took

    def remove_all(self) -> None:
        for name in self.names:
            self.engine.docker("rm", "--force", "--volumes", name, check=False)


@pytest.fixture
def containers(engine: Engine, image: str) -> Iterator[Containers]:
    made = Containers(engine, image)
    yield made
    made.remove_all()


# ---- the tests -------------------------------------------------------------------------------------


def save_json(url: str, description: str = "x") -> requests.Response:
    body = json.dumps({"Type": "PersonImage", "Image": GIF_B64, "Description": description})
    headers = {"Content-Type": "application/json", "Authorization": BASIC}
    return http().post(url + TENANT_PATH, data=body, headers=headers, timeout=10)


def save_xml(url: str) -> requests.Response:
    body = (
        "<SaveImageStreamRequest><Type>PersonImage</Type>"
        f"<Image>{GIF_B64}</Image><Description>x</Description></SaveImageStreamRequest>"
    )
    headers = {"Content-Type": "application/xml", "Authorization": BASIC}
    return http().post(url + TENANT_PATH, data=body.encode(), headers=headers, timeout=10)


def calls(url: str) -> list[dict[str, Any]]:
    answer = http().get(url + "/_calls", timeout=10)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["calls"])


def test_the_image_is_configured_as_documented(engine: Engine, image: str) -> None:
    config = json.loads(engine.docker("image", "inspect", "--format", "{{json .Config}}", image).stdout)
    env = dict(item.split("=", 1) for item in config["Env"])
    assert config["User"] == f"{UID}:{UID}"
    assert config["Cmd"] == ["mockserver", "serve"]
    assert (env["MOCKSERVER_HOST"], env["MOCKSERVER_PORT"]) == ("0.0.0.0", "8080")
    assert env["PATH"].startswith("/opt/mockserver/bin:")
    assert list(config["ExposedPorts"]) == ["8080/tcp"]
    assert list(config["Volumes"]) == ["/data"]
    assert config["Healthcheck"]["Test"] == ["CMD", "/opt/mockserver/bin/python", "-I", HEALTHCHECK]

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        return engine.docker("run", "--rm", "--network", "none", image, *command, check=False)

    who = run("sh", "-c", "id -u; id -g; for c in gcc cc c++ make; do command -v $c; done; true")
    assert who.stdout.split() == [str(UID), str(UID)], who.stdout  # and no compiler or make
    check = run("mockserver", "check")
    assert check.returncode == 0, check.stderr
    lines = check.stdout.splitlines()
    assert len(lines) == 4 and all("/site-packages/mockserver/contracts/" in line for line in lines), lines
    listed = run("python", "-m", "pip", "list", "--format", "json", "--disable-pip-version-check")
    names = {p["name"].lower().replace("_", "-") for p in json.loads(listed.stdout)}
    assert names - {"pip", "setuptools"} == RUNTIME  # runtime dependencies only: no test or dev extras


def test_a_bad_environment_variable_stops_the_container_with_its_message(engine: Engine, image: str) -> None:
    done = engine.docker("run", "--rm", "--network", "none", "--env", "MOCKSERVER_PORT=eighty", image, check=False)
    assert (done.returncode, done.stderr) == (2, "error: MOCKSERVER_PORT must be a whole number (got 'eighty')\n")


def test_saves_read_back_stop_on_sigterm_and_restart_on_the_state_volume(
    containers: Containers, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    os.chown(data, UID, UID)
    first = containers.serve(data)

    answer = save_json(first.url)
    assert (answer.status_code, answer.json()) == (200, 1), answer.text
    answer = save_xml(first.url)
    assert (answer.status_code, answer.text) == (200, XML_ANSWER.format(2))
    assert answer.headers["Content-Type"].startswith("application/xml")

    recorded = calls(first.url)
    assert [(c["seq"], c["path"], c["prefix"], c["status"], c["blob_id"], c["content_type"]) for c in recorded] == [
        (1, TENANT_PATH, "/Cust12345", 200, 1, "application/json"),
        (2, TENANT_PATH, "/Cust12345", 200, 2, "application/xml"),
    ]
    image = {"size": len(GIF), "sha256": hashlib.sha256(GIF).hexdigest(), "format": "gif"}
    assert all(c["request"]["image"] == image and c["request"]["Type"] == "PersonImage" for c in recorded)
    assert all(("Authorization", "Basic <redacted>") in [tuple(h) for h in c["headers"]] for c in recorded)
    for blob_id in (1, 2):
        stored = http().get(f"{first.url}/_images/{blob_id}", timeout=10)
        assert (stored.status_code, stored.headers["Content-Type"], stored.content) == (200, "image/gif", GIF)

    took = containers.stop(first.name)
    state = containers.state(first.name)
    assert (state["ExitCode"], state["OOMKilled"]) == (0, False), state
    assert took < 3, f"docker stop took {took:.1f} s: SIGTERM was not acted on at once"
    out, err = containers.logs(first.name)
    # The banner's setting lines (indented) say where each setting came from: the image's environment here.
    assert "  state = /data/state.sqlite  (env MOCKSERVER_STATE)" in out.splitlines(), out
    assert [line for line in out.splitlines()[1:] if not line.startswith("  ")] == [
        f"#1 POST {TENANT_PATH} -> 200 id 1",
        f"#2 POST {TENANT_PATH} -> 200 id 2",
        "mockserver stopped",
    ], out
    assert "Traceback" not in err and "warning" not in err, err  # loopback: no admin-token warning
    assert (data / "state.sqlite").is_file()

    second = containers.serve(data)  # a new container on the same volume
    assert http().get(second.url + "/_health", timeout=10).json()["next_id"] == 3
    answer = save_json(second.url)
    assert (answer.status_code, answer.json()) == (200, 3), answer.text
    assert [(c["seq"], c["blob_id"]) for c in calls(second.url)] == [(1, 1), (2, 2), (3, 3)]
    assert http().get(second.url + "/_images/1", timeout=10).content == GIF

    # The compose example's client, run here against this container.
    done = subprocess.run(
        [sys.executable, str(CLIENT)],
        env={**os.environ, "FAKE_URL": second.url, "WAIT": "5"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"client: saved blob id 4 at {second.url}{TENANT_PATH}",
        f"client: /_calls #4 POST {TENANT_PATH} -> 200",
        "client: /_images/4 is the 43-byte GIF that was sent",
    ]
    assert containers.stop(second.name) < 3
    assert containers.state(second.name)["ExitCode"] == 0


@pytest.mark.parametrize("token", [None, "s3cret"])
def test_the_default_command_binds_every_interface_and_warns_without_an_admin_token(
    containers: Containers, token: str | None
) -> None:
    # --network none: 0.0.0.0 is the container's own, so nothing is reachable from outside it.
    name = containers.run("--network", "none", *(["--env", f"MOCKSERVER_ADMIN_TOKEN={token}"] if token else []))
    containers.wait_healthy(name)  # the health check finds 0.0.0.0:8080, and sends the token when there is one
    out, err = containers.logs(name)
    assert out.startswith("mockserver listening on http://0.0.0.0:8080 (onsite; "), out
    warned = "warning: bound to 0.0.0.0 without --admin-token" in err
    assert warned is (token is None), err
    assert "s3cret" not in out + err
    containers.stop(name)
    assert containers.state(name)["ExitCode"] == 0


def compose_command(engine: Engine) -> list[str]:
    if engine.docker("compose", "version", check=False).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose") is None:
        why = apt_install(["docker-compose"])
        if why is not None or shutil.which("docker-compose") is None:
            pytest.skip(
                "no Docker Compose: `docker compose version` fails, there is no docker-compose, "
                f"and installing Debian's docker-compose did not work: {why or 'no docker-compose after it'}"
            )
        say(engine.config, "installed docker-compose")
    return ["docker-compose"]


def test_the_compose_example_saves_through_the_fake_by_its_service_name(engine: Engine, image: str) -> None:
    compose = compose_command(engine)
    project = f"mockservertest{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {**engine.env, "MOCKSERVER_IMAGE": image, "FAKE_PORT": str(port)}
    base = [*compose, "--file", "compose.yaml", "--project-name", project]

    def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *args], cwd=COMPOSE_DIR, env=env, capture_output=True, text=True, timeout=timeout)

    try:
        up = run("up", "--no-build", "--exit-code-from", "client")
        assert up.returncode == 0, f"{tail(up.stdout, 30)}\n{tail(up.stderr, 30)}"
        for line in (
            f"client: saved blob id 1 at http://fake:8080{TENANT_PATH}",
            f"client: /_calls #1 POST {TENANT_PATH} -> 200",
            "client: /_images/1 is the 43-byte GIF that was sent",
        ):
            assert line in up.stdout, up.stdout
        logs = run("logs", "--no-color", "fake")
        assert f"#1 POST {TENANT_PATH} -> 200 id 1" in logs.stdout, logs.stdout
        assert "mockserver stopped" in logs.stdout, logs.stdout
    finally:
        down = run("down", "--volumes", "--remove-orphans")
        assert down.returncode == 0, down.stderr


# ---- other languages and Testcontainers against the image ------------------------------------------

EXAMPLES = ROOT / "tests" / "examples"


def run_pytest(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_node_shell_and_python_examples_pass_against_the_container(containers: Containers) -> None:
    served = containers.serve(None, "--env", "MOCKSERVER_ADMIN_TOKEN=any-language")
    env = {**os.environ, "MOCKSERVER_URL": served.url, "MOCKSERVER_ADMIN_TOKEN": "any-language"}
    # The served-fake tests of test_other_languages.py, pointed at the container instead of a process.
    assert shutil.which("node") and shutil.which("curl") and shutil.which("jq"), "node, curl and jq run the examples"
    node = subprocess.run(
        ["node", "--test", "--test-reporter=tap", str(ROOT / "examples" / "node" / "fake.test.mjs")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert node.returncode == 0, tail(node.stdout + node.stderr, 40)
    assert "# pass 3" in node.stdout
    shell = subprocess.run(
        ["bash", str(ROOT / "examples" / "shell" / "save-and-assert.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shell.returncode == 0, tail(shell.stdout + shell.stderr, 40)
    assert "Description: expected 'something else', got 'from curl'" in shell.stdout
    # The Python remote client: the same near-miss text as the in-process fake, for the same call.
    fake = mockserver.connect(served.url, admin_token="any-language")
    fake.reset()
    body = json.dumps({"Type": "PersonImage", "Image": GIF_B64, "Description": "from python"}).encode()
    headers = {"Content-Type": "application/json", "Authorization": BASIC}
    assert http().post(fake.api_url, data=body, headers=headers, timeout=10).text == "1"
    assert fake.assert_saved(description="from python").blob_id == 1
    local = mockserver.Fake()
    save_path = fake.api_url.removeprefix(served.url)
    local.process(mockserver.RawRequest.build("POST", save_path, headers=headers, body=body))
    with pytest.raises(AssertionError) as remote_failure:
        fake.assert_saved(description="something else")
    with pytest.raises(AssertionError) as local_failure:
        local.assert_saved(description="something else")
    assert str(remote_failure.value) == str(local_failure.value)


def test_the_testcontainers_example_runs_against_the_image(engine: Engine, image: str) -> None:
    env = {
        **engine.env,
        "MOCKSERVER_IMAGE": image,
        "MOCKSERVER_HOST_NETWORK": "1",  # an engine these tests start has no bridge network
        "TESTCONTAINERS_RYUK_DISABLED": "true",  # the reaper's image is not pulled; the container goes on exit
    }
    done = run_pytest(env, "-m", "container", str(EXAMPLES / "test_howto_containers.py"))
    assert done.returncode == 0, tail(done.stdout + done.stderr, 40)
    assert "1 passed" in done.stdout
