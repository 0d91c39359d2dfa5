#!/usr/bin/env python3
"""Smoke test of the embedded demo path, as a new user runs it (`make smoke` in CI).

In a temporary directory, with a fresh SQLite database and no Celery broker: migrate, seed the
demo data twice (the second run must change nothing), start `runserver`, and make real HTTP
requests: the admin login page, a planner's admin session, the API with a demo token and the
API docs. Exits non-zero with a message saying what failed.
"""

import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLANNER = "planner.rheinwerk"
PASSWORD = "demo1234"
STARTUP_SECONDS = 60


class SmokeFailure(Exception):
    pass


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="cmms-smoke-") as tmp:
        env = _demo_env(Path(tmp))
        try:
            _run_demo(env, Path(tmp))
        except SmokeFailure as failure:
            print(f"SMOKE FAILED: {failure}", file=sys.stderr)
            return 1
    print("smoke: OK")
    return 0


def _demo_env(tmp: Path) -> dict:
    env = dict(os.environ)
    for name in ("CELERY_BROKER_URL", "CACHE_URL", "SECRET_KEY"):
        env.pop(name, None)
    env.update(
        DATABASE_URL=f"sqlite:///{tmp / 'demo.sqlite3'}",
        MEDIA_ROOT=str(tmp / "media"),
        DEBUG="true",
        PYTHONUNBUFFERED="1",
    )
    return env


def _run_demo(env: dict, tmp: Path) -> None:
    _manage(env, "migrate", "--no-input")
    first = _manage(env, "seed_demo")
    if "Demo data created" not in first:
        raise SmokeFailure(f"seed_demo did not create the demo data:\n{first}")
    second = _manage(env, "seed_demo")
    if "already exists" not in second:
        raise SmokeFailure(f"a second seed_demo was not a no-op:\n{second}")
    token = _token_of(PLANNER, second)

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp / "runserver.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(  # noqa: S603 - our own manage.py
            [
                sys.executable,
                str(ROOT / "manage.py"),
                "runserver",
                "--noreload",
                f"127.0.0.1:{port}",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_up(base, server, log_path)
            _check_pages(base, token)
        except SmokeFailure as failure:
            raise SmokeFailure(f"{failure}\n--- runserver log ---\n{_tail(log_path)}") from None
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _check_pages(base: str, token: str) -> None:
    status, _, _ = _get(f"{base}/admin/login/")
    _expect(status == 200, f"/admin/login/ answered {status}, expected 200")

    _admin_session(base)

    status, body, _ = _get(f"{base}/api/v1/work-orders/", token=token)
    if status == 404:
        # TODO(smoke): the work-order API is not routed yet; the schema stands in until it is.
        status, body, _ = _get(f"{base}/api/v1/schema/", token=token)
        _expect(status == 200, f"/api/v1/schema/ answered {status}, expected 200")
        print("smoke: /api/v1/work-orders/ not routed yet; checked /api/v1/schema/ instead")
    else:
        _expect(status == 200, f"/api/v1/work-orders/ answered {status}, expected 200:\n{body}")
        results = json.loads(body).get("results")
        _expect(bool(results), f"/api/v1/work-orders/ returned no work orders for {PLANNER}")
        print(f"smoke: /api/v1/work-orders/ returned {len(results)} work orders for {PLANNER}")

    status, _, _ = _get(f"{base}/api/v1/docs/")
    _expect(status == 200, f"/api/v1/docs/ answered {status}, expected 200")


def _admin_session(base: str) -> None:
    """Log in to the admin as a planner (with CSRF) and open the work order list."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/admin/login/", timeout=30).read()
    csrf = next((c.value for c in jar if c.name == "csrftoken"), None)
    _expect(csrf is not None, "the admin login page set no csrftoken cookie")
    form = urllib.parse.urlencode(
        {"username": PLANNER, "password": PASSWORD, "csrfmiddlewaretoken": csrf, "next": "/admin/"}
    ).encode()
    response = opener.open(f"{base}/admin/login/?next=/admin/", data=form, timeout=30)
    landed = urllib.parse.urlparse(response.geturl()).path
    _expect(landed == "/admin/", f"{PLANNER} could not log in to the admin (landed on {landed})")
    listing = opener.open(f"{base}/admin/workorders/workorder/", timeout=30)
    html = listing.read().decode()
    _expect(listing.status == 200, f"admin work order list answered {listing.status}")
    _expect("WO-" in html, "the admin work order list shows no work orders")
    print(f"smoke: {PLANNER} logged in to the admin and listed work orders")
    # The dashboard's KPIs are the SQL most likely to differ between SQLite and PostgreSQL.
    dashboard = opener.open(f"{base}/admin/planner/", timeout=30)
    _expect(dashboard.status == 200, f"the planner dashboard answered {dashboard.status}")
    print(f"smoke: {PLANNER} opened the planner dashboard")


def _manage(env: dict, *args: str) -> str:
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    result = subprocess.run(  # noqa: S603 - our own manage.py
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if result.returncode != 0:
        raise SmokeFailure(
            f"`manage.py {' '.join(args)}` exited {result.returncode}:\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    print(f"smoke: manage.py {' '.join(args)}: ok")
    return result.stdout


def _token_of(username: str, seed_output: str) -> str:
    match = re.search(rf"^\s*{re.escape(username)}\s.*\s([0-9a-f]{{64}})\s*$", seed_output, re.M)
    if not match:
        raise SmokeFailure(f"seed_demo printed no API token for {username}:\n{seed_output}")
    return match.group(1)


def _get(url: str, *, token: str | None = None) -> tuple[int, str, dict]:
    request = urllib.request.Request(url)  # noqa: S310 - http://127.0.0.1 only
    if token:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace"), dict(error.headers)


def _wait_until_up(base: str, server: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SmokeFailure(f"runserver exited with {server.returncode} before answering")
        try:
            with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise SmokeFailure(f"runserver did not answer within {STARTUP_SECONDS} s")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


if __name__ == "__main__":
    sys.exit(main())
