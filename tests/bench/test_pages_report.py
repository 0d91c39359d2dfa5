"""Figure 8's rows in BENCHMARKS.md: a page meets its target only when fast, small and, for a
list page, the same in queries and size at both data sizes."""

from bench.report import rows


def results(**page) -> dict:
    figure = {
        "url": "/admin/workorders/workorder/",
        "role": "planner",
        "list_page": True,
        "requests": 30,
        "p50_ms": 120.0,
        "p95_ms": 250.0,
        "bytes": 120_000,
        "queries_by_size": [11, 11],
        "bytes_by_size": [118_000, 120_000],
        "constant": True,
        **page,
    }
    pages = {
        "work_orders": 1_000_000,
        "assets": 100_000,
        "sites": 20,
        "sizes": [
            {"work_orders": 100_000, "assets": 10_000},
            {"work_orders": 1_000_000, "assets": 100_000},
        ],
        "pages": {"admin work order list": figure},
    }
    return {"pages_at_scale": pages}


def verdict(**page) -> str:
    (row,) = rows(results(**page))
    return row[-1]


def test_a_fast_small_constant_list_page_meets_its_target():
    assert verdict() == "met"


def test_a_list_page_misses_when_slow_large_or_growing_with_the_data():
    assert verdict(p95_ms=301.0) == "**missed**"
    assert verdict(bytes=500_001) == "**missed**"
    assert verdict(constant=False) == "**missed**"


def test_a_page_that_is_not_a_list_is_judged_on_time_and_size_only():
    assert verdict(list_page=False, constant=None, bytes_by_size=[1, 400_000]) == "met"


def test_the_row_shows_the_queries_and_size_at_both_data_sizes():
    (row,) = rows(results(queries_by_size=[11, 14], bytes_by_size=[63_000, 229_000]))
    assert "100,000 → 1,000,000 work orders: queries 11 → 14, HTML 63 KB → 229 KB" in row[1]
