"""Rendering within a time limit, for a document printed inside a web request: WeasyPrint runs
in a child process ("spawn": a fresh interpreter, safe from a threaded web process) that is
killed when the limit passes, so a document too large or a renderer stuck never holds the web
worker. WeasyPrint cannot be interrupted inside the process that runs it; a child can.

Each web process keeps up to MAX_IDLE renderers waiting (started on first use, WeasyPrint
already imported, so the limit measures the rendering only); one renderer serves one document
at a time, and a process rendering several documents at once (threads) starts one for each.
A renderer that timed out or died is stopped and replaced by a new one at the next document:
nothing to restart. Batch printing keeps its own pool (`batch.py`).
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from coordinator.printing.pdf import RenderFailed, RenderTimedOut

log = logging.getLogger(__name__)

MAX_IDLE = 1  # renderers kept waiting per process (each holds WeasyPrint, ~100 MB)
MAX_DOCUMENTS = 200  # a renderer is replaced after this many (WeasyPrint's caches grow)
START_SECONDS = 60.0  # a new renderer has this long to import WeasyPrint and say it is ready
PRELOAD = ("weasyprint", "coordinator.printing.pdf")
SPAWN = multiprocessing.get_context("spawn")

_idle: list[_Renderer] = []
_idle_pid = os.getpid()
_lock = threading.Lock()


def _serve(connection: Connection, preload: tuple[str, ...]) -> None:
    """The child: import what rendering needs, say so, then run each (function, args) received
    and send back ("ok", result) or ("error", what went wrong), until the parent goes."""
    for module in preload:
        importlib.import_module(module)
    connection.send(("ready", None))
    while True:
        try:
            function, args = connection.recv()
        except (EOFError, OSError):
            return  # the parent closed the pipe, or died
        try:
            answer: tuple[str, Any] = ("ok", function(*args))
        except Exception as error:  # sent back to the parent, which raises RenderFailed
            answer = ("error", f"{type(error).__name__}: {error}")
        connection.send(answer)


class _Renderer:
    """One child process and the pipe to it."""

    def __init__(self) -> None:
        self.connection, child_end = SPAWN.Pipe()
        self.process = SPAWN.Process(target=_serve, args=(child_end, PRELOAD), daemon=True,
                                     name="coordinator-renderer")
        self.process.start()
        child_end.close()
        self.documents = 0
        if not self.connection.poll(START_SECONDS):
            self.stop()
            raise RenderFailed("the renderer did not start")
        try:
            self.connection.recv()
        except (EOFError, OSError) as error:
            self.stop()
            raise RenderFailed("the renderer did not start") from error

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.is_alive()

    def run(self, function: Callable[..., Any], args: tuple, seconds: float) -> Any:
        """`function(*args)` in the child; RenderTimedOut after `seconds` (the child is killed
        then), RenderFailed when it raised or died."""
        try:
            self.connection.send((function, args))
            ready = self.connection.poll(seconds)
            answer = self.connection.recv() if ready else None
        except (EOFError, OSError) as error:
            self.stop()
            raise RenderFailed("the renderer stopped") from error
        if answer is None:
            self.stop()
            raise RenderTimedOut(seconds)
        self.documents += 1
        status, value = answer
        if status != "ok":
            raise RenderFailed(value)
        return value

    def stop(self) -> None:
        """Kill the child and wait for it (it may be rendering: nothing of it is kept)."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=10)
        self.connection.close()


def _checkout() -> _Renderer:
    """A waiting renderer of this process, else a new one. After a fork (a web server's
    workers), the parent's renderers are not this process's children: they are forgotten."""
    global _idle_pid
    with _lock:
        if _idle_pid != os.getpid():
            _idle.clear()
            _idle_pid = os.getpid()
        while _idle:
            renderer = _idle.pop()
            if renderer.alive():
                return renderer
            renderer.stop()
    return _Renderer()


def _checkin(renderer: _Renderer) -> None:
    with _lock:
        if renderer.alive() and renderer.documents < MAX_DOCUMENTS and \
                len(_idle) < MAX_IDLE and _idle_pid == os.getpid():
            _idle.append(renderer)
            return
    renderer.stop()


def call(function: Callable[..., Any], *args: Any, seconds: float) -> Any:
    """`function(*args)` run by a renderer, within `seconds`: RenderTimedOut after that (the
    renderer is killed), RenderFailed when the function raised or the renderer died. The
    function and its arguments are sent by pickle: a function of a module, by name."""
    renderer = _checkout()
    started = time.monotonic()
    try:
        result = renderer.run(function, args, seconds)
    except RenderTimedOut:
        log.warning("a render took longer than %s s: renderer %s killed", seconds, renderer.pid)
        raise
    except RenderFailed as error:
        log.warning("a render failed in renderer %s: %s", renderer.pid, error)
        _checkin(renderer)  # still serving if the function only raised
        raise
    log.debug("rendered in %.2f s by renderer %s", time.monotonic() - started, renderer.pid)
    _checkin(renderer)
    return result


def stop_all() -> None:
    """Stop the waiting renderers of this process (tests; a server's shutdown)."""
    with _lock:
        renderers, _idle[:] = list(_idle), []
    for renderer in renderers:
        renderer.stop()
