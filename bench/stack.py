"""The real stack on loopback for benchmarks: PostgreSQL database, gunicorn, Celery workers.

`Stack` creates a fresh database (`cmms_bench` by default), migrates it, and starts gunicorn
with production settings (DEBUG=0) and Celery worker processes against the local Redis. Data
is loaded by the benchmark through Django in this process (bulk operations).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
DB_NAME = os.environ.get("BENCH_DB", "cmms_bench")  # another name lets two runs share a server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _psql(sql: str) -> None:
    subprocess.run(
        ["psql", f"{PG}/postgres", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        capture_output=True,
    )


class Stack:
    def __init__(
        self,
        *,
        wsgi="cmms.wsgi",
        db_name=DB_NAME,
        web_workers=4,
        celery_concurrency=2,
        log_dir=None,
    ):
        self.wsgi = wsgi
        self.db_name = db_name
        self.web_workers = web_workers
        self.celery_concurrency = celery_concurrency
        self.port = free_port()
        self.log_dir = Path(log_dir or ROOT / "bench" / "results" / "logs")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.processes: dict[str, subprocess.Popen] = {}
        self.env = {
            **os.environ,
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": f"{PG}/{db_name}",
            "CELERY_BROKER_URL": f"{REDIS}/14",
            "CACHE_URL": f"{REDIS}/13",
            "DB_CONN_MAX_AGE": "60",
            "GATEWAY_RATE_LIMIT_PER_MINUTE": "100000000",
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "TLS_PROXY": "0",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "LOG_LEVEL": "WARNING",
            "ALERT_SWEEP_GRACE_SECONDS": "30",
            # Figure 13's integrator endpoint is a receiver on loopback.
            "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "1",
        }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------ lifecycle

    def create_database(self):
        with suppress(subprocess.CalledProcessError):
            _psql(f"DROP DATABASE IF EXISTS {self.db_name} WITH (FORCE)")
        _psql(f"CREATE DATABASE {self.db_name}")
        self.manage("migrate", "--no-input", "-v", "0")
        subprocess.run(
            ["redis-cli", "-u", f"{REDIS}/14", "FLUSHDB"], check=False, capture_output=True
        )

    def collect_static(self):
        """What a deployment does before serving pages: with DEBUG=0 a template's `{% static %}`
        needs collectstatic's manifest (STATIC_ROOT, `staticfiles/`)."""
        self.manage("collectstatic", "--no-input", "-v", "0")

    def manage(self, *args):
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True)

    def _spawn(self, name: str, args: list[str]):
        log = (self.log_dir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_web(self):
        self._spawn(
            "gunicorn",
            [
                str(BIN / "gunicorn"),
                self.wsgi,
                "--workers",
                str(self.web_workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--worker-class",
                "sync",
                "--backlog",
                "2048",
                "--log-level",
                "warning",
                "--keep-alive",
                "30",
            ],
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/api/v1/", timeout=1)
                return
            except urllib.error.HTTPError:
                return  # answering (401/403 is fine)
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start; see bench/results/logs/gunicorn.log")

    def start_workers(self):
        """The production topology from the README: one node of `celery_concurrency` processes
        for the alerts queue, one process for notifications and housekeeping."""
        self.start_worker("worker", queues="alerts")
        self.start_worker("worker-default", queues="default,housekeeping", concurrency=1)

    def start_worker(self, name="worker", queues="alerts,default,housekeeping", concurrency=None):
        self._spawn(
            name,
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "cmms",
                "worker",
                "-Q",
                queues,
                "-c",
                str(concurrency or self.celery_concurrency),
                "--pool",
                "prefork",
                "-n",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "WARNING",
            ],
        )
        time.sleep(3)  # Django set-up in the worker processes

    def stop(self, name: str | None = None):
        names = [name] if name else list(self.processes)
        for n in names:
            process = self.processes.pop(n, None)
            if process is None:
                continue
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def require(*commands: str) -> None:
    missing = [c for c in commands if shutil.which(c) is None]
    if missing:
        raise SystemExit(f"bench needs {', '.join(missing)} on PATH")
