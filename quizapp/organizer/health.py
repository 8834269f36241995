"""The 体检 (health check) pages of one round or several (`?rounds=3` or `?rounds=3,5`):
heatmaps, most-missed questions, the printable 学习提纲, item analysis, a unit's report and the
XLSX export. Figures come from the kept report (quizapp.services.health), computed once per
published round and again after each correction; only a unit's own drill-down reads live."""
from __future__ import annotations

from urllib.parse import quote

from flask import Response, abort, render_template, request

from .. import charts
from ..access import organizer_required
from ..banks.docs import doc_title
from ..extensions import db
from ..models import Round, Unit
from ..rules.statistics import FLAG_KEY
from ..services import ServiceError, health, health_views
from ..services.health_export import XLSX_TYPE, report_workbook
from ..services.health_report import unit_report
from ..services.health_texts import EXPLANATIONS, TYPE_NAMES
from ..validation import query_choice, query_int, query_str
from . import bp

ITEMS_PAGE = 200
UNITS_PAGE = 100  # a county of 1,500 units: one page of the heatmap stays small enough to read and to serve


def load_rounds() -> list[Round]:
    """The rounds named by ?rounds=…, all of which must exist (else 404)."""
    ids = health.parse_round_ids(request.args.get("rounds"))
    if not ids:
        abort(404)
    rounds = [db.session.get(Round, i) for i in ids]
    if any(r is None for r in rounds):
        abort(404)
    return rounds


def load_report(rounds: list[Round]):
    """(report payload, kept report) or a rendered refusal for rounds not yet closed."""
    try:
        report = health.get_report(rounds)
    except ServiceError as exc:
        return None, render_template("organizer/health_unavailable.html", rounds=rounds, message=str(exc)), None
    return report.payload, None, report


def _context(rounds, report, **extra):
    key = health.round_key(r.id for r in rounds)
    return dict(rounds=rounds, key=key, computed_at=report.computed_at, charts=charts, explanations=EXPLANATIONS,
                type_names=TYPE_NAMES, **extra)


