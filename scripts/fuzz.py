"""Fuzz the API with schemathesis against a live server (`.ci/run` runs it on SQLite and
PostgreSQL; `make fuzz` here).

    .venv/bin/python scripts/fuzz.py [--database-url URL] [--port 5147] [--budget 170]
                                     [--seed 2026] [--max-examples 25]
                                     [--role admin --role case_manager] [-- SCHEMATHESIS ARGS]

Builds a fresh database (an SQLite file in a temporary folder unless `--database-url` names
a fresh one, e.g. from `scripts/postgres.sh create-database coordinator_fuzz`, which
(re)creates it): the migrations, the reference data, the demo accounts and a little demo
registry. Starts gunicorn on 127.0.0.1, issues a bearer token per role with `flask users
token`, and runs `schemathesis run` against `/api/v1/openapi.json` once per role.

The fuzzing is bounded in time: `--budget` seconds in all (at most 180), shared equally by the
roles (schemathesis' `--max-time`: fuzzing and stateful testing repeat until a run's share is
spent); and seeded (`--seed`, no example database, one worker), so a run draws the same cases
in the same order, a faster machine only more of them. The checks: no 5xx, status codes,
content types and response schemas as the description says, authentication not ignored, and
schema-violating input refused. Exits non-zero on any failure or any traceback in the server's
log, after printing the number of cases run per role. Arguments after `--` go to
`schemathesis run` (`-- --include-path-regex careplans` looks at one resource).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ROLES = {"admin": "admin@demo.test", "case_manager": "case.manager@demo.test"}
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance,ignored_auth,negative_data_rejection")
MAX_BUDGET = 180  # seconds of fuzzing per database, all roles together: the bound of the CI

SEED = """
from coordinator import create_app, demo
from coordinator.extensions import db
from coordinator.strata.services import load_reference_data
app = create_app()
with app.app_context():
    load_reference_data(db.session)
    demo.seed_accounts(db.session, app.config["PASSWORD_HASH_METHOD"])
    counts = demo.seed_registry(db.session, patients={patients})
    db.session.commit()
    print("demo registry:", counts)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def flask(env: dict, *args: str) -> str:
    result = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"flask {' '.join(args)} failed (exit {result.returncode}):\n"
                         f"{result.stdout}{result.stderr}")
    return result.stdout


def wait_until_up(base: str, server: subprocess.Popen, token: str, timeout: float = 60) -> None:
    """Wait until our server answers, and make sure it is ours: on a shared machine another
    process may have taken the port between `free_port` and gunicorn's bind (gunicorn then
    retries, then stops), so our token must be known there too."""
    deadline = time.monotonic() + timeout
    me = urllib.request.Request(f"{base}/api/v1/me",  # noqa: S310 - http on the loopback
                                headers={"Authorization": f"Bearer {token}"})
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped (exit {server.returncode})")
        try:
            with urllib.request.urlopen(me, timeout=5) as answer:  # noqa: S310 - loopback
                if answer.status == 200 and server.poll() is None:
                    return
        except urllib.error.HTTPError as error:
            if error.code == 401:
                raise SystemExit(f"another server answers on {base}: run again") from None
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server did not answer {base} within {timeout} s")


def cases_of(output: str) -> tuple[int, int]:
    """(test cases generated, unique failures) from schemathesis' summary."""
    generated = re.search(r"(\d+) generated", output)
    failures = re.search(r"(\d+) unique failures?", output)
    return (int(generated.group(1)) if generated else 0,
            int(failures.group(1)) if failures else 0)


