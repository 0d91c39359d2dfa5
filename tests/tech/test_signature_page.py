"""The complete form's signature pads: one per signature the work needs, posted with the
completion and checked by the server (docs/sign-off.md)."""

import re

import pytest

from tests.factories import JobPlanFactory, scheduled_work
from tests.workorders.test_signatures import SIGNED, data_url, drawing
from workorders import services
from workorders.choices import EventKind, SignatureRole, Status, WorkOrderType
from workorders.models import Signature

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def signed_work(site, technician):
    plan = JobPlanFactory(
        site=site, requires_technician_signature=True, requires_client_signature=True
    )
    wo = scheduled_work(site, assignee=technician, type=WorkOrderType.PREVENTIVE, job_plan=plan)
    services.work_order_transition(work_order=wo, to=Status.IN_PROGRESS, by=technician)
    return wo


def complete(client, wo, **fields):
    return client.post(f"/tech/work-orders/{wo.pk}/complete/", fields)


def test_the_complete_form_has_a_labelled_pad_per_required_signature(
    client_for, technician, signed_work
):
    technician.first_name, technician.last_name = "Tina", "Turner"
    technician.save()
    html = client_for(technician).get(f"/tech/work-orders/{signed_work.pk}/").content.decode()
    for role in ("technician", "client"):
        canvas = re.search(rf'<canvas [^>]*id="{role}-pad"[^>]*>', html).group(0)
        assert 'role="img"' in canvas and "aria-label=" in canvas
        assert f'aria-describedby="{role}-pad-help"' in canvas
        assert f'<label for="id_{role}_signer">' in html
        assert f'name="{role}_signature"' in html
        assert f'aria-controls="{role}-pad"' in html
    assert 'value="Tina Turner"' in html
    assert '<script src="/static/tech/signature-pad.js" defer></script>' in html


def test_work_without_a_rule_shows_no_pad(client_for, technician, site):
    wo = scheduled_work(site, assignee=technician, type=WorkOrderType.PREVENTIVE)
    services.work_order_transition(work_order=wo, to=Status.IN_PROGRESS, by=technician)
    html = client_for(technician).get(f"/tech/work-orders/{wo.pk}/").content.decode()
    assert 'signature-pad"' not in html and "data-signature-pad" not in html


def test_completing_without_the_signatures_is_refused_and_says_which(
    client_for, technician, signed_work, media
):
    response = complete(client_for(technician), signed_work)
    assert response.status_code == 409
    assert "technician and client representative signatures" in response.content.decode()
    signed_work.refresh_from_db()
    assert signed_work.status == Status.IN_PROGRESS


def test_completing_with_both_pads_signs_and_completes(client_for, technician, signed_work, media):
    response = complete(
        client_for(technician),
        signed_work,
        technician_signer="Tina T",
        technician_signature=SIGNED,
        client_signer="Clara Client",
        client_signature=SIGNED,
    )
    assert response.status_code == 302
    signed_work.refresh_from_db()
    assert signed_work.status == Status.COMPLETED
    assert sorted(Signature.objects.values_list("role", "signer_name")) == [
        ("client", "Clara Client"),
        ("technician", "Tina T"),
    ]
    page = client_for(technician).get(f"/tech/work-orders/{signed_work.pk}/").content.decode()
    assert "Signed off by client representative: Clara Client" in page
    signature = Signature.objects.get(role=SignatureRole.CLIENT)
    assert f'href="/tech/signatures/{signature.pk}/"' in page


def test_a_blank_pad_is_refused_on_its_own_field(client_for, technician, signed_work, media):
    response = complete(
        client_for(technician),
        signed_work,
        technician_signature=SIGNED,
        client_signer="Clara Client",
        client_signature=data_url(drawing(ink=False)),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Client&#x27;s signature: The signature is blank" in html
    signed_work.refresh_from_db()
    assert signed_work.status == Status.IN_PROGRESS
    assert not Signature.objects.filter(role=SignatureRole.CLIENT).exists()


def test_a_signature_taken_before_a_refusal_is_shown_and_need_not_be_drawn_again(
    client_for, technician, signed_work, media
):
    client = client_for(technician)
    complete(client, signed_work, technician_signature=SIGNED)
    html = client.get(f"/tech/work-orders/{signed_work.pk}/").content.decode()
    assert 'id="technician-signed"' in html
    response = complete(client, signed_work, client_signer="Clara", client_signature=SIGNED)
    assert response.status_code == 302
    assert signed_work.events.filter(kind=EventKind.SIGNATURE).count() == 2


def test_a_keyed_completion_with_signatures_applies_once(
    client_for, technician, signed_work, media
):
    """The offline queue replays the complete form with its Idempotency-Key: the signatures'
    files are written inside the key's transaction, and a replay signs nothing again."""
    client = client_for(technician)
    fields = {
        "technician_signer": "Tina T",
        "technician_signature": SIGNED,
        "client_signer": "Clara Client",
        "client_signature": SIGNED,
    }
    url = f"/tech/work-orders/{signed_work.pk}/complete/"
    first = client.post(url, fields, HTTP_IDEMPOTENCY_KEY="complete-1")
    again = client.post(url, fields, HTTP_IDEMPOTENCY_KEY="complete-1")
    assert first.status_code == again.status_code == 302
    assert again["Location"] == first["Location"] and again["Idempotent-Replayed"] == "true"
    signed_work.refresh_from_db()
    assert signed_work.status == Status.COMPLETED
    assert Signature.objects.count() == 2
    assert len(list(media.rglob("*.png"))) == 2
    assert signed_work.history.filter(to_status=Status.COMPLETED).count() == 1


def test_a_keyed_completion_refused_is_replayed_as_refused_without_signing_again(
    client_for, technician, signed_work, media
):
    """As without a key, the signature taken stays when the completion is refused (the page
    shows it; docs/sign-off.md); a replay answers the same refusal and signs nothing again."""
    client = client_for(technician)
    url = f"/tech/work-orders/{signed_work.pk}/complete/"
    fields = {"technician_signer": "Tina T", "technician_signature": SIGNED}
    refused = client.post(url, fields, HTTP_IDEMPOTENCY_KEY="complete-2")
    again = client.post(url, fields, HTTP_IDEMPOTENCY_KEY="complete-2")
    assert refused.status_code == again.status_code == 409
    assert again.content == refused.content and again["Idempotent-Replayed"] == "true"
    signed_work.refresh_from_db()
    assert signed_work.status == Status.IN_PROGRESS
    assert list(Signature.objects.values_list("role", flat=True)) == ["technician"]
    assert len(list(media.rglob("*.png"))) == 1
