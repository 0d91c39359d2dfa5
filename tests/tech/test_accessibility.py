"""The technician pages for people who use a screen reader, a keyboard or a thumb (WCAG 2.1 AA):
refused forms say what is wrong on the field, names tell repeated controls apart, and the
colours of text keep 4.5:1 against their background."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import move_to, scheduled_work

pytestmark = pytest.mark.django_db

CSS = re.sub(
    r"/\*.*?\*/", "", Path(settings.BASE_DIR, "tech/static/tech/tech.css").read_text(), flags=re.S
)


def _tag(html: str, element_id: str) -> str:
    """The opening tag of the element with this id."""
    match = re.search(rf'<[a-z]+ [^>]*id="{element_id}"[^>]*>', html)
    assert match, element_id
    return match.group(0)


def _element_text(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    end = html.index("</li>", start)
    return re.sub(r"<[^>]+>", "", html[html.index(">", start) + 1 : end]).strip()


def test_a_refused_problem_report_marks_the_field_and_says_what_is_wrong_as_a_sentence(
    client_for, technician, pump
):
    response = client_for(technician).post(f"/tech/assets/{pump.pk}/report/", {"title": ""})
    assert response.status_code == 400
    html = response.content.decode()

    title = _tag(html, "id_title")
    assert 'aria-invalid="true"' in title and 'aria-describedby="id_title-error"' in title
    assert _element_text(html, "id_title-error") == "What is wrong: enter a title."
    assert "What is wrong?:" not in html and "This field is required" not in html
    assert "aria-invalid" not in _tag(html, "id_description")
    # The summary takes the focus (a script file: the CSP allows no inline script).
    summary = re.search(r"<div [^>]*data-error-summary[^>]*>", html).group(0)
    assert 'tabindex="-1"' in summary and 'role="alert"' in summary
    assert '<script src="/static/tech/focus-error.js" defer></script>' in html
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None


def test_a_refused_work_request_marks_each_invalid_field(client_for, viewer, site):
    response = client_for(viewer).post(
        "/tech/requests/new/", {"site": "", "asset_tag": "NOPE", "title": ""}
    )
    assert response.status_code == 400
    html = response.content.decode()
    for field in ("site", "title"):
        assert f'aria-describedby="id_{field}-error"' in _tag(html, f"id_{field}")
    assert _element_text(html, "id_site-error") == "Site: choose a site."
    assert _element_text(html, "id_title-error") == "What is wrong: enter a title."


def test_a_message_that_does_not_name_its_field_gets_the_label_in_front(
    client_for, technician, work
):
    response = client_for(technician).post(f"/tech/work-orders/{work.pk}/labour/", {"hours": "30"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'aria-describedby="id_hours-error"' in _tag(html, "id_hours")
    sentence = "Hours: Ensure this value is less than or equal to 24."
    assert _element_text(html, "id_hours-error") == sentence
    page_error = html[
        html.index('id="page-error"') : html.index("</div>", html.index("page-error"))
    ]
    assert sentence in page_error and 'tabindex="-1"' in page_error


def test_a_refused_step_points_at_that_steps_own_field(client_for, technician, work):
    client = client_for(technician)
    move_to(work, "in_progress", by=technician)
    step = work.steps.get(requires_value=True)
    response = client.post(
        f"/tech/work-orders/{work.pk}/steps/{step.pk}/", {"done": "true", "value": "lots"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    field_id = f"step{step.pk}-value"
    assert f'aria-describedby="{field_id}-error"' in _tag(html, field_id)
    assert _element_text(html, f"{field_id}-error") == "Value: Enter a number."


@pytest.mark.parametrize(
    ("action", "anchor"),
    [
        ("start", "#actions"),
        ("pause", ""),
        ("resume", "#actions"),
        ("complete", ""),
        ("labour", "#labour"),
        ("notes", "#timeline"),
        ("parts", "#parts"),
        ("photos", "#photos"),
    ],
)
def test_the_address_of_a_work_order_form_leads_back_to_the_page_instead_of_405(
    client_for, technician, work, action, anchor
):
    response = client_for(technician).get(f"/tech/work-orders/{work.pk}/{action}/")
    assert response.status_code == 302
    assert response["Location"] == f"/tech/work-orders/{work.pk}/{anchor}"


def test_reloading_a_refused_problem_report_shows_the_asset_page(client_for, technician, pump):
    client = client_for(technician)
    address = f"/tech/assets/{pump.pk}/report/"
    assert client.post(address, {"title": ""}).status_code == 400
    response = client.get(address, follow=True)
    assert response.redirect_chain == [(f"/tech/assets/{pump.pk}/#report", 302)]
    assert response.status_code == 200 and "Report a problem" in response.content.decode()


def test_a_step_forms_address_leads_back_to_the_checklist(client_for, technician, work):
    step = work.steps.first()
    response = client_for(technician).get(f"/tech/work-orders/{work.pk}/steps/{step.pk}/")
    assert response["Location"] == f"/tech/work-orders/{work.pk}/#checklist"


def test_another_sites_form_address_still_answers_404(client_for, technician, other_site):
    foreign = scheduled_work(other_site)
    response = client_for(technician).get(f"/tech/work-orders/{foreign.pk}/pause/", follow=True)
    assert response.status_code == 404


def test_repeated_controls_have_distinct_names(client_for, technician, work, stock):
    client = client_for(technician)
    move_to(work, "in_progress", by=technician)
    first = work.steps.order_by("position").first()
    client.post(f"/tech/work-orders/{work.pk}/steps/{first.pk}/", {"done": "true"})
    html = client.get(f"/tech/work-orders/{work.pk}/?part_q=BRG").content.decode()

    assert 'aria-label="Undo: Check coupling alignment"' in html
    assert 'aria-label="Done: Measure bearing vibration"' in html
    assert 'aria-label="Issue BRG-6205"' in html
    labels = re.findall(r'aria-label="([^"]+)"', html)
    assert len(labels) == len(set(labels))
    note_labels = {
        field: re.search(rf'<label for="{field}">(.*?)</label>', html).group(1)
        for field in ("id_note", "id_message")
    }
    assert note_labels["id_note"] != note_labels["id_message"]
    assert "Note" in note_labels["id_note"] and "Note" in note_labels["id_message"]


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    """The WCAG contrast ratio of two #rrggbb colours."""
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _rule(selector: str) -> str:
    """The declarations of the first rule of tech.css whose selector list names `selector`."""
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", CSS):
        if selector in [s.strip() for s in selectors.split(",")]:
            return body
    raise AssertionError(f"no rule for {selector}")


