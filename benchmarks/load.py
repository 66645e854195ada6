"""Benchmark: the pages under load, behind gunicorn as in production (aim: p95 ≤ 150 ms at 8
connections, at least 8 % of the `/healthz` floor's requests/s, no answer other than 2xx).

    .venv/bin/python benchmarks/load.py --database postgresql  # database coordinator_load_bench
    .venv/bin/python benchmarks/load.py --database sqlite      # the embedded file of `make run`

Builds a fresh database (PostgreSQL: `scripts/postgres.sh create-database NAME`; SQLite: a
file in a temporary directory, with the pragmas `make run` gets: WAL, foreign keys, busy
timeout), loads it as the README says (`flask --app wsgi init-db`, `seed-demo`), takes an API
token of the demo case manager (`flask --app wsgi users token`), then serves it with the
README's production command `COORDINATOR_ENV=production gunicorn --workers 4 --bind
127.0.0.1:PORT wsgi:app`, SECRET_KEY and DATABASE_URL set and nothing else: the production
defaults stay as they are (the client reads the Secure session cookie itself and sends it back
over plain HTTP, as wrk does).

It signs in as the demo case manager through the sign-in form, then runs wrk (Debian package
`wrk`: `scripts/system-deps.sh bench`) on 127.0.0.1 against each page in turn, 8 connections
for 8 s, between runs of 4 s on `/healthz`: the page's floor is the mean of the two around it,
measured beside it in the same run because a shared machine's load drifts. `load_report.lua`
counts the answers that are not 2xx by status and reads the latency percentiles. Prints a
markdown table for docs/performance.md.
Bounded: every wrk run has its duration and a timeout, and gunicorn (its own process group) is
stopped at the end, on an error or on Ctrl-C too, and gets SIGTERM if this script is killed.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LUA = Path(__file__).resolve().parent / "load_report.lua"
EMAIL, PASSWORD = "case.manager@demo.test", "parcours-demo-territoire"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
COOKIE = "coordinator_session"
PORTS = range(5150, 5160)
AIM_P95_MS, AIM_FLOOR_PERCENT = 150, 8


@dataclass
class Page:
    label: str
    path: str
    auth: str  # "none", "cookie" or "bearer"


@dataclass
class Result:
    page: Page
    requests: int
    seconds: float
    non2xx: int
    statuses: dict
    p50_ms: float
    p95_ms: float
    socket_errors: int

    @property
    def rate(self) -> float:
        """Answers per second that were 2xx (an error page that answers fast is no service)."""
        return (self.requests - self.non2xx) / self.seconds if self.seconds else 0.0


def fail(message: str) -> None:
    raise SystemExit(f"load.py: {message}")


def run(command: list[str], env: dict, timeout: int) -> str:
    """Run a setup command in the repository; its stdout, or stop with its output."""
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        fail(f"{' '.join(command)} exited with {done.returncode}:\n{done.stdout}{done.stderr}")
    return done.stdout


def check_port(port: int) -> None:
    if port not in PORTS:
        fail(f"use a port in {PORTS.start}-{PORTS.stop - 1}")
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            fail(f"port {port} is in use: choose another with --port")


def database_url(args, workdir: Path) -> str:
    if args.database == "sqlite":
        return f"sqlite:///{workdir / 'coordinator.sqlite3'}"
    done = subprocess.run([str(ROOT / "scripts/postgres.sh"), "create-database",
                           args.database_name], capture_output=True, text=True, timeout=60,
                          check=False)
    if done.returncode != 0:
        fail(f"could not create the database {args.database_name}: {done.stderr.strip()} "
             "(is PostgreSQL running? scripts/postgres.sh ensure)")
    return done.stdout.strip()


def production_env(url: str, workdir: Path) -> dict:
    """The README's production environment: COORDINATOR_ENV, SECRET_KEY and DATABASE_URL, and
    no other COORDINATOR_* setting of the caller's shell."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("COORDINATOR_") and key not in ("DATABASE_URL",
                                                                 "TEST_DATABASE_URL")}
    env.update(COORDINATOR_ENV="production", SECRET_KEY=secrets.token_urlsafe(48),
               DATABASE_URL=url, COORDINATOR_INSTANCE_PATH=str(workdir / "instance"),
               PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}")
    return env


