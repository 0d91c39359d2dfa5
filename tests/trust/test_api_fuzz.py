"""Schemathesis fuzzes every operation of the API's own OpenAPI schema (a bounded number of
examples each) as a superuser: no answer is a server error, and every answer matches the
schema. The webhook has its own hypothesis fuzz test in tests/alerts/test_fuzz.py."""

import collections
import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.factories import (
    AssetFactory,
    SiteFactory,
    SuperuserFactory,
    WorkOrderFactory,
    api_token_key,
)

EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "10"))
examples_run: collections.Counter = collections.Counter()

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())


@pytest.fixture
def token(transactional_db):
    # Requests autocommit as in production (a refused value must not poison a test-wide
    # transaction). The raw WSGI app closes the database connection after each request;
    # keep it open across the test, as Django's test client arranges.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield _seed()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _seed() -> str:
    site = SiteFactory()
    WorkOrderFactory(site=site, asset=AssetFactory(site=site))
    return api_token_key(SuperuserFactory())


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_operation_answers_a_server_error_or_breaks_its_schema(case, token):
    examples_run[case.operation.label] += 1
    case.call_and_validate(
        headers={"Authorization": f"Token {token}"},
        checks=[not_a_server_error, response_schema_conformance],
    )


@pytest.mark.slow
def test_the_fuzzer_ran_every_operation(capsys):
    operations = sum(1 for _ in schema.get_all_operations())
    with capsys.disabled():
        print(
            f"\nAPI fuzzing: {sum(examples_run.values())} examples over "
            f"{len(examples_run)} of {operations} operations"
        )
    if examples_run:  # empty when this test runs alone
        assert len(examples_run) == operations
