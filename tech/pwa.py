"""The technician app as an installable, offline-capable web app (docs/offline.md).

The service worker and the manifest are served by Django under /tech/ (a worker only controls
pages below its own address). The worker's cache name carries a hash of the technician app's
static files, so a deploy that changes one replaces the whole static cache.
"""

import hashlib
import json
from functools import cache
from pathlib import Path

from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from pm import selectors as pm_selectors
from pm.models import RoutePoint
from tech import selectors

STATIC_DIR = Path(__file__).resolve().parent / "static" / "tech"
WORKER_TEMPLATE = "tech/sw.js"
# Every asset a technician page loads; the worker caches them when it installs.
STATIC_ASSETS = (
    "tech/tech.css",
    "tech/htmx.min.js",
    "tech/focus-error.js",
    "tech/offline.js",
    "tech/icons/icon-192.png",
    "tech/icons/icon-512.png",
)
# The user a /tech/ answer was made for: the worker files a page only under that user, and
# serves it offline only to the same user (a page never outlives a change of user).
USER_HEADER = "X-Cmms-User"


@cache
def static_version() -> str:
    """A short hash of the technician app's static files and the worker's own source."""
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(STATIC_DIR).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    worker = Path(__file__).resolve().parent.parent / "templates" / WORKER_TEMPLATE
    digest.update(worker.read_bytes())
    return digest.hexdigest()[:12]


@require_GET
def service_worker(request):
    """The service worker; never cached by HTTP, so a new version is seen on the next load."""
    context = {
        "version": static_version(),
        "precache": json.dumps([static(name) for name in STATIC_ASSETS]),
        "manifest": json.dumps(reverse("tech:manifest")),
        "offline_pages": json.dumps(reverse("tech:offline-pages")),
    }
    body = render_to_string(WORKER_TEMPLATE, context)
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = reverse("tech:home")
    return response


@require_GET
def manifest(request):
    home = reverse("tech:home")
    data = {
        "name": "CMMS technician",
        "short_name": "CMMS",
        "start_url": home,
        "scope": home,
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#15578c",
        "icons": [
            {
                "src": static(f"tech/icons/icon-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
            }
            for size in (192, 512)
        ],
    }
    response = JsonResponse(data, content_type="application/manifest+json")
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def offline_pages(request):
    """The pages to keep for offline use: the user's work due up to the next days (overdue,
    today, upcoming) and their assets, the rounds of the day and their points' assets, plus
    the work list itself. Only the user's own work, at their sites; anonymous users get a 403
    JSON answer, not a login page."""
    user = request.user
    if not user.is_authenticated:
        return JsonResponse({"detail": "Log in first."}, status=403)
    urls = [reverse("tech:home")]
    if not user.is_customer_viewer:
        work = selectors.my_work(user)
        for group in (work.overdue, work.today, work.upcoming):
            for work_order in group.rows:
                urls.append(reverse("tech:work-order", args=[work_order.pk]))
                if work_order.asset_id:
                    urls.append(reverse("tech:asset", args=[work_order.asset_id]))
        urls += _round_pages(user)
    return JsonResponse({"user": user.pk, "urls": list(dict.fromkeys(urls))})


def _round_pages(user) -> list[str]:
    """The round pages the user walks today (as *My work* lists them) and their points' assets,
    in walking order: two queries."""
    runs = list(pm_selectors.rounds_of_the_day(user, now=timezone.now()))
    assets = (
        RoutePoint.objects.filter(route__in={run.route_id for run in runs})
        .order_by("route_id", "position")
        .values_list("asset_id", flat=True)
    )
    return [reverse("tech:round", args=[run.pk]) for run in runs] + [
        reverse("tech:asset", args=[asset_id]) for asset_id in assets
    ]


class UserHeaderMiddleware:
    """Name the user a technician page was made for (`X-Cmms-User`), for the service worker."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = reverse("tech:home")

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if request.path.startswith(self.prefix) and user is not None and user.is_authenticated:
            response[USER_HEADER] = str(user.pk)
        return response
