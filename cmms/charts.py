"""Server-side SVG charts: each builder lays out shapes; `admin/planner/_chart.html` draws them.

Shared by the planner pages and the client reports (apps on one layer do not import each other,
so the charts live in the core).

No JavaScript, no CDN, nothing inline that a Content-Security-Policy refuses: colours and fonts
are SVG presentation attributes, not `style`. Every bar carries a <title> (its tooltip) and a
visible value, so a screenshot reads without hovering. Text is at least `MIN_TEXT` px and
contrasts at least 4.5:1 with what is behind it (WCAG 2.1 AA): dark ink on the page, and on a
coloured shape whichever of white and ink contrasts more (`ink_on`).
"""

import math
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

PALETTE = ("#b42318", "#e8590c", "#f0b429", "#2f9e44", "#1c7ed6", "#7048e8", "#868e96")
PRIORITY_COLOURS = ("#b42318", "#e8590c", "#f0b429", "#74b816")
PLANNED, UNPLANNED = "#1c7ed6", "#e8590c"
ON_TIME, LATE, NOT_DONE = "#237032", "#f0b429", "#b42318"
AXIS, GRID, INK, WHITE = "#495057", "#e9ecef", "#212529", "#ffffff"  # axis text 8.2:1 on white
MIN_TEXT = 12
CHAR_WIDTH = 7.2  # a 12 px system-ui character, generously: what a label may take


def _luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of a #rrggbb colour."""
    channels = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG 2.1 contrast ratio of two #rrggbb colours (1 to 21)."""
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def ink_on(fill: str) -> str:
    """The text colour for a label drawn on `fill`: white or ink, whichever contrasts more."""
    return WHITE if contrast(WHITE, fill) >= contrast(INK, fill) else INK


def _fit(text: str, width: float) -> str:
    """`text` cut with an ellipsis to fit `width` px at `MIN_TEXT` px (the full text is in the
    shape's <title>)."""
    room = max(int(width / CHAR_WIDTH), 2)
    return text if len(text) <= room else text[: room - 1] + "…"


@dataclass
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str = ""


@dataclass
class Text:
    x: float
    y: float
    text: str
    anchor: str = "start"
    size: int = MIN_TEXT
    fill: str = INK
    weight: str = "normal"


@dataclass
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str = GRID


@dataclass
class Chart:
    width: int
    height: int
    label: str
    rects: list[Rect] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    polygons: list[tuple[str, str, str]] = field(default_factory=list)  # points, fill, title

    @property
    def empty(self) -> bool:
        return not self.rects and not self.polygons


