"""The technician app offline (docs/offline.md): work recorded without a network is sent once,
in order, when it returns; refusals are shown and lose nothing else; logout leaves nothing.

Offline is Playwright's `context.set_offline(True)`, which in this Chromium also cuts off the
service worker's own fetches (asserted: a page the worker never saved cannot be fetched, so the
reloaded page comes from its cache); no route interception is needed.
"""

from decimal import Decimal

import pytest
from django.utils import timezone

from assets.models import StockMovement
from tech.models import WorkOrderPhoto
from tests.browser.pages import (
    PASSWORD,
    go_offline,
    go_online,
    log_in,
    online_page,
    queued,
    wait_for_js,
    wait_until_sent,
)
from tests.factories import (
    PartFactory,
    StockFactory,
    StoreroomFactory,
    TechnicianFactory,
    image_bytes,
    scheduled_work,
)
from workorders import services as wo_services
from workorders.choices import EventKind, Status, StepKind
from workorders.models import (
    LabourEntry,
    Signature,
    StatusChange,
    WorkOrder,
    WorkOrderEvent,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STEPS = ["Drain the casing", "Check coupling alignment", "Grease the bearings"]
SAFETY_STEP = {"text": "Lock out the pump motor", "kind": StepKind.LOCKOUT}


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def plant(site, pump, planner, codes):
    technician = TechnicianFactory(username="tina", first_name="Tina", sites=[site])
    stock = StockFactory(
        storeroom=StoreroomFactory(site=site, code="main"),
        part=PartFactory(sku="BRG-6205", name="Ball bearing 6205"),
        on_hand=Decimal("4"),
    )
    due = timezone.now() + timezone.timedelta(hours=2)
    wo = scheduled_work(
        site,
        assignee=technician,
        asset=pump,
        title="Noisy pump",
        steps=[SAFETY_STEP, *STEPS],
        due_at=due,
    )
    # Completing it needs the technician's signature (as a job plan would ask).
    WorkOrder.objects.filter(pk=wo.pk).update(technician_signature_required=True)
    other = scheduled_work(site, assignee=technician, asset=pump, title="Leak", due_at=due)
    return {"wo": wo, "other": other, "technician": technician, "planner": planner, "stock": stock}


def confirm_offline(page, wo):
    """Open the work order, go offline and confirm its lockout step (queued); the step."""
    page.goto(f"/tech/work-orders/{wo.pk}/")
    go_offline(page)
    safety = wo.steps.get(kind=StepKind.LOCKOUT)
    page.click(f"#step-{safety.pk} button:has-text('Confirm')")
    page.wait_for_selector(f"#step-{safety.pk} >> text=Waiting to sync")
    return safety


def draw_signature(page, canvas: str):
    """Sign in the pad with the mouse: a stroke across the canvas."""
    page.locator(canvas).scroll_into_view_if_needed()
    box = page.locator(canvas).bounding_box()
    left, top = box["x"] + 10, box["y"] + box["height"] / 2
    page.mouse.move(left, top)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(left + step * (box["width"] - 20) / 10, top + (-1) ** step * 15)
    page.mouse.up()


def test_work_done_offline_is_applied_exactly_once_when_the_network_returns(
    phone, live_server, plant, screenshot, codes
):
    wo = plant["wo"]
    page = online_page(phone, live_server)
    assert f"/tech/work-orders/{wo.pk}/" in page.evaluate(
        "() => caches.keys().then(names => Promise.all(names.map(n => caches.open(n)"
        "  .then(c => c.keys())))).then(all => all.flat().map(r => new URL(r.url).pathname))"
    )
    # Online, the technician looks up the bearing on the job (the answer is kept offline).
    page.goto(f"/tech/work-orders/{wo.pk}/?part_q=BRG")
    page.wait_for_selector("#part-results >> text=BRG-6205")

    go_offline(page)
    # Offline holds for the worker's own fetches too: a page it never saved cannot be had.
    reach = "fetch('/tech/offline/pages.json').then(() => 'reached', () => 'unreachable')"
    assert page.evaluate(reach) == "unreachable"
    page.reload()  # from the worker's cache: the server is out of reach
    page.wait_for_selector("#netbar.offline")
    assert "Offline" in page.inner_text("#netbar")
    assert "last sync" in page.inner_text("#netbar")

    # The lockout comes first: Start is held back until it is confirmed (queued counts).
    assert page.locator("#actions form button:has-text('Start')").is_hidden()
    assert page.locator("#start-refusal").is_visible()
    safety = wo.steps.get(kind=StepKind.LOCKOUT)
    page.fill(f"#step-{safety.pk} input[name=result]", "Lock 17 on breaker 4")
    page.click(f"#step-{safety.pk} button:has-text('Confirm')")
    page.wait_for_selector(f"#step-{safety.pk} >> text=Waiting to sync: Safety step 1")
    assert page.locator("#start-refusal").is_hidden()
    screenshot(page, "offline-06-safety-step-queued")

    page.click("#actions form button:has-text('Start')")
    page.wait_for_selector("text=Waiting to sync: Start")
    # Away and back (the page again from the cache): what waits is shown as it was left.
    page.goto("/tech/")
    page.goto(f"/tech/work-orders/{wo.pk}/?part_q=BRG")
    page.wait_for_selector("#actions >> text=Waiting to sync: Start")
    page.wait_for_selector(f"#step-{safety.pk} >> text=Waiting to sync: Safety step 1")
    assert page.locator(f"#step-{safety.pk} form").is_hidden()
    steps = list(wo.steps.filter(kind=StepKind.TASK).order_by("position"))
    assert len(steps) == 3
    for step in steps:
        page.click(f"#step-{step.pk} button:has-text('Done')")
        page.wait_for_selector(f"#step-{step.pk} >> text=Waiting to sync")
    page.click("summary:has-text('Add time by hand')")
    page.fill("#id_hours", "1.5")
    page.click("button:has-text('Add time')")
    page.wait_for_selector("#labour >> text=Waiting to sync: Time")
    page.click("#part-results button:has-text('Issue')")
    page.wait_for_selector("#parts >> text=Waiting to sync: Issue BRG-6205")
    page.fill("#id_message", "Coupling worn on the motor side")
    page.click("button:has-text('Add note')")
    page.wait_for_selector("#timeline >> text=Waiting to sync: Note")
    page.set_input_files(
        "#id_image", {"name": "pump.png", "mimeType": "image/png", "buffer": image_bytes("PNG")}
    )
    page.fill("#id_caption", "Coupling")
    page.click("button:has-text('Upload photo')")
    page.wait_for_selector("#photos >> text=Waiting to sync: Photo")
    page.click("summary:has-text('Complete')")
    page.select_option("#id_problem", label="VIB Abnormal vibration")
    page.select_option("#id_cause", label="MISALIGN Misalignment")
    page.select_option("#id_remedy", label="REALIGN Realign")
    assert page.input_value("#id_technician_signer") == "Tina"
    draw_signature(page, "#technician-pad")
    assert page.input_value("#id_technician_signature").startswith("data:image/png;base64,")
    screenshot(page, "offline-07-signature")
    page.click("button:has-text('Complete work')")
    page.wait_for_selector("#actions >> text=Waiting to sync: Complete")
    assert page.inner_text("#sync-badge") == "10 waiting to sync"
    screenshot(page, "offline-01-work-order-queued")

    page.goto("/tech/")  # the work list, from the cache, with the queue
    page.wait_for_selector("#sync-queue:not([hidden])")
    assert page.locator("#sync-list li[data-state=waiting]").count() == 10
    screenshot(page, "offline-02-sync-queue-waiting")
    wo.refresh_from_db()
    assert wo.status == Status.SCHEDULED  # nothing reached the server

    go_online(page)
    wait_until_sent(page, 10)
    assert [a["state"] for a in queued(page)] == ["done"] * 10, queued(page)
    screenshot(page, "offline-03-sync-queue-synced")

    def counts():
        return {
            "started": StatusChange.objects.filter(
                work_order=wo, to_status=Status.IN_PROGRESS
            ).count(),
            "completed": StatusChange.objects.filter(
                work_order=wo, to_status=Status.COMPLETED
            ).count(),
            "steps": wo.steps.filter(kind=StepKind.TASK, done=True).count(),
            "safety": WorkOrderEvent.objects.filter(work_order=wo, kind=EventKind.SAFETY).count(),
            "signatures": Signature.objects.filter(work_order=wo).count(),
            "labour": LabourEntry.objects.filter(work_order=wo, hours=Decimal("1.5")).count(),
            "parts": StockMovement.objects.filter(work_order=wo).count(),
            "notes": WorkOrderEvent.objects.filter(
                work_order=wo, kind=EventKind.NOTE, message="Coupling worn on the motor side"
            ).count(),
            "photos": WorkOrderPhoto.objects.filter(work_order=wo).count(),
        }

    once = ["started", "completed", "labour", "parts", "notes", "photos", "safety", "signatures"]
    expected = dict.fromkeys(once, 1) | {"steps": 3}
    assert counts() == expected
    wo.refresh_from_db()
    assert wo.status == Status.COMPLETED
    assert (wo.problem.code, wo.cause.code, wo.remedy.code) == ("VIB", "MISALIGN", "REALIGN")
    safety.refresh_from_db()
    assert safety.done and safety.done_by == plant["technician"]
    assert safety.result == "Lock 17 on breaker 4"
    assert (
        safety.done_at
        <= StatusChange.objects.get(work_order=wo, to_status="in_progress").changed_at
    )
    signature = Signature.objects.get(work_order=wo)
    assert (signature.role, signature.signer_name) == ("technician", "Tina")
    assert signature.signed_by == plant["technician"]
    plant["stock"].refresh_from_db()
    assert plant["stock"].on_hand == Decimal("3")

    # The same queue sent again: every key answers as the first time; nothing more is recorded.
    outcomes = page.evaluate("() => window.cmmsOffline.replayAll()")
    assert [o["state"] for o in outcomes] == ["done"] * 10
    assert counts() == expected
    # Online again, the page shows the server's record: who confirmed, and the signature.
    page.goto(f"/tech/work-orders/{wo.pk}/")
    assert "Confirmed by tina" in page.inner_text(f"#step-{safety.pk}")
    page.wait_for_selector("#timeline >> text=view signature")

    origin = live_server.url
    assert [url for url in page.requests if not url.startswith(origin)] == []
    assert page.console_errors == []


def test_work_cancelled_while_offline_refuses_its_actions_visibly_and_loses_nothing_else(
    phone, live_server, plant, screenshot
):
    wo, other = plant["wo"], plant["other"]
    page = online_page(phone, live_server)
    safety = confirm_offline(page, wo)
    page.click("#actions form button:has-text('Start')")
    page.wait_for_selector("text=Waiting to sync: Start")
    page.fill("#id_message", "Pump isolated")
    page.click("button:has-text('Add note')")
    page.wait_for_selector("#timeline >> text=Waiting to sync: Note")
    page.goto(f"/tech/work-orders/{other.pk}/")  # saved for offline on the work list
    page.fill("#id_message", "Leak found at the flange")
    page.click("button:has-text('Add note')")
    page.wait_for_selector("#timeline >> text=Waiting to sync: Note")

    wo_services.work_order_transition(
        work_order=WorkOrder.objects.get(pk=wo.pk),
        to=Status.CANCELLED,
        by=plant["planner"],
        reason="Duplicate",
    )
    go_online(page)
    wait_until_sent(page, 4)

    states = [(a["kind"], a["state"]) for a in queued(page)]
    assert states == [
        ("safety", "refused"),
        ("start", "refused"),
        ("note", "refused"),
        ("note", "done"),
    ]
    refused = page.locator("#sync-list li[data-state=refused]")
    assert refused.count() == 3
    assert all("cancelled" in text.lower() for text in refused.all_inner_texts())
    assert "3 refused" in page.inner_text("#sync-badge")
    screenshot(page, "offline-04-sync-queue-refused")
    assert not WorkOrderEvent.objects.filter(work_order=wo, message="Pump isolated").exists()
    safety.refresh_from_db()
    assert not safety.done
    assert (
        WorkOrderEvent.objects.filter(work_order=other, message="Leak found at the flange").count()
        == 1
    )


def test_after_logout_nothing_of_the_previous_user_is_kept_or_served_offline(
    phone, live_server, plant, site
):
    wo = plant["wo"]
    TechnicianFactory(username="otto", sites=[site])
    page = online_page(phone, live_server)
    page.goto(f"/tech/work-orders/{wo.pk}/")
    page.click("button:has-text('Log out')")
    page.wait_for_url("**/tech/login/")

    log_in(page, "otto", PASSWORD)
    page.wait_for_url("**/tech/")
    page.wait_for_selector("html[data-precached]")
    go_offline(page)

    kept = page.evaluate(
        "() => caches.keys().then(names => Promise.all(names.map(n => caches.open(n)"
        "  .then(c => c.keys()).then(reqs => reqs.map(r => n + ' ' + r.url)))))"
        "  .then(all => all.flat())"
    )
    assert not [entry for entry in kept if f"/work-orders/{wo.pk}/" in entry]
    assert not [entry for entry in kept if f"tech-pages-u{plant['technician'].pk}" in entry]
    assert page.evaluate("() => window.cmmsOffline.actions()") == []
    answer = page.goto(f"/tech/work-orders/{wo.pk}/")
    assert answer.status == 503
    assert "Noisy pump" not in page.content()
    assert "This page was not saved on this device" in page.content()


def test_a_new_user_without_a_logout_in_between_is_never_served_the_previous_users_pages(
    phone, live_server, plant, site
):
    wo = plant["wo"]
    otto = TechnicianFactory(username="otto", sites=[site])
    page = online_page(phone, live_server)
    page.goto(f"/tech/work-orders/{wo.pk}/")
    page.context.clear_cookies()  # the session ends without a logout (expired, say)

    log_in(page, "otto", PASSWORD)
    page.wait_for_url("**/tech/")
    page.wait_for_selector("html[data-precached]")
    go_offline(page)

    names = page.evaluate("() => caches.keys()")
    assert f"tech-pages-u{otto.pk}" in names
    assert f"tech-pages-u{plant['technician'].pk}" not in names
    answer = page.goto(f"/tech/work-orders/{wo.pk}/")
    assert answer.status == 503
    assert "Noisy pump" not in page.content()


def test_a_tab_left_from_an_expired_session_never_sends_its_queue_as_the_next_user(
    phone, live_server, plant, site
):
    """Tina queues a lockout offline and her session expires; Otto logs in on the same phone
    in another tab. Her old tab's queue is kept waiting, not recorded as Otto's; it is sent
    as hers once she logs in again."""
    wo = plant["wo"]
    WorkOrder.objects.filter(pk=wo.pk).update(assignee=None)  # Otto could do it too
    TechnicianFactory(username="otto", sites=[site])
    page = online_page(phone, live_server)
    safety = confirm_offline(page, wo)
    page.context.clear_cookies(name="sessionid")  # expired; the CSRF cookie stays
    go_online(page)
    page.evaluate("() => window.cmmsOffline.sync()")
    wait_for_js(
        page,
        "() => window.cmmsOffline.actions().then(list => list[0].reason.includes('Log in again'))",
    )

    other = page.context.new_page()
    log_in(other, "otto", PASSWORD)
    other.wait_for_url("**/tech/")
    page.evaluate("() => window.cmmsOffline.sync()")
    wait_for_js(
        page,
        "() => window.cmmsOffline.actions().then(list => list[0].reason.includes('log in again'))",
    )
    assert [a["state"] for a in queued(page)] == ["waiting"]
    safety.refresh_from_db()
    assert not safety.done

    page.context.clear_cookies(name="sessionid")
    log_in(other, "tina", PASSWORD)
    other.wait_for_url("**/tech/")
    page.evaluate("() => window.cmmsOffline.sync()")
    wait_for_js(page, "() => window.cmmsOffline.actions().then(list => list[0].state === 'done')")
    safety.refresh_from_db()
    assert safety.done and safety.done_by == plant["technician"]
