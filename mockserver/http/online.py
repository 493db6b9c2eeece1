"""Online mode on the wire: one listener per host, the tenant status API, and the version JSON of a tenant's API.

`OnlineSites` serves each host of ``online_hosts`` on a port of its own (port, port+1, … or
free ports with port 0) and tells the core the URL each got, so every URL the status API hands
out is one a client can call as it is, with the real path shape
(``<host URL>/Cust12345/api/v1/Agents/BLOB/SaveImageStream``).
"""

from __future__ import annotations

import functools

from aiohttp import web

from ..core.fake import Fake
from ..core.online.states import VERSION_LABEL
from ..core.online.tenant_life import OnlineLife
from ..core.vocabulary.errors import ApiError
from .app import build_app
from .body import BodyBudget
from .notify import Delivery
from .responses import FAKE_KEY, HOST_KEY, error_response, json_response
from .runner import Site


def _online(request: web.Request) -> OnlineLife:
    online = request.app[FAKE_KEY].online
    assert online is not None  # these routes are added in Online mode only
    return online


async def tenant_status(request: web.Request) -> web.Response:
    """``GET /api/state/{ContextIdentifier}`` on the authentication host: no credentials wanted."""
    try:
        return json_response(_online(request).status(request.match_info["ctx"]))
    except ApiError as err:
        return error_response(err)


async def api_version(request: web.Request) -> web.Response:
    """``GET <host>/{ContextIdentifier}/api``: the version JSON, on the host the tenant is on (421 elsewhere)."""
    online = _online(request)
    host = request.app[HOST_KEY]
    refused = online.gate(host, request.match_info["ctx"], count=False)
    if refused is not None:
        return error_response(refused.error)
    life = online.add(request.match_info["ctx"])
    api = f"{online.hosts.url(life.host)}/{life.name}/api"
    return json_response(
        {
            "v1": f"{api}/v1/",
            "NetServerVersion": "11.10.721.0",
            "NetServerAssembly": "11.10.0.0",
            "NetServerDate": "2026-02-24",
            "NetServerLabel": VERSION_LABEL,
            "NetServer": f"SuperOffice 11.10 NetServer 11.10 Release (Build: {VERSION_LABEL})",
            "Services": "Services87",
            "ServicesCurrent": "Services88",
            "Version": "v1",
            "Documentation": "https://docs.superoffice.com/en/api/",
        }
    )


def _host_routes(auth: bool, app: web.Application) -> None:
    if auth:
        app.router.add_get("/api/state/{ctx}", tenant_status)
    else:
        app.router.add_get("/{ctx}/api", api_version)
        app.router.add_get("/{ctx}/api/", api_version)


class OnlineSites(Site):
    """Every host of Online mode served at once; `url` is the authentication host's."""

    def __init__(self, fake: Fake) -> None:
        super().__init__(fake)
        assert fake.online is not None
        self.online = fake.online
        self.sites: dict[str, Site] = {}
        self.delivery: Delivery | None = None

    @property
    def started(self) -> bool:
        return bool(self.sites)

    @property
    def url(self) -> str:
        return self._site(self.online.hosts.auth).url

    @property
    def api_url(self) -> str:
        """SaveImageStream at the first known tenant's endpoint (else the home host's ``/Cust12345``)."""
        known = self.online.known
        base = self.online.endpoint(known[0]) if known else f"{self._site(self.online.hosts.home).url}/Cust12345"
        contracts = self.fake.contracts
        main = next((c for c in contracts if c.name == "SaveImageStream"), contracts.contracts[0])
        return base + main.path

    def url_of(self, host: str) -> str:
        return self._site(self.online.hosts.name(host)).url

    def _site(self, name: str) -> Site:
        site = self.sites.get(name)
        if site is None:
            raise RuntimeError("the fake is not started; call start() or use 'async with'")
        return site

    async def start(self) -> int:
        if self.sites:
            return self._site(self.online.hosts.auth).port or 0
        settings = self.fake.settings
        budget = BodyBudget(max(settings.max_body_memory, settings.max_body_size), settings.max_body_size)
        hosts = self.online.hosts
        try:
            for i, name in enumerate(hosts.names):
                build = functools.partial(
                    build_app, host=name, budget=budget, routes=functools.partial(_host_routes, name == hosts.auth)
                )
                site = Site(self.fake, build, port=0 if settings.port == 0 else settings.port + i)
                await site.start()
                self.sites[name] = site
                hosts.bind(name, site.url)
        except BaseException:
            await self.close()
            raise
        self.port = self.sites[hosts.auth].port
        if self.fake.notifier is not None:
            self.delivery = Delivery(self.fake.notifier, settings.online_notify_timeout_ms)
            self.delivery.start()
        return self.port or 0

    async def close(self) -> None:
        delivery, self.delivery = self.delivery, None
        if delivery is not None:
            await delivery.close()
        sites, self.sites = self.sites, {}
        for site in sites.values():
            await site.close()


__all__ = ["OnlineSites"]
