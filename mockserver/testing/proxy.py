"""Serve a validating proxy in front of a real tenant (or any server) in the caller's event loop."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp import web

from ..core.config import Settings
from ..core.contract import ContractSet
from ..core.fake import Fake
from ..core.proxying import ProxyCore, Upstream
from ..http.proxy import build_proxy_app
from ..http.runner import Site
from ..http.upstream import DEFAULT_TIMEOUT, UpstreamClient, tls_context


class ProxyServer(ProxyCore):
    """A proxy forwarding to `upstream`: ``async with ProxyServer("https://host/Cust12345", port=0) as proxy``.

    Clients call ``proxy.url`` instead of the tenant and get the tenant's answers unchanged;
    ``proxy.calls`` journals each exchange and ``proxy.drift.summary()`` says where the answers
    left the contract. TLS certificates are verified (`ca_file` adds a private CA; `insecure`
    verifies nothing).
    """

    def __init__(
        self,
        upstream: str | Upstream,
        settings: Settings | None = None,
        *,
        contracts: ContractSet | None = None,
        ca_file: Path | str | None = None,
        insecure: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        **overrides: Any,
    ) -> None:
        super().__init__(upstream, settings, contracts=contracts, **overrides)
        self.client = UpstreamClient(tls_context(ca_file, insecure), timeout)
        self._site = Site(self, self._app, "proxy")
        self.port: int | None = None

    def _app(self, _fake: Fake) -> web.Application:
        return build_proxy_app(self, self.client)

    @property
    def host(self) -> str:
        return self.settings.host

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321`` (no trailing slash)."""
        return self._site.url

    @property
    def api_url(self) -> str:
        """The URL of the call itself: ``<url>/api/v1/Agents/BLOB/SaveImageStream``."""
        return self._site.api_url

    async def start(self) -> ProxyServer:
        """Bind (port 0 picks a free port) and serve; return self."""
        if not self._site.started:
            self.port = await self._site.start()
            self.serving_loop = asyncio.get_running_loop()
        return self

    async def close(self) -> None:
        """Stop serving and close the connections to the upstream. Safe to call more than once."""
        self.serving_loop = None
        await self._site.close()
        await self.client.close()
        self.release()

    async def __aenter__(self) -> ProxyServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
