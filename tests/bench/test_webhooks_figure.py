"""Figure 13 (bench/webhooks_figure.py) at a tiny scale: every event is delivered to the local
receiver and the report's row compares the delivery rate with the change rate."""

import pytest

from bench.report import rows
from bench.webhooks_figure import webhooks_figure


@pytest.mark.postgresql(reason="sending threads claim rows on their own connections")
@pytest.mark.django_db(transaction=True)
def test_every_event_of_the_figure_is_delivered_and_reported(real_clock):
    figure = webhooks_figure({"webhook_events": 20, "webhook_threads": 2})

    assert figure["delivered"] == figure["events"] == 20
    assert figure["delivered_per_s"] > 0 and figure["changes_per_s"] > 0
    [row] = rows({"webhooks": figure})
    assert row[0] == "13. Outbound events" and row[-1] in ("met", "**missed**")
