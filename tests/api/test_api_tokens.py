"""API tokens: stored hashed (django-rest-knox), one per device, expiring, revocable one by one
or all at once by their holder or a planner of the holder's sites; keys from before hashing
keep working after the migration."""

import hashlib
import importlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.apps import apps
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import ApiToken
from tests.factories import TechnicianFactory, WorkOrderFactory, api_token_key

pytestmark = pytest.mark.django_db

NOON = datetime(2031, 3, 10, 12, 0, tzinfo=UTC)


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def works(key: str) -> bool:
    status = with_token(key).get("/api/v1/users/me/").status_code
    assert status in (200, 401)
    return status == 200


# --- issuing -----------------------------------------------------------------------------


def test_a_user_issues_a_token_for_a_device_and_only_its_hash_is_stored(as_user, technician):
    response = as_user(technician).post("/api/v1/api-tokens/", {"name": "Pixel 8"})

    assert response.status_code == 201
    key = response.json()["token"]
    assert len(key) == 64
    stored = ApiToken.objects.get(pk=response.json()["id"])
    assert stored.name == "Pixel 8"
    assert stored.user == technician
    assert stored.digest == hashlib.sha512(key.encode()).hexdigest()
    assert key not in stored.digest
    assert works(key)


def test_the_answer_that_carries_a_new_token_forbids_caching(as_user, technician):
    response = as_user(technician).post("/api/v1/api-tokens/", {"name": "Pixel 8"})

    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"


def test_a_token_is_never_readable_after_it_was_issued(as_user, technician):
    key = as_user(technician).post("/api/v1/api-tokens/", {"name": "Pixel 8"}).json()["token"]

    listed = as_user(technician).get("/api/v1/api-tokens/")

    assert listed.status_code == 200
    assert key not in listed.content.decode()
    assert [row["name"] for row in listed.json()["results"]] == ["Pixel 8"]


def test_a_token_without_a_name_is_refused_naming_the_field(as_user, technician):
    response = as_user(technician).post("/api/v1/api-tokens/", {"name": ""})

    assert response.status_code == 400
    assert "name" in response.json()


def test_the_token_header_format_of_integrators_keeps_working(technician, site_a):
    wo = WorkOrderFactory(site=site_a)

    response = with_token(api_token_key(technician)).get("/api/v1/work-orders/")

    assert response.status_code == 200
    assert [row["id"] for row in response.data["results"]] == [wo.pk]


# --- expiry ------------------------------------------------------------------------------


def test_a_token_stops_working_when_it_expires(as_user, technician):
    with time_machine.travel(NOON, tick=False):
        response = as_user(technician).post(
            "/api/v1/api-tokens/", {"name": "Pixel 8", "expires_in_days": 2}
        )
        key = response.json()["token"]
        assert response.json()["expiry"] == "2031-03-12T12:00:00Z"
    with time_machine.travel(NOON + timedelta(days=2, minutes=-1), tick=False):
        assert works(key)
    with time_machine.travel(NOON + timedelta(days=2, minutes=1), tick=False):
        assert not works(key)


