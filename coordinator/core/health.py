"""Readiness of the parts beyond the database: a part (the background workers' heartbeat)
registers a check, /healthz runs them all.

A check is a function of no argument returning its status: "ok", "unknown" (nothing to judge
by yet), "idle" (nothing to do, nothing waiting) or any other word naming what fails ("stale",
"down", ...), which makes /healthz answer 503. "busy" is the database's: it works, another
writer holds the lock.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

OK = "ok"
UNKNOWN = "unknown"
IDLE = "idle"
HEALTHY = frozenset({OK, UNKNOWN, IDLE, "busy"})
_KEY = "coordinator.health"

Check = Callable[[], str]

# Parts reported until their own check is registered (`web.register_work` registers "workers":
# coordinator/work/health.py).
DEFAULTS: dict[str, Check] = {"workers": lambda: UNKNOWN}


def register(app: Flask, name: str, check: Check) -> None:
    """Report `name` in /healthz with the status `check()` returns (replaces a default)."""
    app.extensions.setdefault(_KEY, {})[name] = check


def statuses(app: Flask) -> dict[str, str]:
    """The status of every registered part; a check that raises reports "error"."""
    checks = {**DEFAULTS, **app.extensions.get(_KEY, {})}
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            results[name] = str(check())
        except Exception:  # a failing check is a failing part, never a failing /healthz
            app.logger.exception("health check %s failed", name)
            results[name] = "error"
    return results


def healthy(parts: dict[str, str]) -> bool:
    return all(status in HEALTHY for status in parts.values())
