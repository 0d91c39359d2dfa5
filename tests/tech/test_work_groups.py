"""My work and our work stay bounded however much work there is: each group shows its first
rows and its size, and links to the whole group, page by page."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tech.selectors import ASSET_OPEN_WORK_SHOWN, GROUP_SIZE, PAGE_SIZE
from tests.factories import AssetFactory, TechnicianFactory
from workorders.choices import Status
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")  # the factories' site zone
# Monday 25 Nov 2030, 10:00 at the site: today ends at midnight, the next 7 days on 3 Dec.
NOW = datetime(2030, 11, 25, 10, 0, tzinfo=BERLIN)
END_OF_TODAY = datetime(2030, 11, 26, 0, 0, tzinfo=BERLIN)
END_OF_NEXT_DAYS = datetime(2030, 12, 3, 0, 0, tzinfo=BERLIN)


@pytest.fixture(autouse=True)
def _fixed_clock(time_machine):
    time_machine.move_to(NOW, tick=False)


def _bulk(
    site, count: int, *, assignee=None, status=Status.SCHEDULED, due=None, asset=None, **fields
):
    """`count` work orders in one INSERT (on a new asset unless given); `due(i)` gives the i-th
    due date."""
    asset = asset or AssetFactory(site=site)
    return WorkOrder.objects.bulk_create(
        WorkOrder(
            site=site,
            asset=asset,
            title=f"Scale work {i}",
            status=status,
            priority=1 + i % 4,
            assignee=assignee,
            due_at=due(i) if due else None,
            **fields,
        )
        for i in range(count)
    )


def _assigned_work(site, technician, scale: int) -> dict[str, list[WorkOrder]]:
    """`scale` work orders spread over the four groups (and a few undated ones)."""
    overdue = _bulk(
        site, scale // 5, assignee=technician, due=lambda i: NOW - timedelta(hours=i + 1)
    )
    today = _bulk(
        site, scale // 10, assignee=technician, due=lambda i: NOW + timedelta(minutes=5 * i + 1)
    )
    upcoming = _bulk(
        site,
        scale // 5,
        assignee=technician,
        due=lambda i: END_OF_TODAY + timedelta(minutes=50 * i),
    )
    later = _bulk(
        site, scale // 2, assignee=technician, due=lambda i: END_OF_NEXT_DAYS + timedelta(hours=i)
    )
    later += _bulk(site, 3, assignee=technician)  # no due date
    return {"overdue": overdue, "today": today, "upcoming": upcoming, "later": later}


def _section(html: str, section_id: str) -> str:
    start = html.index(f'id="{section_id}"')
    return html[start : html.find("</section>", start)]


def _numbers(html: str) -> list[str]:
    return re.findall(r'<span class="wo-num">(WO-\d+)</span>', html)


def _urgency(work_order) -> tuple:
    return (work_order.priority, work_order.due_at is None, work_order.due_at, work_order.id)


def test_my_work_at_300_work_orders_shows_each_groups_first_rows_its_size_and_a_link(
    client_for, technician, site
):
    groups = _assigned_work(site, technician, 300)
    html = client_for(technician).get("/tech/").content.decode()

    assert len(_numbers(html)) <= 5 * GROUP_SIZE
    for key, work in groups.items():
        section = _section(html, key)
        shown = _numbers(section)
        first = sorted(work, key=_urgency)[:GROUP_SIZE]
        assert shown == [wo.number for wo in first], key
        assert f'<span class="count">{len(work)}</span>' in section
        assert f'href="/tech/?list={key}"' in section
        assert f"({len(work)}), page by page" in section


def test_the_groups_split_at_midnight_at_the_site_and_after_the_next_seven_days(
    client_for, technician, site
):
    def due(at):
        return _bulk(site, 1, assignee=technician, due=lambda i: at)[0]

    late = due(NOW - timedelta(minutes=1))
    tonight = due(END_OF_TODAY - timedelta(minutes=1))
    tomorrow = due(END_OF_TODAY)
    last_of_the_next_days = due(END_OF_NEXT_DAYS - timedelta(minutes=1))
    after = due(END_OF_NEXT_DAYS)
    undated = _bulk(site, 1, assignee=technician)[0]
    html = client_for(technician).get("/tech/").content.decode()

    assert _numbers(_section(html, "overdue")) == [late.number]
    assert _numbers(_section(html, "today")) == [tonight.number]
    assert set(_numbers(_section(html, "upcoming"))) == {
        tomorrow.number,
        last_of_the_next_days.number,
    }
    assert set(_numbers(_section(html, "later"))) == {after.number, undated.number}
    assert "?list=" not in html  # no group has more than it shows


def _queries_and_size(client) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/tech/")
    assert response.status_code == 200
    return len(queries), len(response.content)


def test_my_work_costs_the_same_queries_and_about_the_same_size_at_30_and_300_work_orders(
    client_for, technician, site
):
    client = client_for(technician)
    _assigned_work(site, technician, 60)
    _bulk(site, 12, due=lambda i: NOW)  # unassigned at the site: more than a group
    small_queries, small_size = _queries_and_size(client)
    _assigned_work(site, technician, 600)
    _bulk(site, 200, due=lambda i: NOW)
    large_queries, large_size = _queries_and_size(client)

    assert large_queries == small_queries <= 6
    assert large_size < small_size * 1.1  # the same rows shown, only larger counts


def test_a_whole_group_is_listed_page_by_page_in_order(client_for, technician, site):
    overdue = sorted(_assigned_work(site, technician, 300)["overdue"], key=_urgency)
    assert len(overdue) == 60  # pages of 25, 25 and 10
    client = client_for(technician)

    with CaptureQueriesContext(connection) as queries:
        first = client.get("/tech/", {"list": "overdue"}).content.decode()
    assert len(queries) <= 4
    pages = [first] + [
        client.get("/tech/", {"list": "overdue", "page": n}).content.decode() for n in (2, 3)
    ]
    assert [len(_numbers(page)) for page in pages] == [PAGE_SIZE, PAGE_SIZE, 10]
    listed = [number for page in pages for number in _numbers(page)]
    assert listed == [wo.number for wo in overdue]
    assert 'rel="next" href="/tech/?list=overdue&amp;page=2"' in first
    assert 'rel="prev"' not in first
    assert 'rel="prev" href="/tech/?list=overdue&amp;page=2"' in pages[2]
    assert 'rel="next"' not in pages[2]


@pytest.mark.parametrize(
    "query",
    [
        {"list": "nonsense"},
        {"list": "finished"},  # a customer viewer's group
        {"list": "overdue", "page": "0"},
        {"list": "overdue", "page": "-1"},
        {"list": "overdue", "page": "two"},
        {"list": "overdue", "page": "99999999999999999999999"},
        {"list": "overdue", "page": "2"},  # past the end
    ],
)
def test_a_group_or_page_that_does_not_exist_is_404(client_for, technician, site, query):
    _bulk(site, 3, assignee=technician, due=lambda i: NOW - timedelta(hours=1))
    assert client_for(technician).get("/tech/", query).status_code == 404


def test_the_unassigned_group_lists_only_work_at_the_users_sites(
    client_for, technician, site, other_site
):
    here = _bulk(site, GROUP_SIZE + 2, due=lambda i: NOW)
    _bulk(other_site, 5, due=lambda i: NOW)
    TechnicianFactory(sites=[other_site])
    client = client_for(technician)

    section = _section(client.get("/tech/").content.decode(), "pickable")
    assert f'<span class="count">{GROUP_SIZE}+</span>' in section
    listed = _numbers(client.get("/tech/", {"list": "unassigned"}).content.decode())
    assert sorted(listed) == sorted(wo.number for wo in here)


def test_our_work_shows_bounded_open_and_finished_work_with_links(client_for, viewer, site):
    open_work = _bulk(site, 30, due=lambda i: NOW + timedelta(days=i))
    finished = _bulk(
        site,
        40,
        status=Status.CLOSED,
        completed_at=NOW - timedelta(days=1),
        closed_at=NOW - timedelta(days=1),
    )
    client = client_for(viewer)
    html = client.get("/tech/").content.decode()

    open_section = _section(html, "open")
    assert len(_numbers(open_section)) == GROUP_SIZE
    assert '<span class="count">30</span>' in open_section
    assert 'href="/tech/?list=open"' in open_section
    finished_section = _section(html, "finished")
    assert len(_numbers(finished_section)) == GROUP_SIZE
    assert f'<span class="count">{GROUP_SIZE}+</span>' in finished_section

    pages = [client.get("/tech/", {"list": "finished", "page": n}) for n in (1, 2)]
    listed = [number for page in pages for number in _numbers(page.content.decode())]
    assert sorted(listed) == sorted(wo.number for wo in finished)
    assert len(open_work) == 30
    assert client.get("/tech/", {"list": "overdue"}).status_code == 404


def test_the_asset_page_shows_the_most_urgent_open_work_and_how_much_is_open(
    client_for, technician, site
):
    work = _bulk(site, 45, due=lambda i: NOW + timedelta(hours=i))
    asset = work[0].asset
    client = client_for(technician)
    url = f"/tech/assets/{asset.pk}/"

    html = client.get(url).content.decode()

    section = _section(html, "open-work")
    most_urgent = sorted(work, key=_urgency)[:ASSET_OPEN_WORK_SHOWN]
    assert _numbers(section) == [wo.number for wo in most_urgent]
    assert '<span class="count">45</span>' in section
    assert f"The {ASSET_OPEN_WORK_SHOWN} most urgent of 45 shown." in section
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    _bulk(site, 300, asset=asset, due=lambda i: NOW + timedelta(days=i))
    with CaptureQueriesContext(connection) as many:
        larger = client.get(url).content.decode()
    assert len(many) == len(few)
    assert len(_numbers(_section(larger, "open-work"))) == ASSET_OPEN_WORK_SHOWN
