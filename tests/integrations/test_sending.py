"""One send is bounded in time as a whole, and whatever a receiver answers can be logged."""

import socket
import threading
import time
from contextlib import suppress

import pytest

from integrations import sending
from integrations.urlguard import Target


def _serve_once(answer):
    """A raw TCP receiver on loopback that reads the request and calls `answer(conn)`."""
    server = socket.create_server(("127.0.0.1", 0))

    def run():
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            with suppress(OSError):  # the client cut the connection
                answer(conn)

    threading.Thread(target=run, daemon=True).start()
    port = server.getsockname()[1]
    return server, Target("http", "127.0.0.1", port, "/hooks", "127.0.0.1")


def _drip(conn):
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    for _ in range(200):  # a header byte every 0.1 s: each read is quick, the whole is not
        conn.sendall(b"X")
        time.sleep(0.1)


def test_a_receiver_dripping_its_answer_is_cut_at_the_deadline(settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    server, target = _serve_once(_drip)
    with server:
        answer = sending.post(target=target, body=b"{}", headers={})

    assert answer.status_code is None and answer.error
    assert answer.duration_ms < 5000  # cut after about 1 s, not the 20 s of dripping


@pytest.mark.django_db
def test_a_nul_in_the_answer_is_dropped_so_the_attempt_can_be_stored(settings):
    def nul(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nok\x00\x00!")

    server, target = _serve_once(nul)
    with server:
        answer = sending.post(target=target, body=b"{}", headers={})

    assert answer.ok and answer.excerpt == "ok!"
    assert "\x00" not in sending.Answer(None, 0, error="bad\x00").error
