"""Sign-off signatures: what a drawing must be, which signatures completing needs, and who
sees them (docs/sign-off.md)."""

import base64
import io

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from PIL import Image, ImageDraw

from cmms.errors import ConflictError
from tests.factories import (
    JobPlanFactory,
    TechnicianFactory,
    WorkOrderFactory,
    contract_covering,
    failure_codes,
    move_to,
    scheduled_work,
)
from workorders import services, signatures
from workorders.choices import EventKind, SignatureRole, Status, WorkOrderType
from workorders.models import Signature, WorkOrder
from workorders.resources import WorkOrderResource

pytestmark = pytest.mark.django_db


def drawing(size=(300, 100), *, ink=True, image_format="PNG") -> bytes:
    """A canvas export: transparent paper, a black stroke unless `ink` is False."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    if ink:
        ImageDraw.Draw(image).line([(10, 10), (size[0] - 10, size[1] - 10)], fill="black", width=4)
    out = io.BytesIO()
    image.convert("RGB").save(out, image_format) if image_format == "JPEG" else image.save(
        out, image_format
    )
    return out.getvalue()


def data_url(raw: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(raw).decode()


SIGNED = data_url(drawing())


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def plan_needing_both(site):
    return JobPlanFactory(
        site=site, requires_technician_signature=True, requires_client_signature=True
    )


@pytest.fixture
def running(site, technician, plan_needing_both):
    """Preventive work (no failure codes) from a plan that needs both signatures, started."""
    wo = scheduled_work(
        site, assignee=technician, type=WorkOrderType.PREVENTIVE, job_plan=plan_needing_both
    )
    services.work_order_transition(work_order=wo, to=Status.IN_PROGRESS, by=technician)
    return wo


def sign(as_user, user, wo, **body):
    return as_user(user).post(
        f"/api/v1/work-orders/{wo.pk}/signatures/",
        {"role": "client", "signer_name": "Clara Client", "image": SIGNED, **body},
        format="json",
    )


# ---------------------------------------------------------------- the drawing


@pytest.mark.parametrize(
    ("image", "says"),
    [
        ("not a data url", "PNG image as a data URL"),
        ("data:image/jpeg;base64," + base64.b64encode(drawing()).decode(), "PNG image"),
        (data_url(drawing(image_format="JPEG")), "PNG image as a data URL"),
        ("data:image/png;base64,@@not-base64@@", "not valid base64"),
        (data_url(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20), "PNG image as a data URL"),
        (data_url(drawing(ink=False)), "blank"),
        (data_url(drawing(size=(2500, 100))), "pixels"),
    ],
    ids=["no-data-url", "jpeg-data-url", "jpeg-bytes", "bad-base64", "truncated", "blank", "huge"],
)
def test_a_drawing_that_is_not_a_signed_png_is_a_400_naming_the_image(
    as_user, technician, running, media, image, says
):
    response = sign(as_user, technician, running, image=image)
    assert response.status_code == 400, response.content
    assert says in " ".join(response.json()["image"])
    assert not Signature.objects.exists()


def test_a_drawing_over_200_kb_is_refused_before_decoding():
    too_big = "data:image/png;base64," + "A" * (300 * 1024)
    with pytest.raises(ValidationError) as refused:
        signatures.decode_signature(too_big)
    assert "too large" in str(refused.value)


def test_a_white_canvas_without_strokes_is_blank():
    out = io.BytesIO()
    Image.new("RGB", (200, 80), "white").save(out, "PNG")
    with pytest.raises(ValidationError, match="blank"):
        signatures.decode_signature(data_url(out.getvalue()))


def test_the_stored_drawing_is_a_re_encoded_png(as_user, technician, running, media):
    response = sign(as_user, technician, running)
    assert response.status_code == 201, response.content
    signature = Signature.objects.get()
    stored = (media / signature.image.name).read_bytes()
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "PNG" and image.size == (300, 100)


# ---------------------------------------------------------------- the gate


def test_completion_is_refused_with_signature_required_naming_what_is_missing(
    as_user, technician, running, media
):
    response = as_user(technician).post(
        f"/api/v1/work-orders/{running.pk}/transition/", {"to": "completed"}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "signature_required"
    assert "technician and client representative signatures" in body["detail"]

    assert sign(as_user, technician, running, role="technician", signer_name="").status_code == 201
    response = as_user(technician).post(
        f"/api/v1/work-orders/{running.pk}/transition/", {"to": "completed"}, format="json"
    )
    assert response.status_code == 409
    assert "client representative signature:" in response.json()["detail"]
    assert "technician" not in response.json()["detail"]

    assert sign(as_user, technician, running).status_code == 201
    response = as_user(technician).post(
        f"/api/v1/work-orders/{running.pk}/transition/", {"to": "completed"}, format="json"
    )
    assert response.status_code == 200, response.content
    running.refresh_from_db()
    assert running.status == Status.COMPLETED


def test_the_technicians_signer_name_defaults_to_their_full_name(as_user, site, running, media):
    tina = running.assignee
    tina.first_name, tina.last_name = "Tina", "Turner"
    tina.save()
    response = sign(as_user, tina, running, role="technician", signer_name="")
    assert response.json()["signer_name"] == "Tina Turner"
    assert response.json()["signed_by"] == tina.pk
    assert response.json()["image_url"] == f"/tech/signatures/{response.json()['id']}/"


def test_the_client_signature_needs_a_signer_name(as_user, technician, running, media):
    response = sign(as_user, technician, running, signer_name="  ")
    assert response.status_code == 400
    assert "signer_name" in response.json()


def test_work_without_a_rule_completes_without_signatures(site, technician):
    wo = scheduled_work(site, assignee=technician, type=WorkOrderType.PREVENTIVE)
    move_to(wo, Status.COMPLETED, by=technician)
    assert wo.status == Status.COMPLETED
    assert not wo.technician_signature_required and not wo.client_signature_required


def test_signing_again_supersedes_the_current_signature(technician, running, media):
    first = signatures.work_order_signature_add(
        work_order=running, role=SignatureRole.CLIENT, signer_name="A", image=SIGNED, by=technician
    )
    second = signatures.work_order_signature_add(
        work_order=running, role=SignatureRole.CLIENT, signer_name="B", image=SIGNED, by=technician
    )
    first.refresh_from_db()
    assert first.superseded_at is not None and second.superseded_at is None
    assert signatures.missing_roles(running) == [SignatureRole.TECHNICIAN]


def test_reopening_keeps_the_signatures_as_history_and_needs_new_ones(
    site, technician, planner, running, media
):
    for role in SignatureRole.values:
        signatures.work_order_signature_add(
            work_order=running, role=role, signer_name="X", image=SIGNED, by=technician
        )
    services.work_order_transition(work_order=running, to=Status.COMPLETED, by=technician)
    services.work_order_transition(work_order=running, to=Status.IN_PROGRESS, by=planner)

    assert Signature.objects.filter(work_order=running).count() == 2
    assert not Signature.objects.filter(work_order=running, superseded_at__isnull=True).exists()
    assert running.events.filter(kind=EventKind.SIGNATURE, message__startswith="Reopened:").exists()
    with pytest.raises(ConflictError) as refused:
        services.work_order_transition(work_order=running, to=Status.COMPLETED, by=technician)
    assert refused.value.code == "signature_required"


def test_signatures_are_taken_on_running_work_only(as_user, site, technician, media):
    wo = scheduled_work(site, assignee=technician, type=WorkOrderType.PREVENTIVE)
    response = sign(as_user, technician, wo)
    assert response.status_code == 409


# ---------------------------------------------------------------- the rules


def test_the_job_plans_rule_is_copied_at_creation_and_stays(site, plan_needing_both):
    from workorders.job_plans import job_plan_save

    wo = WorkOrderFactory(site=site, job_plan=plan_needing_both)
    job_plan_save(
        job_plan=plan_needing_both,
        requires_technician_signature=False,
        requires_client_signature=False,
    )
    wo.refresh_from_db()
    assert wo.technician_signature_required and wo.client_signature_required


def test_the_contracts_rule_asks_for_the_clients_signature(site):
    contract_covering(site, requires_client_signature=True)
    wo = WorkOrderFactory(site=site)
    assert wo.contract is not None
    assert wo.client_signature_required and not wo.technician_signature_required


def test_a_contract_without_the_rule_asks_for_nothing(site):
    contract_covering(site)
    wo = WorkOrderFactory(site=site)
    assert not wo.client_signature_required


def test_bulk_creation_copies_the_same_rules(site, plan_needing_both):
    from django.utils import timezone

    from workorders.bulk import work_orders_create_bulk

    contract_covering(site, requires_client_signature=True)
    plain = JobPlanFactory(site=site)
    row = {"site_id": site.pk, "status": Status.APPROVED}
    ids = work_orders_create_bulk(
        rows=[
            {**row, "title": "a", "job_plan_id": plan_needing_both.pk},
            {**row, "title": "b", "job_plan_id": plain.pk},
        ],
        events=["", ""],
        now=timezone.now(),
    )
    from workorders.models import WorkOrder

    first, second = (WorkOrder.objects.get(pk=pk) for pk in ids)
    assert first.technician_signature_required and first.client_signature_required
    assert not second.technician_signature_required and second.client_signature_required


# ---------------------------------------------------------------- scope, history, export


def test_another_sites_work_order_answers_404(as_user, other_site, running, media):
    stranger = TechnicianFactory(sites=[other_site])
    assert sign(as_user, stranger, running).status_code == 404
    assert as_user(stranger).get(f"/api/v1/work-orders/{running.pk}/signatures/").status_code == 404


def test_the_list_shows_current_and_superseded_signatures(as_user, technician, running, media):
    sign(as_user, technician, running, signer_name="First")
    sign(as_user, technician, running, signer_name="Second")
    rows = as_user(technician).get(f"/api/v1/work-orders/{running.pk}/signatures/").json()
    assert [r["signer_name"] for r in rows] == ["First", "Second"]
    assert rows[0]["superseded_at"] is not None and rows[1]["superseded_at"] is None
    assert "image" not in rows[0]


def test_a_customer_viewer_may_not_sign(as_user, viewer, running, media):
    assert sign(as_user, viewer, running).status_code == 403


def test_each_signature_is_on_the_timeline(technician, running, media):
    signature = signatures.work_order_signature_add(
        work_order=running, role="client", signer_name="Clara", image=SIGNED, by=technician
    )
    event = running.events.get(kind=EventKind.SIGNATURE)
    assert event.message == "Signed off by client representative: Clara"
    assert event.data == {"signature": signature.pk, "role": "client"}


def test_the_export_has_who_signed_and_when(technician, running, media):
    signatures.work_order_signature_add(
        work_order=running, role="technician", signer_name="Tina", image=SIGNED, by=technician
    )
    signatures.work_order_signature_add(
        work_order=running, role="client", signer_name="=HYPERLINK(1)", image=SIGNED, by=technician
    )
    dataset = WorkOrderResource().export(queryset=type(running).objects.filter(pk=running.pk))
    row = dict(zip(dataset.headers, dataset[0], strict=True))
    assert row["Technician signed by"] == "Tina"
    assert row["Technician signed at"]
    assert not str(row["Client signed by"]).startswith("=")
    assert "HYPERLINK" in str(row["Client signed by"])


def test_the_image_is_served_only_within_the_site(
    client_for, technician, other_site, running, media
):
    signature = signatures.work_order_signature_add(
        work_order=running, role="client", signer_name="Clara", image=SIGNED, by=technician
    )
    url = f"/tech/signatures/{signature.pk}/"
    response = client_for(technician).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert client_for(TechnicianFactory(sites=[other_site])).get(url).status_code == 404


def test_failure_codes_still_apply_beside_signatures(site, technician, media):
    plan = JobPlanFactory(site=site, requires_technician_signature=True)
    wo = scheduled_work(site, assignee=technician, job_plan=plan)
    services.work_order_transition(work_order=wo, to=Status.IN_PROGRESS, by=technician)
    signatures.work_order_signature_add(
        work_order=wo, role="technician", signer_name="T", image=SIGNED, by=technician
    )
    with pytest.raises(ValidationError):
        services.work_order_transition(work_order=wo, to=Status.COMPLETED, by=technician)
    codes = dict(zip(("problem", "cause", "remedy"), failure_codes(), strict=True))
    services.work_order_transition(work_order=wo, to=Status.COMPLETED, by=technician, **codes)
    assert wo.status == Status.COMPLETED


def test_the_admin_shows_each_signature_with_a_thumbnail_link(
    client_for, planner, technician, running, media
):
    signature = signatures.work_order_signature_add(
        work_order=running, role="client", signer_name="Clara Client", image=SIGNED, by=technician
    )
    url = f"/admin/workorders/workorder/{running.pk}/change/"
    html = client_for(planner).get(url).content.decode()
    assert "sign-off signatures" in html.lower()
    assert "Clara Client" in html
    assert f'<a href="/tech/signatures/{signature.pk}/"><img' in html
    assert "Signed off by client representative: Clara Client" in html


# ---------------------------------------------------------------- replays (the offline queue)


def test_a_keyed_signature_is_stored_once_and_replayed(as_user, technician, running, media):
    client = as_user(technician)
    body = {"role": "client", "signer_name": "Clara Client", "image": SIGNED}
    url = f"/api/v1/work-orders/{running.pk}/signatures/"
    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="sig-1")
    again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="sig-1")
    assert first.status_code == again.status_code == 201, first.content
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    signature = Signature.objects.get()
    assert len(list(media.rglob("*.png"))) == 1
    assert running.events.filter(kind=EventKind.SIGNATURE).count() == 1
    assert signature.superseded_at is None


def test_the_admin_xlsx_export_writes_the_signing_time_as_a_local_date(
    logged_in, planner, technician, running, media
):
    """openpyxl refuses datetimes with a time zone: the signed-at columns are rendered like
    the model's date columns (the site's local time, no zone), in XLSX and CSV alike."""
    from tests.planner.test_spreadsheet_export import csv_rows, export, xlsx_rows

    signature = signatures.work_order_signature_add(
        work_order=running, role="technician", signer_name="Tina", image=SIGNED, by=technician
    )
    client = logged_in(planner)
    local = timezone.localtime(signature.signed_at).replace(microsecond=0, tzinfo=None)
    [row] = [
        r for r in xlsx_rows(export(client, WorkOrder, "xlsx")) if r["Technician signed by"].value
    ]
    assert row["Technician signed at"].value.replace(microsecond=0) == local
    [row] = [r for r in csv_rows(export(client, WorkOrder, "csv")) if r["Technician signed by"]]
    assert row["Technician signed at"] == local.strftime("%Y-%m-%d %H:%M:%S")
