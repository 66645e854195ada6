"""APScheduler 3, configured here only: started in the processes where SCHEDULER_ENABLED is set."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Start the scheduler when the configuration asks for it."""
    if not app.config.get("SCHEDULER_ENABLED"):
        return