def _colour(rule: str, prop: str) -> str:
    return re.search(rf"(?<![-\w]){prop}:\s*(#[0-9a-fA-F]{{6}}|#fff)\b", rule).group(1)


def _hex(colour: str) -> str:
    return "#ffffff" if colour.lower() == "#fff" else colour


def test_the_contrast_ratio_function_matches_known_values():
    assert contrast("#ffffff", "#000000") == pytest.approx(21)
    assert contrast("#ffffff", "#1e8e3e") == pytest.approx(4.21, abs=0.01)  # the old green


@pytest.mark.parametrize(
    "selector",
    [
        ".badge.status-completed",
        ".badge.status-in_progress",
        ".badge.status-cancelled",
        ".badge.overdue",
        ".badge.sev-major",
        ".badge.crit-A",
    ],
)
def test_badge_text_keeps_4_5_to_1_against_the_badge(selector):
    rule = _rule(selector)
    ratio = contrast(_hex(_colour(rule, "color")), _hex(_colour(rule, "background")))
    assert ratio >= 4.5, f"{selector}: {ratio:.2f}:1"


@pytest.mark.parametrize("selector", [".step.done .step-text", ".muted", "a", ".wo-meta"])
def test_text_keeps_4_5_to_1_against_white_and_the_page(selector):
    colour = _hex(_colour(_rule(selector), "color"))
    for background in ("#ffffff", "#eef1f4"):
        assert contrast(colour, background) >= 4.5, f"{selector} on {background}"


@pytest.mark.parametrize("selector", [".brand", ".path a", ".crumbs a"])
def test_small_links_are_at_least_44_px_to_touch(selector):
    rule = _rule(selector)
    for prop in ("min-height", "min-width"):
        assert re.search(rf"{prop}:\s*44px", rule), f"{selector} {prop}"
