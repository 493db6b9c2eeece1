"""Online tenants' hosts and states across a restart: a JSON file beside the ``--state`` file.

``state.sqlite`` keeps the default tenant's ids, images and journal and each tenant has its
own ``state.Cust1.sqlite``; the hosts and states of Online mode go to ``state.online.json``,
rewritten (to a temporary file, then renamed) after every change, read back at start.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from mockserver.core.online.lives import Life
from mockserver.core.online.states import state_name
from mockserver.core.online.tenant_life import OnlineLife
from mockserver.core.vocabulary.errors import ConfigError, MockServerError

VERSION = 1


def online_state_path(state: Path) -> Path:
    """``state.sqlite`` → ``state.online.json``."""
    return state.with_name(f"{state.stem}.online.json")


def attach_state_file(online: OnlineLife, path: Path) -> None:
    """Read back what `path` kept (if it exists), then keep every later change there."""
    if path.exists():
        for life in _read(path, online):
            online.lives[life.name.lower()] = life
    online.store = lambda current: _write(path, current)


def _read(path: Path, online: OnlineLife) -> list[Life]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("tenants"), list):
            raise ValueError(f'not {{"version": {VERSION}, "tenants": [...]}}')
        lives = [Life.from_state(item) for item in data["tenants"]]
        for life in lives:  # hosts and states must still be known: a host no longer configured is refused
            life.host = online.hosts.tenant_host(life.host)
            life.move_to = online.hosts.tenant_host(life.move_to) if life.move_to is not None else None
            life.state, life.then = state_name(life.state), state_name(life.then)
    except (OSError, ValueError, TypeError, MockServerError) as exc:
        raise ConfigError(
            f"the Online state file {path} cannot be read back ({exc}); move it away to start afresh"
        ) from None
    return lives


def _write(path: Path, online: OnlineLife) -> None:
    data = {"version": VERSION, "tenants": [life.to_state() for life in online.lives.values()]}
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(temporary, path)


__all__ = ["attach_state_file", "online_state_path"]
