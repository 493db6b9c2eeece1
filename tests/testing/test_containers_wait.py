"""The Testcontainers module's readiness check, without a Docker engine: /_health answering, or not."""

from __future__ import annotations

import socket

import pytest

from mockserver import ThreadedFakeServer
from mockserver.testing.containers import HealthWait


class NoContainer:
    """The wait looks at the URL it was given, not at the container (a stand-in for the target)."""


def test_ready_once_health_answers_with_the_admin_token() -> None:
    with ThreadedFakeServer(port=0, admin_token="t0ken") as fake:
        HealthWait(fake.url, "t0ken").with_startup_timeout(10).wait_until_ready(NoContainer())  # type: ignore[arg-type]
        wrong = HealthWait(fake.url, "nope").with_startup_timeout(0.3).with_poll_interval(0.05)
        with pytest.raises(TimeoutError, match="did not answer /_health"):
            wrong.wait_until_ready(NoContainer())  # type: ignore[arg-type]


def test_nothing_listening_times_out_naming_the_url() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    wait = HealthWait(url, None).with_startup_timeout(0.3).with_poll_interval(0.05)
    with pytest.raises(TimeoutError, match=url):
        wait.wait_until_ready(NoContainer())  # type: ignore[arg-type]
