"""A Testcontainers module for the fake's image: ``with MockserverContainer() as fake_container: ...``.

Needs the ``containers`` extra (``pip install 'mockserver[containers]'``, which brings
`testcontainers`) and a Docker engine. The container is ready when ``/_health`` answers 200;
`get_url` is the base URL agent calls go to, `connect` a remote client (`RemoteFake`) of it.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Any

from testcontainers.core.container import DockerContainer
from testcontainers.core.waiting_utils import WaitStrategy, WaitStrategyTarget

from .remote import RemoteFake, connect

PORT = 8080  # where the image serves (MOCKSERVER_PORT in its Dockerfile)
IMAGE = "mockserver:latest"


class HealthWait(WaitStrategy):
    """Ready when ``GET /_health`` answers 200 with ``"status": "ok"`` (with the admin token when set)."""

    def __init__(self, url: str, admin_token: str | None) -> None:
        super().__init__()
        self.url = url
        self.admin_token = admin_token

    def _healthy(self) -> bool:
        headers = {"Authorization": f"Bearer {self.admin_token}"} if self.admin_token else {}
        request = urllib.request.Request(self.url + "/_health", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=5) as resp:
                answer = json.loads(resp.read())
                return resp.status == 200 and isinstance(answer, dict) and answer.get("status") == "ok"
        except (OSError, ValueError):  # not listening yet, or half started
            return False

    def wait_until_ready(self, container: WaitStrategyTarget) -> None:
        if not self._poll(self._healthy):
            raise TimeoutError(f"the fake at {self.url} did not answer /_health within {self._startup_timeout:g} s")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MockserverContainer(DockerContainer):
    """The fake's image as a Testcontainers container.

    `settings` become ``MOCKSERVER_*`` variables (``first_id=33`` → ``MOCKSERVER_FIRST_ID=33``).
    By default the image's port 8080 is published on a free port of the host. With
    ``host_network=True`` the container shares the host's network and the fake listens on
    127.0.0.1 at a free port: for an engine without a bridge network.
    """

    def __init__(
        self,
        image: str = IMAGE,
        *,
        admin_token: str | None = None,
        host_network: bool = False,
        **settings: Any,
    ) -> None:
        super().__init__(image)
        self.admin_token = admin_token
        self.host_network = host_network
        self.host_port: int | None = None
        for name, value in settings.items():
            text = ("1" if value else "0") if isinstance(value, bool) else str(value)
            self.with_env(f"MOCKSERVER_{name.upper()}", text)
        if admin_token:
            self.with_env("MOCKSERVER_ADMIN_TOKEN", admin_token)
        if host_network:
            self.host_port = _free_port()
            self.with_env("MOCKSERVER_HOST", "127.0.0.1").with_env("MOCKSERVER_PORT", str(self.host_port))
            self.with_kwargs(network_mode="host")
        else:
            self.with_exposed_ports(PORT)

    def start(self) -> MockserverContainer:
        """Start the container and wait until its /_health answers (the base class's wait, with the URL known)."""
        super().start()
        HealthWait(self.get_url(), self.admin_token).wait_until_ready(self)
        return self

    def get_url(self) -> str:
        """The base URL, e.g. ``http://localhost:32768`` (agent calls at ``<url>/api/v1/Agents/...``)."""
        if self.host_port is not None:
            return f"http://127.0.0.1:{self.host_port}"
        return f"http://{self.get_container_host_ip()}:{self.get_exposed_port(PORT)}"

    def connect(self) -> RemoteFake:
        """A remote client of the fake in this container (`mockserver.connect`), with its admin token."""
        return connect(self.get_url(), self.admin_token)
