"""Figure 13: outbound events delivered per second to a local receiver, next to the rate of the
changes that produce them.

In the bench process: work orders are created through `work_order_create` with an endpoint
subscribed (each writes its event and delivery in its transaction: the outbox), then the
deliveries are sent by threads calling the delivery task's service (claim with a lease, sign,
POST to a receiver on loopback, record), as worker processes would without the broker hop.
The reference is the same creation with no endpoint subscribed (nothing written).
"""

import http.server
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from unittest import mock


class _Answer200(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def _receiver() -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answer200)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _create(site, count: int, prefix: str) -> float:
    """Seconds to create `count` work orders one by one (queueing patched out: the deliveries
    stay in the outbox for the sending stage)."""
    from workorders.services import work_order_create

    with mock.patch("integrations.dispatch.deliveries_enqueue"):
        started = time.perf_counter()
        for n in range(count):
            work_order_create(site=site, title=f"{prefix} {n}")
        return time.perf_counter() - started


def _send_all(ids: list[int], threads: int) -> float:
    from django.db import connections

    from integrations.delivery import delivery_send

    def send(chunk):
        try:
            for delivery_id in chunk:
                delivery_send(delivery_id=delivery_id)
        finally:
            connections.close_all()

    chunks = [ids[i::threads] for i in range(threads)]
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(send, chunks))
    return time.perf_counter() - started


def webhooks_figure(scale: dict) -> dict:
    from django.test import override_settings

    from accounts.models import User
    from assets.models import Customer, Site
    from cmms.roles import Role
    from integrations.models import Delivery
    from integrations.services import endpoint_create

    count, threads = scale["webhook_events"], scale.get("webhook_threads", 4)
    site = Site.objects.create(
        customer=Customer.objects.create(name="Bench hooks"), code="hooks", name="Hooks plant"
    )
    baseline = _create(site, count, "unsubscribed")
    owner = User.objects.create_user("bench-integrator", role=Role.PLANNER)
    owner.sites.add(site)
    server = _receiver()
    try:
        with override_settings(WEBHOOK_ALLOW_PRIVATE_NETWORKS=True):
            url = f"http://127.0.0.1:{server.server_address[1]}/hook"
            endpoint, _ = endpoint_create(owner=owner, url=url, event_types=["work_order.created"])
            subscribed = _create(site, count, "subscribed")
            ids = list(Delivery.objects.filter(endpoint=endpoint).values_list("id", flat=True))
            seconds = _send_all(ids, threads)
    finally:
        server.shutdown()
        server.server_close()
    delivered = Delivery.objects.filter(endpoint=endpoint, status="delivered").count()
    return {
        "events": count,
        "threads": threads,
        "delivered": delivered,
        "delivered_per_s": round(delivered / seconds, 1),
        "changes_per_s": round(count / subscribed, 1),
        "changes_per_s_unsubscribed": round(count / baseline, 1),
    }