def test_without_a_lifetime_a_token_expires_after_the_configured_default(technician, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": timedelta(days=30)}
    with time_machine.travel(NOON, tick=False):
        key = api_token_key(technician)

    assert ApiToken.objects.get(user=technician).expiry == datetime(2031, 4, 9, 12, 0, tzinfo=UTC)
    with time_machine.travel(datetime(2031, 4, 9, 12, 1, tzinfo=UTC), tick=False):
        assert not works(key)


def test_a_deactivated_users_tokens_stop_working(technician):
    key = api_token_key(technician)
    technician.is_active = False
    technician.save()

    assert not works(key)


# --- revoking ----------------------------------------------------------------------------


def test_revoking_the_lost_phones_token_leaves_the_other_devices_working(as_user, technician):
    phone = api_token_key(technician, name="lost phone")
    laptop = api_token_key(technician, name="laptop")
    lost = ApiToken.objects.get(user=technician, name="lost phone")

    response = with_token(laptop).delete(f"/api/v1/api-tokens/{lost.pk}/")

    assert response.status_code == 204
    assert not works(phone)
    assert works(laptop)


def test_a_planner_revokes_every_token_of_a_technician_of_their_site(as_user, planner, technician):
    keys = [api_token_key(technician, name=name) for name in ("phone", "tablet")]
    mine = api_token_key(planner)

    response = as_user(planner).post("/api/v1/api-tokens/revoke-all/", {"user": technician.pk})

    assert response.status_code == 200
    assert response.json() == {"revoked": 2}
    assert [works(key) for key in keys] == [False, False]
    assert works(mine)


def test_a_planner_sees_and_revokes_one_token_of_a_technician_of_their_site(
    as_user, planner, technician
):
    key = api_token_key(technician, name="phone")
    token = ApiToken.objects.get(user=technician)

    listed = as_user(planner).get(f"/api/v1/api-tokens/?user={technician.pk}").json()
    deleted = as_user(planner).delete(f"/api/v1/api-tokens/{token.pk}/")

    assert [(row["user"], row["name"]) for row in listed["results"]] == [(technician.pk, "phone")]
    assert deleted.status_code == 204
    assert not works(key)


def test_revoke_all_without_a_user_revokes_the_callers_own_tokens(technician):
    keys = [api_token_key(technician, name=name) for name in ("phone", "tablet")]

    response = with_token(keys[0]).post("/api/v1/api-tokens/revoke-all/", {})

    assert response.json() == {"revoked": 2}
    assert [works(key) for key in keys] == [False, False]


def test_a_technician_neither_sees_nor_revokes_a_colleagues_tokens(as_user, site_a):
    me, colleague = TechnicianFactory(sites=[site_a]), TechnicianFactory(sites=[site_a])
    key = api_token_key(colleague)
    token = ApiToken.objects.get(user=colleague)
    client = as_user(me)

    assert client.get("/api/v1/api-tokens/").json()["results"] == []
    assert client.delete(f"/api/v1/api-tokens/{token.pk}/").status_code == 404
    revoke_all = client.post("/api/v1/api-tokens/revoke-all/", {"user": colleague.pk})
    assert revoke_all.status_code == 400
    assert "user" in revoke_all.json()
    issue = client.post("/api/v1/api-tokens/", {"name": "x", "user": colleague.pk})
    assert issue.status_code == 400
    assert works(key)


def test_another_sites_users_tokens_answer_like_missing_ones(as_user, planner, site_b):
    stranger = TechnicianFactory(sites=[site_b])
    key = api_token_key(stranger)
    token = ApiToken.objects.get(user=stranger)
    client = as_user(planner)

    assert client.get(f"/api/v1/api-tokens/{token.pk}/").status_code == 404
    assert client.delete(f"/api/v1/api-tokens/{token.pk}/").status_code == 404
    foreign = client.post("/api/v1/api-tokens/revoke-all/", {"user": stranger.pk})
    missing = client.post("/api/v1/api-tokens/revoke-all/", {"user": 999_999})
    assert foreign.status_code == missing.status_code == 400
    assert foreign.json() == {"user": [f'Invalid pk "{stranger.pk}" - object does not exist.']}
    assert missing.json() == {"user": ['Invalid pk "999999" - object does not exist.']}
    assert client.get(f"/api/v1/api-tokens/?user={stranger.pk}").json()["results"] == []
    assert works(key)


def test_a_planner_cannot_issue_a_token_for_a_technician_of_their_site(
    as_user, planner, technician
):
    # A key is the technician's credential: whoever saw it could act as them, also at sites
    # given to them later.
    response = as_user(planner).post(
        "/api/v1/api-tokens/", {"name": "shared tablet", "user": technician.pk}
    )

    assert response.status_code == 403
    assert "issues their own tokens" in response.json()["detail"]
    assert not ApiToken.objects.filter(user=technician).exists()


def test_a_superuser_issues_a_token_for_an_integration_account(as_user, superuser, technician):
    response = as_user(superuser).post(
        "/api/v1/api-tokens/", {"name": "ERP sync", "user": technician.pk}
    )

    assert response.status_code == 201
    assert with_token(response.json()["token"]).get("/api/v1/users/me/").json()["username"] == (
        technician.username
    )


def test_a_token_cannot_issue_another_token_that_would_outlive_its_revocation(technician):
    stolen = api_token_key(technician, name="lost phone")

    response = with_token(stolen).post("/api/v1/api-tokens/", {"name": "Pixel 8 (2)"})

    assert response.status_code == 403
    assert "signed-in session" in response.json()["detail"]
    assert list(ApiToken.objects.filter(user=technician).values_list("name", flat=True)) == [
        "lost phone"
    ]


def test_a_token_lives_at_most_the_configured_lifetime(as_user, technician, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": timedelta(days=30)}
    client = as_user(technician)

    too_long = client.post("/api/v1/api-tokens/", {"name": "Pixel 8", "expires_in_days": 31})
    longest = client.post("/api/v1/api-tokens/", {"name": "Pixel 8", "expires_in_days": 30})

    assert too_long.status_code == 400
    assert too_long.json() == {"expires_in_days": ["At most 30 days."]}
    assert longest.status_code == 201


def test_an_account_holds_a_bounded_number_of_live_tokens(as_user, technician, settings):
    settings.API_TOKEN_LIMIT_PER_USER = 2
    with time_machine.travel(NOON, tick=False):
        api_token_key(technician, name="old", expires_in=timedelta(days=1))
    with time_machine.travel(NOON + timedelta(days=2), tick=False):
        client = as_user(technician)
        answers = [
            client.post("/api/v1/api-tokens/", {"name": f"device {n}"}).status_code
            for n in range(3)
        ]
        refused = client.post("/api/v1/api-tokens/", {"name": "one more"}).json()

    # The expired token does not count.
    assert answers == [201, 201, 400]
    assert refused == {"name": ["This account already has 2 live tokens; revoke one first."]}


def test_issuing_and_revoking_tokens_is_audited_at_each_of_the_holders_sites(
    as_user, planner, site_a, site_b
):
    from audit.models import AuditEntry

    technician = TechnicianFactory(sites=[site_a, site_b])
    issued = as_user(technician).post("/api/v1/api-tokens/", {"name": "Pixel 8"}).json()
    as_user(technician).delete(f"/api/v1/api-tokens/{issued['id']}/")

    entries = AuditEntry.objects.filter(object_id=str(technician.pk)).order_by("id")
    assert [(e.action, e.site.code, e.changes) for e in entries] == [
        ("api_token.issue", site_a.code, {"api_token": "Pixel 8"}),
        ("api_token.issue", site_b.code, {"api_token": "Pixel 8"}),
        ("api_token.revoke", site_a.code, {"api_tokens": ["Pixel 8"]}),
        ("api_token.revoke", site_b.code, {"api_tokens": ["Pixel 8"]}),
    ]
    assert issued["token"] not in str([e.changes for e in entries])


# --- documentation and migration ---------------------------------------------------------


def test_the_schema_documents_the_token_header(api):
    schema = api.get("/api/v1/schema/?format=json").json()

    schemes = schema["components"]["securitySchemes"]
    assert set(schemes) == {"tokenAuth", "cookieAuth"}
    assert schemes["tokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": 'Token-based authentication with required prefix "Token"',
    }


def test_hashing_the_plaintext_keys_is_declared_irreversible():
    migration = importlib.import_module("accounts.migrations.0004_hash_plaintext_api_tokens")

    [operation] = migration.Migration.operations
    assert not operation.reversible


def test_a_key_issued_before_hashing_keeps_working_after_the_migration(technician):
    old_key = "0123456789abcdef0123456789abcdef01234567"  # DRF authtoken: 40 hex characters
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamptz"
            " NOT NULL, user_id bigint NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, %s, %s)", [old_key, NOON, technician.pk]
        )
    migration = importlib.import_module("accounts.migrations.0004_hash_plaintext_api_tokens")

    with connection.schema_editor() as schema_editor:
        migration.hash_plaintext_tokens(apps, schema_editor)

    assert "authtoken_token" not in connection.introspection.table_names()
    migrated = ApiToken.objects.get(user=technician)
    assert (migrated.name, migrated.expiry, migrated.created) == ("migrated key", None, NOON)
    assert old_key not in migrated.digest
    assert works(old_key)


@pytest.mark.parametrize(
    "header",
    ["Token \xff\xfe", "Token " + "a" * 5000, "Token", "Token a b", "Token abc\x00def" + "0" * 58],
    ids=repr,
)
def test_a_malformed_token_header_answers_401_never_500(header):
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=header)

    assert client.get("/api/v1/users/me/").status_code == 401


def test_the_hashed_tokens_are_the_only_token_table():
    # knox's default table (swapped for ours) must not exist: it would block flushing users.
    tables = {t for t in connection.introspection.table_names() if "token" in t}

    assert tables == {"accounts_apitoken"}
