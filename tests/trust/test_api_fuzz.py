"""Schemathesis fuzzes every operation of the API's own OpenAPI schema (a bounded number of
examples each) as a superuser: no answer is a server error, and every answer matches the
schema. Then it runs sequences of calls (stateful), feeding what one answer returns (an id)
into the next call along the links it infers from the schema (create → retrieve, update,
actions), so the operations are reached with objects that exist. The webhook has its own
hypothesis fuzz test in tests/alerts/test_fuzz.py."""

import collections
import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from accounts import services as account_services
from accounts.models import ApiToken, User
from tests.factories import (
    AssetFactory,
    SiteFactory,
    SuperuserFactory,
    WorkOrderFactory,
    api_token_key,
)

EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "10"))
# Scenarios of the stateful run, each at most STATEFUL_STEPS calls: about a minute.
STATEFUL_SCENARIOS = int(os.environ.get("FUZZ_STATEFUL_SCENARIOS", "25"))
STATEFUL_STEPS = 6
CHECKS = [not_a_server_error, response_schema_conformance]
examples_run: collections.Counter = collections.Counter()
links_followed: collections.Counter = collections.Counter()
scenarios_run: collections.Counter = collections.Counter()

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())
# The stateful run sends valid input only: an invalid call is a 400 that leads nowhere, and
# the run above already sends invalid input to every operation.
stateful_schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())
stateful_schema.config.generation.update(modes=[GenerationMode.POSITIVE])


@pytest.fixture
def superuser(transactional_db):
    # Requests autocommit as in production (a refused value must not poison a test-wide
    # transaction). The raw WSGI app closes the database connection after each request;
    # keep it open across the test, as Django's test client arranges.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield _seed()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _seed():
    site = SiteFactory()
    WorkOrderFactory(site=site, asset=AssetFactory(site=site))
    return SuperuserFactory()


@pytest.fixture
def token(superuser) -> str:
    return api_token_key(superuser)


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
        checks=CHECKS,
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


class AsSuperuser(stateful_schema.as_state_machine()):
    """The inferred state machine, calling as a superuser and checking what the test above
    checks (not every check schemathesis has: a refused value is a 4xx we declare, not a bug)."""

    user = None
    token: ApiToken | None = None
    key = ""

    def setup(self):
        # A scenario may revoke the token it calls with (DELETE /api-tokens/{id}/ is in the
        # schema) or deactivate its own account; every later call would then be a 401 that
        # leads nowhere. Each scenario starts as a live superuser with a live token.
        super().setup()
        User.objects.filter(pk=self.user.pk).update(is_active=True, is_superuser=True)
        cls = type(self)
        if cls.token is None or not ApiToken.objects.filter(pk=cls.token.pk).exists():
            cls.token, cls.key = account_services.api_token_issue(
                user=self.user, name="stateful fuzzing", by=None
            )

    def get_call_kwargs(self, case):
        return {"headers": {"Authorization": f"Token {self.key}"}}

    def step(self, input):
        result = super().step(input)
        # Whether the link's values were applied is known once the step has built its call.
        if input.transition is not None and input.is_applied:
            links_followed[f"{input.transition.parent_id} -> {input.case.operation.label}"] += 1
        return result

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        case.validate_response(
            response, checks=CHECKS, transport_kwargs=kwargs or None, recorder=self.recorder
        )

    def teardown(self):
        scenarios_run["done"] += 1
        super().teardown()


@pytest.mark.slow
def test_call_sequences_along_the_schemas_links_answer_no_server_error(superuser, capsys):
    AsSuperuser.user, AsSuperuser.token = superuser, None
    bounded = settings(
        max_examples=STATEFUL_SCENARIOS,
        stateful_step_count=STATEFUL_STEPS,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        phases=[Phase.generate],
    )
    for _suite in range(3):
        try:
            AsSuperuser.run(settings=bounded)
        except FlakyStrategyDefinition:
            # The scenarios share one database, so a replayed choice sequence can meet other
            # rows and open other links; schemathesis's own runner starts a new suite then too.
            # A failing check is a FailureGroup (or FlakyFailure) and is not caught here.
            continue
        # Most generated creations are refused (a random id names no row), so a suite may
        # follow few links; another suite (at most three in all) walks on from its rows.
        if len(links_followed) > 1:
            break
    with capsys.disabled():
        print(
            f"\nStateful API fuzzing: {scenarios_run['done']} scenarios, "
            f"{sum(links_followed.values())} calls along {len(links_followed)} different links"
        )
    assert scenarios_run["done"] >= STATEFUL_SCENARIOS
    assert len(links_followed) > 1