def run_schemathesis(base: str, role: str, token: str, seconds: int, args,
                     workdir: Path) -> tuple[int, int, int]:
    command = [
        str(BIN / "schemathesis"), "--config-file", str(ROOT / "scripts" / "schemathesis.toml"),
        "run", f"{base}/api/v1/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--checks", CHECKS,
        "--max-examples", str(args.max_examples),
        "--max-time", str(seconds),
        "--request-timeout", "30",
        "--workers", "1",
        "--seed", str(args.seed),
        "--generation-database", "none",
        "--suppress-health-check", "all",
        "--no-color",
        *args.schemathesis,
    ]
    print(f"== schemathesis as {role} ==", flush=True)
    started = time.monotonic()
    lines: list[str] = []
    with subprocess.Popen(command, cwd=workdir, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True) as fuzzer:
        # Its --max-time ends the fuzzing; this ends a run that hangs past it, silent or not.
        limit = threading.Timer(seconds + 60, fuzzer.kill)
        limit.start()
        try:
            for line in fuzzer.stdout:
                print(line, end="", flush=True)
                lines.append(line)
            code = fuzzer.wait()
        finally:
            limit.cancel()
    if code == -signal.SIGKILL:
        print(f"schemathesis as {role} ran past {seconds + 60} s: stopped")
    cases, failures = cases_of("".join(lines))
    print(f"== {role}: {cases} test cases, {failures} failure(s), exit {code}, "
          f"{time.monotonic() - started:.0f} s ==", flush=True)
    return code, cases, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: an SQLite file in a temporary folder")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--max-examples", type=int, default=25,
                        help="test cases per operation and phase (in each cycle)")
    parser.add_argument("--budget", type=int, default=170,
                        help=f"seconds of fuzzing in all, shared by the roles (at most "
                             f"{MAX_BUDGET})")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--patients", type=int, default=40, help="demo patients")
    parser.add_argument("--role", action="append", choices=sorted(ROLES),
                        help="run as this role (repeatable; default: every role)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("schemathesis", nargs=argparse.REMAINDER,
                        help="after --: more arguments of `schemathesis run`")
    args = parser.parse_args()
    args.schemathesis = [arg for arg in args.schemathesis if arg != "--"]
    roles = args.role or sorted(ROLES)
    seconds = max(1, min(args.budget, MAX_BUDGET) // len(roles))

    workdir = Path(tempfile.mkdtemp(prefix="coordinator-fuzz-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'fuzz.sqlite3'}"
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("COORDINATOR_") and key not in ("DATABASE_URL",
                                                                  "TEST_DATABASE_URL")}
    env.update({"COORDINATOR_ENV": "development", "DATABASE_URL": database_url,
                "COORDINATOR_INSTANCE_PATH": str(workdir), "COORDINATOR_SCHEDULER": "false",
                "PYTHONUNBUFFERED": "1"})
    dialect = database_url.split(":", 1)[0].split("+", 1)[0]
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"fuzz: {database_url.split('@')[-1]} on {base}, work folder {workdir}", flush=True)

    flask(env, "init-db")
    subprocess.run([sys.executable, "-c", SEED.format(patients=args.patients)], cwd=ROOT,
                   env=env, check=True)
    tokens = {role: flask(env, "users", "token", ROLES[role], "--label", "fuzz").strip()
              for role in roles}

    # The server's log is read back through the handle it was written by: a missing or removed
    # work folder cannot lose it (or crash the report).
    log_path = workdir / "server.log"
    log = log_path.open("w+")
    server = subprocess.Popen(
        # No request-line limit in gunicorn: the application answers a too long address itself
        # (414 in the API's error shape), which is what is tested.
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--threads", "1", "--timeout", "60", "--limit-request-line", "0",
         "--access-logfile", "-", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    results = {}
    try:
        wait_until_up(base, server, next(iter(tokens.values())))
        for role in roles:
            results[role] = run_schemathesis(base, role, tokens[role], seconds, args, workdir)
    except SystemExit:  # the server did not start: say why
        stop(server)
        log.seek(0)
        print("".join(log.readlines()[-40:]), end="")
        raise
    finally:
        stop(server)
        log.flush()
        log.seek(0)
        server_log = log.read()
        log.close()
    errors = server_log.count("Traceback")
    total = sum(cases for _code, cases, _failures in results.values())
    failed = [role for role, (code, _cases, _failures) in results.items() if code != 0]
    print(f"fuzz: {dialect}: "
          + ", ".join(f"{role} {cases} cases" for role, (_c, cases, _f) in results.items())
          + f"; {total} test cases over {len(results)} run(s) of {seconds} s; server "
            f"tracebacks: {errors}; "
          + (f"FAILED as {', '.join(failed)}" if failed else "no failure"))
    if errors:
        print_tracebacks(server_log)
    if args.keep or failed or errors:
        print(f"work folder kept: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed or errors else 0


def stop(server: subprocess.Popen) -> None:
    """Stop gunicorn and its workers (its own process group)."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def print_tracebacks(server_log: str, limit: int = 5) -> None:
    """The first tracebacks of the server's log, each with the lines that follow it."""
    lines = server_log.splitlines()
    starts = [index for index, line in enumerate(lines) if line.startswith("Traceback")]
    for start in starts[:limit]:
        end = next((index for index in range(start + 1, len(lines))
                    if lines[index] and not lines[index][0].isspace()), len(lines) - 1)
        print("\n".join(lines[max(0, start - 2):end + 1]))
    if len(starts) > limit:
        print(f"... {len(starts) - limit} more traceback(s) in the server's log")


if __name__ == "__main__":
    sys.exit(main())