def _page(rows: list) -> tuple[list, dict]:
    """One page of unit rows (sorted first, so a sort covers every unit) and the pager's figures."""
    pages = max(1, -(-len(rows) // UNITS_PAGE))
    page = min(query_int("page", 1), pages)
    return rows[(page - 1) * UNITS_PAGE:page * UNITS_PAGE], {"page": page, "pages": pages, "total": len(rows)}


@bp.route("/health")
@organizer_required
def health_index():
    rounds = load_rounds()
    payload, refusal, report = load_report(rounds)
    if refusal:
        return refusal
    sort, descending = query_str("sort"), query_choice("dir", ("asc", "desc"), "asc") == "desc"
    group = query_str("group")
    cols, county, rows = health_views.heatmap(payload, "doc", sort=sort, descending=descending, group=group)
    doc_bars = [(title, cell[0], f"{charts.percent(cell[0])}（{cell[1]} 题次）")
                for (_, title), cell in zip(cols, county.cells)]
    low = sorted((r for r in rows if r.registered), key=lambda r: (r.participation or 0, r.name))[:15]
    participation_bars = [(r.name, r.participation, f"{r.took_part}/{r.registered}") for r in low]
    groups = sorted({u["group"] for u in payload["units"] if u["group"]})
    rows, pager = _page(rows)
    return render_template("organizer/health.html", **_context(
        rounds, report, payload=payload, cols=cols, county=county, rows=rows, pager=pager, sort=sort,
        descending=descending,
        group=group, groups=groups, doc_bars=doc_bars, participation_bars=participation_bars, kind="doc"))


@bp.route("/health/chapters")
@organizer_required
def health_chapters():
    rounds = load_rounds()
    payload, refusal, report = load_report(rounds)
    if refusal:
        return refusal
    slugs = [d["slug"] for d in payload["docs"]]
    doc = query_choice("doc", slugs, slugs[0] if slugs else None)
    sort, descending = query_str("sort"), query_choice("dir", ("asc", "desc"), "asc") == "desc"
    group = query_str("group")
    chapters = {**payload, "by_topic": health.get_part(rounds, f"doc/{doc}").get("by_topic", {})}
    cols, county, rows = health_views.heatmap(chapters, "topic", doc=doc, sort=sort, descending=descending, group=group)
    rows, pager = _page(rows)
    return render_template("organizer/health_chapters.html", **_context(
        rounds, report, payload=payload, cols=cols, county=county, rows=rows, pager=pager, sort=sort,
        descending=descending,
        group=group, groups=[], doc=doc, doc_name=doc_title(doc) if doc else "", kind="topic"))


@bp.route("/health/items")
@organizer_required
def health_items():
    rounds = load_rounds()
    payload, refusal, report = load_report(rounds)
    if refusal:
        return refusal
    flagged = query_choice("flag", ("any", "key"))
    items = health.get_part(rounds, "items").get("items", [])
    if flagged == "any":
        items = [i for i in items if i["flags"]]
    elif flagged == "key":
        items = [i for i in items if FLAG_KEY in i["flags"]]
    pages = max(1, -(-len(items) // ITEMS_PAGE))
    page = min(query_int("page", 1), pages)
    return render_template("organizer/health_items.html", **_context(
        rounds, report, payload=payload, items=items[(page - 1) * ITEMS_PAGE:page * ITEMS_PAGE], total=len(items),
        page=page, pages=pages, flagged=flagged, flag_key=FLAG_KEY))


def _unit_or_404(unit_id: int | None) -> Unit | None:
    if unit_id is None:
        return None
    return db.get_or_404(Unit, unit_id)


@bp.route("/health/missed")
@organizer_required
def health_missed():
    rounds = load_rounds()
    payload, refusal, report = load_report(rounds)
    if refusal:
        return refusal
    unit = _unit_or_404(query_int("unit"))
    doc, topic = query_str("doc"), query_str("topic")
    if unit is None:
        items = health_views.county_items(health.get_part(rounds, "items").get("items", []), doc, topic)
    else:
        items = health_views.unit_items(rounds, unit.id, doc, topic)
    return render_template("organizer/health_missed.html", **_context(
        rounds, report, unit=unit, doc=doc, topic=topic, items=health_views.with_questions(items)))


@bp.route("/health/outline")
@organizer_required
def health_outline():
    rounds = load_rounds()
    payload, refusal, report = load_report(rounds)
    if refusal:
        return refusal
    unit = _unit_or_404(query_int("unit"))
    county = health.get_part(rounds, "items").get("items", []) if unit is None else None
    items = county if unit is None else health_views.unit_all_items(rounds, unit.id)
    articles = health_views.weakest_articles(items)
    missed = health_views.with_questions(
        [i for i in (county if unit is None else health_views.unit_items(rounds, unit.id, limit=10**6))
         if (i["doc"], i["article"]) in {(a["doc"], a["article"]) for a in articles}][:60])
    for article in articles:
        article["missed"] = [m for m in missed if (m["doc"], m["article"]) == (article["doc"], article["article"])][:3]
    return render_template("organizer/health_outline.html", **_context(rounds, report, unit=unit, articles=articles))


@bp.route("/health/units/<int:unit_id>")
@organizer_required
def health_unit(unit_id: int):
    rounds = load_rounds()
    payload, refusal, report = load_report(rounds)
    if refusal:
        return refusal
    unit = db.get_or_404(Unit, unit_id)
    return render_template("liaison/report.html", **_context(rounds, report, **unit_report(rounds, payload, unit)),
                           organizer=True)


@bp.route("/health/export")
@organizer_required
def health_export():
    rounds = load_rounds()
    _, refusal, _ = load_report(rounds)
    if refusal:
        return refusal
    data = report_workbook(rounds, health.whole_report(rounds))
    name = f"体检-{'、'.join(r.name for r in rounds)}.xlsx"
    fallback = f"health-{health.round_key(r.id for r in rounds).replace(',', '-')}.xlsx"
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
    return Response(data, content_type=XLSX_TYPE, headers={"Content-Disposition": disposition})
