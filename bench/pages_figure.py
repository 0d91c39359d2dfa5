"""Figure 8: the planner's and technician's pages on figure 6's data (no second load).

Each page is fetched through gunicorn with a logged-in session cookie (`Client.force_login`
writes the session; the load generator sends its cookie) one request at a time, as a person
would: p50/p95 server time as the client sees it on loopback, and the HTML size. The list
pages are also fetched in-process with the test client at two sizes, 10 % of the data (from
`load`'s checkpoint, before the rest is loaded) and all of it, to see whether their queries
and HTML grow with the data.
"""

import time

from bench.api_scale import SITES

PLANNER = "scale-planner-all"
TECH_QUERY = "S-0000"  # tags run from S-000000 on every site: up to 100 tags a site match
WO_QUERY = "WO-0500"  # the number prefix: WO-050000 to WO-050099
P95_TARGET_MS = 300
SIZE_TARGET_BYTES = 500_000
# Same queries and at most this much more HTML at the full size than at 10 %: counts and ids
# gain digits, a page that lists the data grows tenfold.
SIZE_GROWTH_ALLOWED = 1.10

# (name, who asks, url name, query string, a list page); `{site}` is the technician's site.
PAGES = (
    ("admin work order list", "planner", "admin:workorders_workorder_changelist", "", True),
    (
        "admin work order list filtered by status (closed)",
        "planner",
        "admin:workorders_workorder_changelist",
        "status__exact=closed",
        True,
    ),
    (
        f"admin work order search ?q={WO_QUERY}",
        "planner",
        "admin:workorders_workorder_changelist",
        f"q={WO_QUERY}",
        True,
    ),
    (
        "planner dashboard (all sites, last 30 days)",
        "planner",
        "admin:planner-dashboard",
        "days=30",
        False,
    ),
    (
        "dispatch board (one site, this week)",
        "planner",
        "admin:planner-dispatch",
        "site={site}",
        True,
    ),
    ("triage queue", "planner", "admin:planner-triage", "", True),
    ("technician my work", "technician", "tech:home", "", True),
    (f"technician search ?q={TECH_QUERY}", "technician", "tech:home", f"q={TECH_QUERY}", True),
    ("admin work order change page", "planner", "admin:workorders_workorder_change", "", False),
    ("admin asset list", "planner", "admin:assets_asset_changelist", "", True),
)


def planner_of_all_sites():
    """A staff planner of all SITES sites (figure 6's planner has two)."""
    from accounts.models import User
    from assets.models import Site
    from cmms.roles import Role

    planner, created = User.objects.get_or_create(
        username=PLANNER, defaults={"role": Role.PLANNER, "is_staff": True}
    )
    if created:
        planner.set_unusable_password()
        planner.save()
        planner.sites.set(Site.objects.filter(code__startswith="scale"))
    return planner


def urls(data: dict) -> dict[str, tuple[str, str, bool]]:
    """Page name -> (who asks, URL, a list page)."""
    from django.urls import reverse

    from workorders.models import WorkOrder

    first = WorkOrder.objects.filter(site_id=data["site"]).order_by("pk").values("pk")[:1]
    out = {}
    for name, role, url_name, query, is_list in PAGES:
        args = [first[0]["pk"]] if url_name.endswith("_change") else []
        url = reverse(url_name, args=args)
        if query:
            url += "?" + query.format(site=data["site"])
        out[name] = (role, url, is_list)
    return out


def _clients(data: dict) -> dict:
    """A logged-in test client for each role."""
    from django.test import Client

    clients = {}
    for role, user in (("planner", planner_of_all_sites()), ("technician", data["technician"])):
        clients[role] = Client(SERVER_NAME="localhost")
        clients[role].force_login(user)
    return clients


def measure_in_process(data: dict) -> dict:
    """Queries and HTML bytes of every page, in-process; `load`'s checkpoint and the full size."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    started = time.perf_counter()
    clients = _clients(data)
    pages = {}
    for name, (role, url, _) in urls(data).items():
        with CaptureQueriesContext(connection) as ctx:
            response = clients[role].get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{name}: {url} answered {response.status_code}")
        pages[name] = {"queries": len(ctx.captured_queries), "bytes": len(response.content)}
    return {
        "work_orders": data["work_orders"],
        "assets": data["assets"],
        "pages": pages,
        "seconds": round(time.perf_counter() - started, 1),
    }


def session_cookies(data: dict) -> dict[str, str]:
    """Role -> a `Cookie` header of a session gunicorn accepts (the same database)."""
    from django.conf import settings

    name = settings.SESSION_COOKIE_NAME
    return {role: f"{name}={c.cookies[name].value}" for role, c in _clients(data).items()}


def pages_figure(stack, scale: dict, data: dict) -> dict:
    """8: every page through gunicorn, and the list pages' growth between the two sizes."""
    from bench.load import loadgen, summarize

    started = time.perf_counter()
    small = data["at_checkpoint"]
    if "error" in small:
        raise RuntimeError(f"the pages at the first size: {small['error']}")
    full = measure_in_process(
        {**data, "work_orders": scale["api_work_orders"], "assets": scale["api_assets"]}
    )
    cookies = session_cookies(data)
    figures = {}
    for name, (role, url, is_list) in urls(data).items():
        spec = {"mode": "get", "base_url": stack.url, "urls": [url], "cookie": cookies[role]}
        raw = loadgen({**spec, **scale["pages"], "concurrency": 1})
        statuses = {**raw["warmup_statuses"], **raw["statuses"]}
        if set(statuses) != {"200"}:
            raise RuntimeError(f"{name}: {url} answered {statuses} through gunicorn")
        result = summarize(raw)
        queries = [small["pages"][name]["queries"], full["pages"][name]["queries"]]
        sizes = [small["pages"][name]["bytes"], full["pages"][name]["bytes"]]
        figures[name] = {
            "url": url,
            "role": role,
            "list_page": is_list,
            "requests": result["requests"],
            "statuses": result["statuses"],
            "p50_ms": result["p50_ms"],
            "p95_ms": result["p95_ms"],
            "bytes": max(sample[3] for sample in raw["samples"]),
            "queries_by_size": queries,
            "bytes_by_size": sizes,
            "constant": (
                queries[0] == queries[1] and sizes[1] <= sizes[0] * SIZE_GROWTH_ALLOWED
                if is_list
                else None
            ),
        }
    return {
        "work_orders": scale["api_work_orders"],
        "assets": scale["api_assets"],
        "sites": SITES,
        "sizes": [
            {"work_orders": small["work_orders"], "assets": small["assets"]},
            {"work_orders": full["work_orders"], "assets": full["assets"]},
        ],
        "planner": f"{PLANNER} (all {SITES} sites)",
        "technician": data["technician"].username,
        "target": (
            f"p95 <= {P95_TARGET_MS} ms and <= {SIZE_TARGET_BYTES // 1000} KB; list pages: "
            f"same queries and <= {SIZE_GROWTH_ALLOWED:.2f}x the HTML at the larger size"
        ),
        "pages": figures,
        "seconds": round(time.perf_counter() - started + small["seconds"], 1),
    }