def _nice_max(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 5 x 10^n)."""
    if value <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _fmt(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def stacked_columns(
    *,
    label: str,
    categories: list[str],
    series: list[tuple[str, list[float], str]],
    width: int = 520,
    height: int = 260,
    counts: bool = False,
) -> Chart:
    """Vertical stacked columns: one column per category, one coloured segment per series.
    `counts`: the values are whole numbers, so the axis never shows a fraction (0.5 gateway)."""
    chart = Chart(width, height, label)
    totals = [sum(values[i] for _, values, _ in series) for i in range(len(categories))]
    top_value = _nice_max(max(totals, default=0))
    if counts:  # the next multiple of the 4 tick steps: every tick a whole number
        top_value = max(4, -(-int(max(totals, default=0)) // 4) * 4)
    # Room for the widest tick label (money runs to five digits and more) at ~7 px a digit.
    widest = max(len(_fmt(round(top_value * tick / 4, 1))) for tick in range(5))
    left, right, top, bottom = max(40, 12 + 7 * widest), 10, 28, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    _legend(chart, [(name, colour) for name, _, colour in series], x=left, y=14)
    for tick in range(5):
        value = top_value * tick / 4
        y = top + plot_h - plot_h * tick / 4
        chart.lines.append(Line(left, y, width - right, y))
        chart.texts.append(Text(left - 6, y + 4, _fmt(round(value, 1)), "end", fill=AXIS))
    slot = plot_w / max(len(categories), 1)
    bar_w = min(slot * 0.65, 48)
    for i, category in enumerate(categories):
        x = left + slot * i + (slot - bar_w) / 2
        y = top + plot_h
        for name, values, colour in series:
            value = values[i]
            if not value:
                continue
            h = plot_h * value / top_value
            y -= h
            chart.rects.append(Rect(x, y, bar_w, h, colour, f"{category}: {_fmt(value)} {name}"))
        if totals[i]:
            chart.texts.append(Text(x + bar_w / 2, y - 4, _fmt(totals[i]), "middle", weight="bold"))
        label = _fit(category, slot)
        chart.texts.append(Text(x + bar_w / 2, top + plot_h + 16, label, "middle", fill=AXIS))
    chart.lines.append(Line(left, top + plot_h, width - right, top + plot_h, AXIS))
    return chart


def horizontal_bars(
    *,
    label: str,
    rows: list[tuple[str, float, str]],
    unit: str = "",
    colour: str = "#1c7ed6",
    width: int = 520,
    row_height: int = 24,
    label_width: int = 150,
    scale_max: float | None = None,
) -> Chart:
    """One horizontal bar per row (label, value, tooltip), longest first as given; bars are
    scaled to the largest value, or to `scale_max` (100 for percentages) when given."""
    height = max(len(rows), 1) * row_height + 16
    chart = Chart(width, height, label)
    plot_w = width - label_width - 60
    top_value = scale_max or max((value for _, value, _ in rows), default=0) or 1
    for i, (name, value, title) in enumerate(rows):
        y = 8 + i * row_height
        w = plot_w * value / top_value
        chart.texts.append(Text(label_width - 6, y + 15, _fit(name, label_width - 8), "end"))
        chart.rects.append(Rect(label_width, y + 3, max(w, 1), row_height - 8, colour, title))
        chart.texts.append(
            Text(label_width + w + 6, y + 15, f"{_fmt(value)}{unit}", "start", fill=AXIS)
        )
    return chart


def funnel(*, label: str, steps: list[tuple[str, int]], width: int = 520) -> Chart:
    """A funnel: one trapezoid per step, its width in proportion to the first step.

    The shapes take the left half; each step's name and count stand beside its shape, in ink
    on the page, so a long name is never clipped by a narrow shape.
    """
    step_h, gap = 44, 6
    height = len(steps) * (step_h + gap) + 4
    chart = Chart(width, height, label)
    shapes_w = width // 2
    centre, text_x = shapes_w / 2 + 4, shapes_w + 20
    first = max(steps[0][1], 1) if steps else 1
    widths = [max(shapes_w * value / first, 24) for _, value in steps]
    for i, (name, value) in enumerate(steps):
        top_w = widths[i]
        bottom_w = widths[i + 1] if i + 1 < len(widths) else top_w * 0.85
        y = 2 + i * (step_h + gap)
        points = " ".join(
            f"{px:.1f},{py:.1f}"
            for px, py in (
                (centre - top_w / 2, y),
                (centre + top_w / 2, y),
                (centre + bottom_w / 2, y + step_h),
                (centre - bottom_w / 2, y + step_h),
            )
        )
        share = f" ({100 * value / first:.0f}%)" if i and steps[0][1] else ""
        chart.polygons.append((points, PALETTE[4 + i % 3], f"{name}: {value}{share}"))
        room = width - text_x - 4
        chart.texts.append(Text(text_x, y + 19, _fit(name, room), weight="bold"))
        chart.texts.append(Text(text_x, y + 36, _fit(f"{value}{share}", room), fill=AXIS))
    return chart


def percent_bar(*, label: str, parts: list[tuple[str, int, str]], width: int = 520) -> Chart:
    """A single 100 % bar split into parts (name, count, colour), with a legend below it."""
    chart = Chart(width, 64, label)
    total = sum(count for _, count, _ in parts)
    x = 0.0
    for name, count, colour in parts:
        if not count:
            continue
        w = width * count / total
        chart.rects.append(
            Rect(x, 4, w, 28, colour, f"{name}: {count} ({100 * count / total:.0f}%)")
        )
        if w > 40:
            share = f"{100 * count / total:.0f}%"
            chart.texts.append(
                Text(x + w / 2, 23, share, "middle", fill=ink_on(colour), weight="bold")
            )
        x += w
    _legend(chart, [(f"{name} ({count})", colour) for name, count, colour in parts], x=0, y=52)
    return chart


# ---------------------------------------------------------------- time series (trend charts)
# One measurement over time: its values (a min-max band and the mean line when aggregated),
# horizontal limit lines, events marked on the time axis and a dashed projection. Drawn by
# `admin/assets/asset/_trend_chart.html`, which knows these extra shapes.

SERIES, BAND, PROJECTION = "#1c7ed6", "#d0ebff", "#495057"
EVENT_INK = INK  # work order markers
DOT_UNDER = 60  # a series with fewer points also gets a dot on each (sparse readings)


@dataclass
class Path:
    """A polyline (`closed=False`) or polygon through `points` ("x,y x,y ...")."""

    points: str
    stroke: str = SERIES
    fill: str = "none"
    closed: bool = False
    dashed: bool = False
    width: float = 2
    title: str = ""


@dataclass
class Marker:
    """A small shape on the time axis: a circle (alert, dot) or a square (work order)."""

    x: float
    y: float
    fill: str
    title: str
    square: bool = False
    size: float = 5

    @property
    def box(self) -> tuple[float, float, float]:
        """The square's left, top and side, centred on (x, y)."""
        return self.x - self.size, self.y - self.size, 2 * self.size


