"""Tests that point Celery at a private broker and back (tests.workers.publishing_to, the
outbox's private_broker) leave the suite's own broker usable: kombu keeps its pools in a
process-wide registry, and a closed pool left there broke every later publish of the suite
("Acquire on closed pool")."""

import pytest

from cmms.celery import app as celery_app
from tests.workers import RedisServer, publishing_to


@pytest.mark.slow
def test_publishing_works_again_after_a_private_broker():
    with celery_app.producer_or_acquire():  # the suite's broker, pooled
        pass
    server = RedisServer().start()
    try:
        with publishing_to(server.url), celery_app.producer_or_acquire() as producer:
            assert str(server.port) in producer.connection.as_uri()
    finally:
        server.stop()
    with celery_app.producer_or_acquire() as producer:
        assert producer.connection.as_uri().startswith(celery_app.conf.broker_url.split(":")[0])
