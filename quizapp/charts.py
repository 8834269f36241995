"""Small server-rendered SVG charts and the one colour scale of the 体检.

No JavaScript and no library: the CSP allows no inline script, pages must print on A4 and
read on a 360 px phone. Every chart is an <svg> with a viewBox 360 units wide and width 100 %,
so on a phone one unit is one pixel and on a desk it grows (CSS caps it); labels sit on their
own line above each bar so long document names never squeeze the bars. All text is escaped.

The colour scale runs from red (50 % or less) through amber (75 %) to green (100 %): below
half right, every unit needs the same urgent study, so the scale spends its colours where
units actually differ. The page (CSS classes heat-0 … heat-9), the SVG charts and the XLSX
export (its ColorScaleRule uses the same three points) all use it.
"""
from __future__ import annotations

from markupsafe import Markup, escape

SCALE_LOW, SCALE_MID, SCALE_HIGH = 0.5, 0.75, 1.0
RED, AMBER, GREEN = (192, 57, 43), (230, 162, 60), (39, 174, 96)
STEPS = 10
WIDTH = 360


def _mix(a, b, t):
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))


def heat_rgb(accuracy: float) -> tuple[int, int, int]:
    if accuracy <= SCALE_MID:
        t = max(0.0, (accuracy - SCALE_LOW) / (SCALE_MID - SCALE_LOW))
        return _mix(RED, AMBER, t)
    t = min(1.0, (accuracy - SCALE_MID) / (SCALE_HIGH - SCALE_MID))
    return _mix(AMBER, GREEN, t)


def heat_color(accuracy: float | None) -> str:
    """#rrggbb of an accuracy on the scale; light grey for no answers."""
    if accuracy is None:
        return "#eeeeee"
    return "#%02x%02x%02x" % heat_rgb(accuracy)


def heat_step(accuracy: float | None) -> int | None:
    """0 … 9: which of the ten equal steps of [50 %, 100 %] the accuracy falls in (below 50 %: 0)."""
    if accuracy is None:
        return None
    position = (accuracy - SCALE_LOW) / (SCALE_HIGH - SCALE_LOW)
    return min(STEPS - 1, max(0, int(position * STEPS)))


def heat_class(accuracy: float | None) -> str:
    step = heat_step(accuracy)
    return "heat-none" if step is None else f"heat-{step}"


def step_colors() -> list[tuple[str, str, str]]:
    """(css class, colour, label) of every step, for the legend and the stylesheet."""
    rows = []
    for step in range(STEPS):
        low = SCALE_LOW + (SCALE_HIGH - SCALE_LOW) * step / STEPS
        high = low + (SCALE_HIGH - SCALE_LOW) / STEPS
        label = f"{low:.0%} 以下" if step == 0 else f"{low:.0%}–{high:.0%}"
        rows.append((f"heat-{step}", heat_color((low + high) / 2 if step else SCALE_LOW), label))
    return rows


