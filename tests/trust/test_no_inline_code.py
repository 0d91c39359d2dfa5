"""No template and no admin or planner page carries inline script or event handlers (CSP).

The policy (`script-src 'self'`) blocks them, so a page that relies on one is broken: the
export page's "Select all" was (an inline `onchange`). Every template Django would load is
scanned, and every admin page (list, add form, import, export) and planner page is rendered.
"""

from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.template import engines
from django.test import Client
from django.urls import reverse
from import_export.admin import ExportMixin, ImportMixin

from tests.factories import SuperuserFactory
from tests.trust.test_headers_and_csp import EVENT_HANDLER, INLINE_SCRIPT, assert_obeys_csp
from tests.world import Plant

pytestmark = pytest.mark.django_db

# Templates that carry inline script but are never rendered by this project, and why.
NOT_RENDERED = {
    # /api/v1/docs/ is drf-spectacular's split view: the template's other branch loads the
    # start-up script by URL (tests/trust/test_headers_and_csp.py checks that page).
    "drf_spectacular/swagger_ui.html",
    # No route serves ReDoc.
    "drf_spectacular/redoc.html",
}


def loaded_templates() -> dict[str, Path]:
    """Each template name and the file Django loads for it: the project's folder first, then
    the apps' in INSTALLED_APPS order (the order of the filesystem and app loaders)."""
    folders = [Path(folder) for folder in engines["django"].engine.dirs]
    folders += [Path(config.path) / "templates" for config in apps.get_app_configs()]
    loaded = {}
    for folder in folders:
        for path in sorted(folder.rglob("*.html")) if folder.is_dir() else []:
            loaded.setdefault(str(path.relative_to(folder)), path)
    return loaded


def test_no_template_that_django_loads_has_an_inline_handler_or_script():
    templates = loaded_templates()
    assert templates["admin/import_export/export.html"].is_relative_to(settings.BASE_DIR)
    offenders = []
    for name, path in sorted(templates.items()):
        if name in NOT_RENDERED:
            continue
        source = path.read_text()
        for pattern in (EVENT_HANDLER, INLINE_SCRIPT):
            if match := pattern.search(source):
                offenders.append(f"{path}: {match.group(0)!r}")
    assert offenders == []


def admin_pages() -> list[str]:
    pages = []
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages += [reverse(f"{prefix}_changelist"), reverse(f"{prefix}_add")]
        if isinstance(model_admin, ImportMixin):
            pages.append(reverse(f"{prefix}_import"))
        if isinstance(model_admin, ExportMixin):
            pages.append(reverse(f"{prefix}_export"))
    return pages


def test_every_admin_and_planner_page_renders_without_inline_code():
    Plant("csp")
    client = Client()
    client.force_login(SuperuserFactory())
    pages = [
        *admin_pages(),
        reverse("admin:index"),
        reverse("admin:planner-dashboard"),
        reverse("admin:planner-triage"),
        reverse("admin:planner-dispatch"),
    ]
    assert "/admin/workorders/workorder/export/" in pages

    for url in pages:
        response = client.get(url)
        if response.status_code == 403:  # an add page the admin does not offer
            continue
        assert response.status_code == 200, url
        assert_obeys_csp(response)


def test_the_export_pages_select_all_is_wired_by_a_static_script():
    client = Client()
    client.force_login(SuperuserFactory())

    page = client.get(reverse("admin:workorders_workorder_export")).content.decode()

    assert 'class="select-toggle"' in page
    assert "planner/export_select_all.js" in page
    script = Path(apps.get_app_config("planner").path) / "static/planner/export_select_all.js"
    assert "input.select-toggle" in script.read_text()