@dataclass
class TimeChart(Chart):
    paths: list[Path] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    fluid: bool = False  # scale to the container's width (phones) instead of a fixed width

    @property
    def empty(self) -> bool:
        return not self.paths and not self.markers


@dataclass
class TimeEvent:
    """Something that happened at `at` (an alert, a work order), marked on the time axis."""

    at: datetime
    colour: str
    title: str
    square: bool = False


def fmt_value(value: float | None, unit: str = "") -> str:
    """A measured value in at most four significant digits, whatever its size (1e300, 1e-300,
    -0.0, inf), with its unit."""
    if value is None:
        return "no value"
    if value != value or value in (float("inf"), float("-inf")):
        text = str(value)
    else:
        text = f"{value:.4g}"
        if text in ("-0", "0"):
            text = "0"
    return f"{text} {unit}".strip()


def _nice_step(raw: float) -> float | None:
    """A round step (1, 2, 5 x 10^n) at or above `raw`; None when there is none to take."""
    if not (raw > 0) or raw == float("inf"):
        return None
    magnitude = 10.0 ** math.floor(math.log10(raw))
    if magnitude == 0:  # below the smallest float
        return None
    for step in (1, 2, 5, 10):
        if step * magnitude >= raw:
            return step * magnitude
    return 10 * magnitude


def _value_range(values: list[float]) -> tuple[float, float]:
    """The value axis: the values' range padded by a twentieth, never empty or overflowing."""
    low, high = min(values), max(values)
    spread = high / 2 - low / 2  # halves: -1e308..1e308 does not overflow
    if spread == 0:
        spread = abs(high) / 20 or 1
    low = max(low - spread / 10, -sys.float_info.max)
    high = min(high + spread / 10, sys.float_info.max)
    return low, high


def _time_ticks(start, end, tz, room: int) -> list[tuple[datetime, str]]:
    """At most `room` ticks between `start` and `end` on the site's wall clock: whole days
    (midnight, "3 Dec") or whole hours ("14:00"), counted in days or hours so a daylight-saving
    change does not shift them."""
    span_hours = (end - start).total_seconds() / 3600
    local_start = start.astimezone(tz)
    for hours in (1, 2, 3, 6, 12):
        if span_hours / hours <= room:
            first = local_start.replace(minute=0, second=0, microsecond=0)
            first = first.replace(hour=first.hour - first.hour % hours)
            ticks, moment = [], first.astimezone(UTC)  # hours counted in UTC, not on the wall
            while moment <= end:
                if moment >= start:
                    ticks.append((moment, f"{moment.astimezone(tz):%H:%M}"))
                moment += timedelta(hours=hours)
            return ticks
    for days in (1, 2, 5, 7, 14, 30, 60, 90, 180, 365):
        if span_hours / 24 / days <= room:
            break
    day, ticks = local_start.date(), []
    while True:
        moment = datetime.combine(day, time(), tzinfo=tz)
        if moment > end:
            return ticks
        if moment >= start:
            ticks.append((moment, f"{moment.day} {moment:%b}"))
        day += timedelta(days=days)