def _die_with_parent() -> None:  # runs in the child: gunicorn gets SIGTERM if we are killed
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_gunicorn(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=_die_with_parent)


def stop_gunicorn(server: subprocess.Popen | None) -> None:
    """Quick shutdown of the master and its workers (their own process group), then kill."""
    if server is None:
        return
    with contextlib.suppress(ProcessLookupError):
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGINT)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)
        deadline = time.monotonic() + 10  # workers the master left behind, if any
        while time.monotonic() < deadline:
            os.killpg(server.pid, 0)  # ProcessLookupError once the group is empty
            time.sleep(0.2)
        os.killpg(server.pid, signal.SIGKILL)


def request(port: int, method: str, path: str, headers: dict | None = None,
            body: str | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def wait_healthy(port: int, server: subprocess.Popen, log: Path, seconds: int = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            fail(f"gunicorn exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if request(port, "GET", "/healthz").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    fail(f"gunicorn did not answer /healthz within {seconds} s:\n{log.read_text()[-3000:]}")


def session_cookie(response: http.client.HTTPResponse) -> str | None:
    for header in response.headers.get_all("Set-Cookie") or []:
        if header.startswith(COOKIE + "="):
            return header.split(";", 1)[0]
    return None


def sign_in(port: int) -> str:
    """The session cookie of the demo case manager, signed in through the sign-in form."""
    page = request(port, "GET", "/login")
    cookie, match = session_cookie(page), CSRF_RE.search(page.body.decode())
    if not (cookie and match):
        fail(f"no session cookie or CSRF token on /login (status {page.status})")
    answer = request(port, "POST", "/login", {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
        urlencode({"csrf_token": match.group(1), "email": EMAIL, "password": PASSWORD}))
    cookie = session_cookie(answer)
    if answer.status != 302 or not cookie:
        fail(f"signing in as {EMAIL} answered {answer.status}")
    return cookie


def lookup(url: str) -> dict:
    """Ids of the demo data the pages need, and the database's version."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        user_id = connection.scalar(text("SELECT id FROM user_account WHERE email = :e"),
                                    {"e": EMAIL})
        plan = connection.execute(text(
            "SELECT care_plan.id, care_plan.patient_id FROM care_plan JOIN patient "
            "ON patient.id = care_plan.patient_id WHERE care_plan.status = 'active' "
            "AND patient.case_manager_id = :u ORDER BY care_plan.id LIMIT 1"),
            {"u": user_id}).one()
        program = connection.scalar(text("SELECT id FROM program WHERE code = 'HF'"))
        version = connection.scalar(text("SELECT version()")).split(" on ")[0] \
            if engine.dialect.name == "postgresql" else f"SQLite {sqlite3.sqlite_version}"
    engine.dispose()
    return {"plan_id": plan.id, "patient_id": plan.patient_id, "program_id": program,
            "version": version}


def pages(ids: dict) -> list[Page]:
    return [
        Page("worklist", "/", "cookie"),
        Page("patient page", f"/patients/{ids['patient_id']}", "cookie"),
        Page("patient search (program HF, a page of 50)",
             f"/patients/?program_id={ids['program_id']}", "cookie"),
        Page("care plan page", f"/careplans/{ids['plan_id']}", "cookie"),
        Page("calendar (caseload week)", "/calendar/caseload?view=week", "cookie"),
        Page("API patient list (50)", "/api/v1/patients", "bearer"),
        Page("API appointment list (50)", "/api/v1/appointments", "bearer"),
    ]


def auth_headers(page: Page, cookie: str, token: str) -> dict:
    if page.auth == "cookie":
        return {"Cookie": cookie}
    if page.auth == "bearer":
        return {"Authorization": f"Bearer {token}"}
    return {}


def warm_up(port: int, page: Page, headers: dict, times: int = 8) -> None:
    """A few requests one at a time (templates compiled, connections opened in each worker);
    a page that fails even alone stops the benchmark."""
    for _ in range(times):
        answer = request(port, "GET", page.path, headers)
        if answer.status != 200:
            fail(f"{page.path} answered {answer.status} to a single request: "
                 f"{answer.body[:300]!r}")


def measure(args, page: Page, headers: dict, duration: int | None = None) -> Result:
    duration = duration or args.duration
    command = [shutil.which("wrk"), f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}s",
               "--timeout", f"{args.timeout}s", "-s", str(LUA)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{args.port}{page.path}")
    done = subprocess.run(command, capture_output=True, text=True, check=False,
                          timeout=duration + args.timeout + 30)
    line = next((line for line in done.stdout.splitlines() if line.startswith("LOAD-REPORT ")),
                None)
    if done.returncode != 0 or line is None:
        fail(f"wrk failed on {page.path} ({done.returncode}):\n{done.stdout}{done.stderr}")
    report = json.loads(line.removeprefix("LOAD-REPORT "))
    errors = report["errors"]
    result = Result(page, report["requests"], report["duration_us"] / 1e6, report["non2xx"],
                    report["statuses"], report["p50_us"] / 1000, report["p95_us"] / 1000,
                    errors["connect"] + errors["read"] + errors["write"] + errors["timeout"])
    print(f"  {page.label:<44} {result.rate:8.1f} 2xx/s  p50 {result.p50_ms:7.1f} ms  "
          f"p95 {result.p95_ms:7.1f} ms  non-2xx {result.non2xx} {result.statuses or ''}"
          f"{f'  socket errors {result.socket_errors}' if result.socket_errors else ''}",
          file=sys.stderr)
    return result


def commit() -> str:
    def git(*words: str) -> str:
        return subprocess.run([shutil.which("git") or "git", *words], cwd=ROOT,
                              capture_output=True, text=True, check=False).stdout.strip()
    head = git("rev-parse", "--short", "HEAD")
    return f"{git('rev-parse', '--abbrev-ref', 'HEAD')} {head}" + \
        (" + uncommitted changes" if git("status", "--porcelain", "--untracked-files=no")
         else "")


def non2xx_cell(result: Result) -> str:
    cell = f"{result.non2xx:,} of {result.requests:,}"
    if result.statuses:
        cell += " (" + ", ".join(f"{code}: {n:,}" for code, n in sorted(
            result.statuses.items())) + ")"
    if result.socket_errors:
        cell += f", {result.socket_errors:,} socket errors"
    return cell


def table(args, ids: dict, command: str, floors: list[Result], results: list[Result],
          load: tuple[float, float, float]) -> str:
    """Each page against its floor: the mean of the /healthz runs just before and after it."""
    rates = sorted(floor.rate for floor in floors)
    lines = [
        f"{date.today().isoformat()}, {args.database} ({ids['version']}), demo data; "
        f"`{command}`; wrk {args.threads} threads, {args.connections} connections, "
        f"{args.duration} s per page between runs of {args.floor_duration} s on `/healthz` "
        f"(its floor: the mean of the two); {os.cpu_count()} CPU, Python "
        f"{platform.python_version()}; {commit()}; load average before the run "
        f"{load[0]:.1f}. `/healthz` {rates[0]:,.0f} to {rates[-1]:,.0f} requests/s.",
        "",
        f"| page ({args.database}) | 2xx requests/s | floor requests/s | % of floor | p50 ms "
        "| p95 ms | non-2xx | aim |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for before, result, after in zip(floors, results, floors[1:], strict=False):
        floor = (before.rate + after.rate) / 2
        share = 100 * result.rate / floor if floor else 0
        missed = [what for what, bad in (
            (f"p95 > {AIM_P95_MS} ms", result.p95_ms > AIM_P95_MS),
            (f"< {AIM_FLOOR_PERCENT} %", share < AIM_FLOOR_PERCENT),
            ("non-2xx", result.non2xx or result.socket_errors)) if bad]
        aim = "met" if not missed else "missed: " + ", ".join(missed)
        lines.append(f"| {result.page.label} `{result.page.path}` | {result.rate:,.1f} | "
                     f"{floor:,.0f} | {share:.1f} % | {result.p50_ms:.1f} | "
                     f"{result.p95_ms:.1f} | {non2xx_cell(result)} | {aim} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), required=True)
    parser.add_argument("--database-name", default="coordinator_load_bench",
                        help="PostgreSQL database to (re)create (default: %(default)s)")
    parser.add_argument("--port", type=int, default=5150, help="5150-5159 (default 5150)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--duration", type=int, default=8, help="seconds per page (default 8)")
    parser.add_argument("--floor-duration", type=int, default=4,
                        help="seconds of /healthz before and after each page (default 4)")
    parser.add_argument("--timeout", type=int, default=30,
                        help="wrk's timeout per request in seconds (default 30)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory (SQLite file, gunicorn log)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        fail("wrk is not installed: run scripts/system-deps.sh bench (Debian package wrk)")
    if not (BIN / "gunicorn").exists():
        fail(f"no gunicorn in {BIN}: run make install")
    check_port(args.port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # runs the `finally` below

    workdir = Path(tempfile.mkdtemp(prefix="load-bench-"))
    server = None
    try:
        url = database_url(args, workdir)
        env = production_env(url, workdir)
        flask = [str(BIN / "flask"), "--app", "wsgi"]
        started = time.perf_counter()
        run([*flask, "init-db"], env, timeout=300)
        run([*flask, "seed-demo"], env, timeout=900)
        token = run([*flask, "users", "token", EMAIL, "--label", "load benchmark"],
                    env, timeout=120).split()[-1]
        ids = lookup(url)
        print(f"database ready in {time.perf_counter() - started:.0f} s: {url}",
              file=sys.stderr)

        command = f"COORDINATOR_ENV=production gunicorn --workers {args.workers} " \
                  f"--bind 127.0.0.1:{args.port} wsgi:app"
        log = workdir / "gunicorn.log"
        server = start_gunicorn([str(BIN / "gunicorn"), "--workers", str(args.workers),
                                 "--bind", f"127.0.0.1:{args.port}", "wsgi:app"], env, log)
        wait_healthy(args.port, server, log)
        cookie = sign_in(args.port)
        floor_page = Page("floor", "/healthz", "none")
        measured = pages(ids)
        for page in [floor_page, *measured]:
            warm_up(args.port, page, auth_headers(page, cookie, token))
        load = os.getloadavg()
        print(f"{command} (pid {server.pid}); load average {load[0]:.1f}; wrk on each page "
              f"for {args.duration} s between runs of {args.floor_duration} s on /healthz:",
              file=sys.stderr)
        # The floor is measured around each page: the machine is shared, its load drifts.
        floors = [measure(args, floor_page, {}, args.floor_duration)]
        results = []
        for page in measured:
            results.append(measure(args, page, auth_headers(page, cookie, token)))
            floors.append(measure(args, floor_page, {}, args.floor_duration))
        if server.poll() is not None:
            fail(f"gunicorn stopped during the run:\n{log.read_text()[-3000:]}")
        exceptions = re.split(r"^.*Exception on .*$", log.read_text(errors="replace"),
                              flags=re.MULTILINE)[1:]  # one block per logged exception
        locked = sum("database is locked" in block for block in exceptions)
    finally:
        stop_gunicorn(server)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    if exceptions:
        print(f"gunicorn's log: {len(exceptions)} exception(s) logged, {locked} of them "
              "'database is locked'", file=sys.stderr)
    print(table(args, ids, command, floors, results, load))


if __name__ == "__main__":
    main()
