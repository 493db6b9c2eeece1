"""Serve a validating proxy in front of a real tenant (or any server) in the caller's event loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from ..core.config import Settings
from ..core.fake import Fake
from ..core.proxy.recorder import ProxyCore, Upstream
from ..core.vocabulary.contract import ContractSet
from ..http.proxy import build_proxy_app
from ..http.runner import Site
from ..http.upstream import DEFAULT_TIMEOUT, UpstreamClient, tls_context
from .served import Served


class ProxyServer(Served, ProxyCore):
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

    async def _closed(self) -> None:
        await self.client.close()  # the connections to the upstream
        self.release()