def time_series(
    *,
    label: str,
    points: list[tuple],
    start,
    end,
    tz,
    limits: list[tuple[str, float, str]] = (),
    events: list[TimeEvent] = (),
    projection: tuple | None = None,
    now=None,
    unit: str = "",
    width: int = 640,
    height: int = 250,
    fluid: bool = False,
) -> TimeChart:
    """One measurement over [start, end] in the site's zone `tz`.

    `points` are (at, low, mean, high): a band from low to high is drawn wherever they differ
    (aggregates), the line through the means. `limits` are horizontal lines (name, value,
    colour), labelled with their value. `events` are marked on a strip under the plot, alerts
    as circles and work orders as squares, each with its <title>. `projection` is (from_at,
    from_value, to_at, to_value), drawn dashed; the time axis runs on to `to_at` when it lies
    beyond `end`. Values that are not finite are left out.
    """
    chart = TimeChart(width, height, label, fluid=fluid)
    finite = [p for p in points if all(math.isfinite(v) for v in p[1:4])]
    values = [v for p in finite for v in (p[1], p[3])] + [value for _, value, _ in limits]
    if projection is not None:
        values += [projection[1], projection[3]]
        end = max(end, projection[2])
    values = [v for v in values if math.isfinite(v)]
    if not finite:
        return chart
    low, high = _value_range(values)
    step = _nice_step(high / 4 - low / 4)
    ticks = [low + (high / 4 - low / 4) * i for i in range(5)]
    if step is not None and math.isfinite(step * 5) and abs(low / step) < 1e15:
        first = math.ceil(low / step) * step
        ticks = [first + step * i for i in range(6) if first + step * i <= high]
    labels = [fmt_value(tick) for tick in ticks]
    left = max(36, 10 + CHAR_WIDTH * max(len(text) for text in labels))
    right, top, bottom = 12, 10, 66
    plot_w, plot_h = width - left - right, height - top - bottom
    axis_y = top + plot_h
    seconds = max((end - start).total_seconds(), 1)

    def x_of(at) -> float:
        return left + plot_w * min(max((at - start).total_seconds() / seconds, 0), 1)

    def y_of(value: float) -> float:
        share = (value / 2 - low / 2) / (high / 2 - low / 2)
        return top + plot_h - plot_h * min(max(share, 0), 1)

    for tick, text in zip(ticks, labels, strict=True):
        chart.lines.append(Line(left, y_of(tick), width - right, y_of(tick)))
        chart.texts.append(Text(left - 6, y_of(tick) + 4, text, "end", fill=AXIS))
    for moment, text in _time_ticks(start, end, tz, max(int(plot_w / 64), 2)):
        x = x_of(moment)
        chart.lines.append(Line(x, axis_y, x, axis_y + 4, AXIS))
        chart.texts.append(Text(x, height - 8, text, "middle", fill=AXIS))
    chart.lines.append(Line(left, axis_y, width - right, axis_y, AXIS))

    if any(p[1] != p[3] for p in finite):
        upper = [f"{x_of(p[0]):.1f},{y_of(p[3]):.1f}" for p in finite]
        lower = [f"{x_of(p[0]):.1f},{y_of(p[1]):.1f}" for p in reversed(finite)]
        chart.paths.append(
            Path(
                " ".join(upper + lower),
                stroke="none",
                fill=BAND,
                closed=True,
                width=0,
                title=f"{label}: lowest to highest value of each period",
            )
        )
    line = " ".join(f"{x_of(p[0]):.1f},{y_of(p[2]):.1f}" for p in finite)
    chart.paths.append(Path(line, title=label))
    if len(finite) < DOT_UNDER:
        for at, _, mean, _ in finite:
            title = f"{at.astimezone(tz):%d %b %H:%M}: {fmt_value(mean, unit)}"
            chart.markers.append(Marker(x_of(at), y_of(mean), SERIES, title, size=3))

    for name, value, colour in limits:
        if not math.isfinite(value):
            continue
        y = y_of(value)
        chart.paths.append(
            Path(
                f"{left:.1f},{y:.1f} {width - right:.1f},{y:.1f}",
                stroke=colour,
                dashed=True,
                width=1.5,
                title=f"{name}: {fmt_value(value, unit)}",
            )
        )
        text = _fit(f"{name} {fmt_value(value, unit)}", plot_w - 8)
        chart.texts.append(Text(left + 4, y - 4 if y - 16 > top else y + 14, text, fill=colour))

    if projection is not None:
        from_at, from_value, to_at, to_value = projection
        if all(math.isfinite(v) for v in (from_value, to_value)):
            chart.paths.append(
                Path(
                    f"{x_of(from_at):.1f},{y_of(from_value):.1f} "
                    f"{x_of(to_at):.1f},{y_of(to_value):.1f}",
                    stroke=PROJECTION,
                    dashed=True,
                    title=f"Projected to reach {fmt_value(to_value, unit)} about "
                    f"{to_at.astimezone(tz):%d %b %Y %H:%M}",
                )
            )
    if now is not None and start < now < end:
        chart.lines.append(Line(x_of(now), top, x_of(now), axis_y, AXIS))
        chart.texts.append(Text(x_of(now) + 3, axis_y - 4, "now", fill=AXIS))

    for event in events:
        if start <= event.at <= end:
            y = axis_y + (26 if event.square else 12)
            chart.markers.append(Marker(x_of(event.at), y, event.colour, event.title, event.square))
    return chart


