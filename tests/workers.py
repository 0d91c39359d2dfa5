"""Real Celery worker processes and private Redis servers for the slow pipeline tests.

The worker runs `celery -A cmms worker` in a subprocess against the test database (the test
must use `django_db(transaction=True)` so its rows are committed and visible) and a Redis
broker; the test process publishes to the same broker.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import redis
from django.db import connection
from kombu import pools as kombu_pools

from cmms.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A private redis-server on a free port, so a test may stop it without harming others."""

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="cmms-redis-")
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def queue_length(self, queue: str) -> int:
        return redis.Redis.from_url(self.url).llen(queue)


def test_database_url() -> str:
    s = connection.settings_dict
    user = s.get("USER") or "postgres"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    host, port = s.get("HOST") or "127.0.0.1", s.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{s['NAME']}"


class Worker:
    """A `celery worker` subprocess; `kill()` is SIGKILL of the whole process group."""

    def __init__(
        self,
        broker_url: str,
        *,
        concurrency: int = 2,
        queues="alerts,default,housekeeping",
        database_url: str | None = None,
    ):
        self.broker_url = broker_url
        self.database_url = database_url
        self.concurrency = concurrency
        self.queues = queues
        self.process = None
        self.log_path = Path(tempfile.mkstemp(prefix="cmms-worker-", suffix=".log")[1])

    def start(self):
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url or test_database_url(),
            "CELERY_BROKER_URL": self.broker_url,
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "LOG_LEVEL": "WARNING",
        }
        # The worker writes to its own copy of the file; this process closes its handle.
        with self.log_path.open("ab") as log:
            self.process = self._popen(env, log)
        return self

    def _popen(self, env, log):
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "cmms",
                "worker",
                "-Q",
                self.queues,
                "-c",
                str(self.concurrency),
                "--pool",
                "prefork",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
                "-l",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self):
        """SIGKILL the worker and its children, as a crashed machine would."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self):
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def publishing_to(broker_url: str):
    """Make this (test) process publish tasks to a real broker instead of running them eagerly."""
    conf = celery_app.conf
    saved = (conf.broker_url, conf.task_always_eager)
    drop_broker_connections()
    conf.broker_url, conf.task_always_eager = broker_url, False
    try:
        yield
    finally:
        drop_broker_connections()
        conf.broker_url, conf.task_always_eager = saved


def drop_broker_connections():
    """Forget pooled broker connections and producers, so the next publish uses the new URL.

    kombu keeps its pools in a process-wide registry keyed by connection: closing the app's
    pool alone would leave that closed pool registered, and the next publish to the same URL
    (the suite's `memory://`) would fail with "Acquire on closed pool". So clear it too."""
    celery_app.close()
    celery_app.amqp._producer_pool = None
    kombu_pools.reset()


def wait_until(predicate, *, timeout: float = 60, interval: float = 0.1, message=""):
    """Poll until predicate() is truthy; fail after `timeout` seconds with `message`
    (a string, or a callable such as `worker.output` evaluated only on failure)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    details = message() if callable(message) else message
    raise AssertionError(f"timed out after {timeout}s: {details}")


PG_BIN = Path("/usr/lib/postgresql/15/bin")


class PostgresServer:
    """A private PostgreSQL cluster in a temporary directory on a free port, so a test may
    stop and restart it without harming anyone else's database. Runs as the postgres user
    (initdb refuses root)."""

    def __init__(self):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="cmms-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"

    @staticmethod
    def available() -> bool:
        return (PG_BIN / "initdb").exists() and shutil.which("runuser") is not None

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/cmms"

    def _as_postgres(self, *args, check=True):
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", *map(str, args)],
            check=check,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def init(self):
        shutil.chown(self.dir, "postgres", "postgres")
        self._as_postgres(PG_BIN / "initdb", "-D", self.data, "-A", "trust", "-U", "postgres")
        self.start()
        self._as_postgres(
            PG_BIN / "createdb", "-h", "127.0.0.1", "-p", self.port, "-U", "postgres", "cmms"
        )
        return self

    def start(self):
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            PG_BIN / "pg_ctl", "-D", self.data, "-o", options, "-l", self.log, "-w", "start"
        )

    def stop(self, mode: str = "fast"):
        self._as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop", check=False)

    def destroy(self):
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