def percent(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def _svg(height: float, body: list[str], title: str) -> Markup:
    head = (f'<svg class="chart" viewBox="0 0 {WIDTH} {height:.0f}" width="100%" role="img" '
            f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif"><title>{escape(title)}</title>')
    return Markup(head + "".join(body) + "</svg>")


def bar_chart(rows: list[tuple[str, float | None, str]], title: str, colour_by_value: bool = True,
              reference: float | None = None, reference_label: str = "") -> Markup:
    """Horizontal bars for values in [0, 1]: (label, value, note shown after the bar). Bars are
    coloured on the heat scale (or plain blue); `reference` draws a dashed line (e.g. the county
    average) labelled `reference_label`."""
    bar_h, label_h, gap, left = 14, 14, 8, 4
    span = WIDTH - 2 * left
    body, y = [], 4.0
    if reference is not None:
        y += 14
    top = y
    for label, value, note in rows:
        # The note shares the label's line, so the bar can use the whole width on a phone.
        body.append(f'<text x="{left}" y="{y + 11:.0f}" font-size="11" fill="#333">{escape(label)}'
                    f'<tspan fill="#555">　{escape(note)}</tspan></text>')
        y += label_h
        length = span * max(0.0, min(1.0, value or 0))
        colour = heat_color(value) if colour_by_value else "#3b73b9"
        body.append(f'<rect x="{left}" y="{y:.0f}" width="{span:.0f}" height="{bar_h}" fill="#f0f0f0"/>')
        if value is not None:
            body.append(f'<rect x="{left}" y="{y:.0f}" width="{length:.1f}" height="{bar_h}" fill="{colour}"/>')
        y += bar_h + gap
    if reference is not None:
        x = left + span * max(0.0, min(1.0, reference))
        body.append(f'<line x1="{x:.1f}" y1="{top - 4:.0f}" x2="{x:.1f}" y2="{y - gap:.0f}" stroke="#222" '
                    f'stroke-dasharray="3 3" stroke-width="1"/>')
        body.append(f'<text x="{min(x, WIDTH - 120):.1f}" y="12" font-size="11" fill="#222">{escape(reference_label)}</text>')
    return _svg(y + 2, body, title)


def histogram_chart(counts: list[int], title: str) -> Markup:
    """Vertical bars of a score histogram in ten 10 % bins, counts on top, bin labels below."""
    if not counts:
        return _svg(20, ['<text x="4" y="14" font-size="11">暂无数据</text>'], title)
    height, bottom, left = 150, 28, 6
    plot = height - bottom - 14
    width = (WIDTH - 2 * left) / len(counts)
    most = max(counts) or 1
    body = [f'<line x1="{left}" y1="{height - bottom}" x2="{WIDTH - left}" y2="{height - bottom}" stroke="#999"/>']
    for i, count in enumerate(counts):
        h = plot * count / most
        x = left + i * width
        body.append(f'<rect x="{x + 2:.1f}" y="{height - bottom - h:.1f}" width="{width - 4:.1f}" height="{h:.1f}" '
                    f'fill="#3b73b9"/>')
        body.append(f'<text x="{x + width / 2:.1f}" y="{height - bottom - h - 3:.1f}" font-size="10" '
                    f'text-anchor="middle" fill="#333">{count}</text>')
        body.append(f'<text x="{x + width / 2:.1f}" y="{height - bottom + 12}" font-size="9" text-anchor="middle" '
                    f'fill="#555">{i * 10}</text>')
    body.append(f'<text x="{WIDTH / 2}" y="{height - 3}" font-size="10" text-anchor="middle" fill="#555">'
                f'得分率（%，每格 10 个百分点）</text>')
    return _svg(height, body, title)


def legend() -> Markup:
    """The heat scale's ten steps as one SVG strip with labels at 50 %, 75 % and 100 %."""
    body, left, span = [], 4, WIDTH - 8
    width = span / STEPS
    for step, (_, colour, _) in enumerate(step_colors()):
        body.append(f'<rect x="{left + step * width:.1f}" y="2" width="{width:.1f}" height="12" fill="{colour}"/>')
    for value, anchor in ((0.5, "start"), (0.75, "middle"), (1.0, "end")):
        x = left + span * (value - SCALE_LOW) / (SCALE_HIGH - SCALE_LOW)
        text = "≤50%" if value == 0.5 else f"{value:.0%}"
        body.append(f'<text x="{x:.1f}" y="27" font-size="10" text-anchor="{anchor}" fill="#333">{text}</text>')
    return _svg(30, body, "颜色表示正确率")


def stylesheet() -> str:
    """The CSS rules of the heat classes (written into quizapp/static/health.css)."""
    lines = [f".{name} {{ background: {colour}; color: {'#fff' if i in (0, 1, 2, 8, 9) else '#222'}; }}"
             for i, (name, colour, _) in enumerate(step_colors())]
    return "\n".join(lines + [".heat-none { background: #eee; color: #777; }"]) + "\n"