def _legend(chart: Chart, items: list[tuple[str, str]], *, x: float, y: float) -> None:
    for name, colour in items:
        chart.rects.append(Rect(x, y - 9, 10, 10, colour, name))
        chart.texts.append(Text(x + 14, y, name, fill=AXIS))
        x += 24 + CHAR_WIDTH * len(name)


# ---------------------------------------------------------------- risk grid (criticality x health)

RISK_COLOURS = ("#b42318", "#f76707", "#f0b429", "#74b816", "#237032")  # alarming to fine
EMPTY_CELL = "#f1f3f5"


def risk_grid(
    *,
    label: str,
    rows: list[str],
    columns: list[str],
    counts: list[list[int]],
    row_title: str,
    column_title: str,
    noun: str = "assets",
    width: int = 520,
) -> Chart:
    """A grid of counts: `rows` (most critical first) x `columns` (worst first), so the
    alarming cell is the top left. A cell with assets is coloured by its distance from that
    corner (red, orange, yellow, greens); an empty one is pale grey. Each cell shows its count,
    in white or ink as `ink_on` picks (every colour here reaches 4.5:1 with one of them), and
    carries a <title>."""
    left, top, cell_h = 110, 40, 44
    height = top + cell_h * len(rows) + 8
    chart = Chart(width, height, label)
    cell_w = (width - left - 8) / max(len(columns), 1)
    chart.texts.append(Text(left, 14, _fit(column_title, width - left), fill=AXIS))
    for j, column in enumerate(columns):
        x = left + cell_w * j + cell_w / 2
        chart.texts.append(Text(x, top - 8, _fit(column, cell_w), "middle", fill=AXIS))
    for i, row in enumerate(rows):
        y = top + cell_h * i
        chart.texts.append(Text(left - 8, y + cell_h / 2 + 4, _fit(row, left - 12), "end"))
        for j, column in enumerate(columns):
            n = counts[i][j]
            fill = RISK_COLOURS[min(i + j, len(RISK_COLOURS) - 1)] if n else EMPTY_CELL
            x = left + cell_w * j
            title = f"{row_title} {row}, {column_title.lower()} {column}: {n} {noun}"
            chart.rects.append(Rect(x + 1, y + 1, cell_w - 2, cell_h - 2, fill, title))
            chart.texts.append(
                Text(
                    x + cell_w / 2,
                    y + cell_h / 2 + 5,
                    str(n),
                    "middle",
                    fill=ink_on(fill),
                    weight="bold" if n else "normal",
                )
            )
    return chart
