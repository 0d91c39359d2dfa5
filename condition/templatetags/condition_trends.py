"""`{% asset_trends asset %}`: the trend chart of each of the asset's measurements.

The asset pages (the planner's admin page, the technician's page) sit in apps that may not
import `condition`; templates load this library instead. The caller passes an asset it looked
up for the user (`Asset.objects.for_user`); the span comes from the request's `?days=`.
"""

from zoneinfo import ZoneInfo

from django import template

from condition import trends as condition_trends

register = template.Library()


@register.inclusion_tag("admin/assets/asset/_trends.html", takes_context=True)
def asset_trends(context, asset, width: int = 640):
    """The charts of `asset`'s measurements over the span asked for (`?days=`), each with its
    last value and age and a table of its numbers; `width` < 640 scales them to the page."""
    request = context.get("request")
    days = condition_trends.parse_days(request.GET.get("days") if request else None)
    found = condition_trends.asset_trends(asset=asset, days=days)
    tz = ZoneInfo(asset.site.timezone)
    return {
        "trends": found,
        "tz": asset.site.timezone,
        "choices": condition_trends.DAY_CHOICES,
        "charts": [
            {
                "trend": trend,
                "chart": condition_trends.trend_chart(trend, found, tz=tz, width=width),
                "last": condition_trends.last_value_text(trend, found.end),
                "recent": trend.points[-12:][::-1],
            }
            for trend in found.trends
        ],
    }


@register.filter
def measured(value, unit: str = "") -> str:
    """A measured value in at most four significant digits, with its unit."""
    return condition_trends.charts.fmt_value(value, unit)
