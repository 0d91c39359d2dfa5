"""Figure 13 (bench/webhooks_figure.py) at a tiny scale: every event reaches the receiver
process, verified with `standardwebhooks`, and the report's row compares the delivery rate
with the rate of the changes. Tasks run eagerly here (no broker), so the worker the figure
starts is a stand-in; `make bench-quick` runs it with a real Celery node."""

import pytest

from bench.report import rows
from bench.webhooks_figure import webhooks_figure


class StackWithoutWorkers:
    def start_worker(self, *args, **kwargs):
        pass

    def stop(self, *args):
        pass


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_every_event_of_the_figure_reaches_the_receiver_once_and_is_reported(real_clock, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    figure = webhooks_figure(StackWithoutWorkers(), {"webhook_work_orders": 5})

    assert figure["events"] == figure["received_unique"] == 15
    assert figure["received_posts"] == 15 and figure["received_invalid"] == 0
    assert figure["events_per_s"] > 0 and figure["changes_per_s_subscribed"] > 0
    [row] = rows({"webhooks": figure})
    assert row[0].startswith("13. Outbound events") and row[-1] in ("met", "**missed**")
