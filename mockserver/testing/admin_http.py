"""The HTTP half of the remote client: one request to a served fake's /_ routes, its faults and images.

Standard library only (urllib); an error answer comes back as the `ApiError` it stands for.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import fields
from typing import Any

from ..core.answering.faults import Fault, parse_fault
from ..core.vocabulary.errors import ApiError, Violation
from ..core.vocabulary.journal import CallList

FAULT_FIELDS = frozenset(f.name for f in fields(Fault))
REQUEST_TIMEOUT = 10.0  # seconds for one request, beyond any wait it asks for


class AdminHttp:
    """Requests to the /_ routes at `url`, with the admin token when there is one."""

    def __init__(self, url: str, admin_token: str | None = None) -> None:
        self.url = url
        self.admin_token = admin_token

    def request(self, method: str, path: str, body: Any = None, *, wait: float = 0, raw: bool = False) -> Any:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.admin_token:
            headers["Authorization"] = f"Bearer {self.admin_token}"
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT + wait) as resp:
                payload = resp.read()
                return payload if raw else json.loads(payload)
        except urllib.error.HTTPError as err:
            text = err.read()
            try:
                answer = json.loads(text)
            except ValueError:
                answer = None
            if err.code == 409 and isinstance(answer, dict) and "message" in answer:
                return answer  # an assertion that did not hold: the caller raises it
            raise _error(err.code, answer, f"{method} {path} answered HTTP {err.code}") from None
        except urllib.error.URLError as err:
            raise ConnectionError(f"no fake answers at {self.url} ({err.reason})") from None

    def get(self, path: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.request("GET", path)
        return answer


def _error(status: int, body: Any, what: str) -> ApiError:
    """The fake's error answer as the `ApiError` it stands for (its violations, its message)."""
    if isinstance(body, dict) and isinstance(body.get("Violations"), list):
        violations = [Violation(v["location"], v["expected"], v["got"]) for v in body["Violations"]]
        return ApiError(status, violations, message=body.get("Message"))
    return ApiError(status, [Violation("response", "a JSON answer", f"HTTP {status}")], message=what)


class RemoteFault:
    """The handle `inject` returns for a remote fake: its id, its `Fault`, live counts, and `remove()`."""

    def __init__(self, http: AdminHttp, data: Mapping[str, Any]) -> None:
        self._http = http
        self.id: int = data["id"]
        self.fault = parse_fault({k: v for k, v in data.items() if k in FAULT_FIELDS})

    def _now(self) -> dict[str, Any]:
        for item in self._http.get("/_faults")["faults"]:
            if item["id"] == self.id:
                return dict(item)
        return {"hits": None, "remaining": 0, "active": False, "matched": None}

    @property
    def hits(self) -> int | None:
        hits: int | None = self._now()["hits"]
        return hits

    @property
    def remaining(self) -> int | None:
        remaining: int | None = self._now()["remaining"]
        return remaining

    @property
    def active(self) -> bool:
        return bool(self._now()["active"])

    def remove(self) -> None:
        """Stop this fault (nothing happens when it is gone already)."""
        try:
            self._http.request("DELETE", f"/_faults/{self.id}")
        except ApiError as err:
            if err.status != 404:
                raise

    def __repr__(self) -> str:
        return f"<RemoteFault #{self.id} {self.fault.label}>"


class RemoteImages(Mapping[int, bytes]):
    """``fake.images[33]``: the stored bytes, fetched from ``/_images/33``."""

    def __init__(self, http: AdminHttp, calls: Callable[[], CallList]) -> None:
        self._http = http
        self._calls = calls

    def __getitem__(self, blob_id: int) -> bytes:
        try:
            return self._http.request("GET", f"/_images/{int(blob_id)}", raw=True)  # type: ignore[no-any-return]
        except ApiError as err:
            if err.status == 404:
                raise KeyError(blob_id) from None
            raise

    def _ids(self) -> list[int]:
        return sorted({r.blob_id for r in self._calls() if r.blob_id is not None and r.accepted})

    def __iter__(self) -> Iterator[int]:
        return iter([i for i in self._ids() if i in self])  # a request per id: for tests, not for bulk

    def __len__(self) -> int:
        return int(self._http.get("/_health")["images"])

    def __contains__(self, blob_id: object) -> bool:
        if not isinstance(blob_id, int):
            return False
        try:
            self[blob_id]
        except KeyError:
            return False
        return True
