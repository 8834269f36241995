"""The 体检 (health check) pages of one round or several (`?rounds=3` or `?rounds=3,5`):
heatmaps, most-missed questions, the printable 学习提纲, item analysis, a unit's report and the
XLSX export. Figures come from the kept report (quizapp.services.health), computed once per
published round and again after each correction by a background job; only a unit's own
drill-down reads live. Nothing is computed inside a request: with no kept report the page is
the job's progress bar, which reloads into the report when it is done; a stale report (a
correction since) is shown with a notice while the new one is computed, since the organizer who
has just corrected a key keeps working with every figure but that question's — except the XLSX,
a file that would carry the old figures without the notice, which waits for the new report."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from flask import Response, abort, redirect, render_template, request, url_for
from flask_login import current_user

from .. import charts
from ..access import organizer_required
from ..banks.docs import doc_title
from ..extensions import db
from ..models import Round, Unit
from ..auth.forms import PostForm
from ..rules.statistics import FLAG_KEY
from ..services import ServiceError, health, health_jobs, health_views
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


@dataclass
class Loaded:
    """The kept report a page shows, the job recomputing it (shown as a notice), and the last
    recompute when it failed or hung (the notice then offers to start it again)."""

    report: object
    recompute: object = None
    problem: object = None


def load_report(rounds: list[Round], fresh: bool = False):
    """(report payload, refusal page, Loaded). The refusal is a rendered page for rounds not
    yet closed, or — when no report is kept (or, with `fresh`, it is stale) — the progress page
    of the job computing it (found or started here, never run here)."""
    try:
        kept = health_jobs.state(rounds)
        if kept.report is None or (fresh and kept.stale):
            job = kept.job
            if job is None and kept.problem is None:
                job = health_jobs.ensure(rounds, current_user.id)
            return None, _pending(rounds, kept, job), None
        job = kept.job
        if kept.stale and job is None and kept.problem is None:
            job = health_jobs.ensure(rounds, current_user.id)  # the correction's own start failed: start it now
    except ServiceError as exc:
        return None, render_template("organizer/health_unavailable.html", rounds=rounds, message=str(exc)), None
    return kept.report.payload, None, Loaded(kept.report, job, kept.problem if kept.stale else None)


def _pending(rounds, kept, job):
    from ..services import jobs as job_service

    shown = job or kept.problem
    return render_template("organizer/health_pending.html", rounds=rounds, key=health.round_key(r.id for r in rounds),
                           job=shown, status=job_service.status(shown) if shown else None,
                           failed=job is None and kept.problem is not None, stale_report=kept.report is not None,
                           form=PostForm())


def _context(rounds, loaded: Loaded, **extra):
    key = health.round_key(r.id for r in rounds)
    return dict(rounds=rounds, key=key, computed_at=loaded.report.computed_at, charts=charts,
                explanations=EXPLANATIONS, type_names=TYPE_NAMES, **recompute_notice(loaded), **extra)


def recompute_notice(loaded: Loaded) -> dict:
    """What the notice above a kept report says (health_macros.recompute_notice)."""
    from ..services import jobs as job_service

    job = loaded.recompute
    return {"stale": loaded.report.stale, "recompute": job, "problem": loaded.problem,
            "recompute_status": job_service.status(job) if job is not None else None}


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
    chapters = {**payload, "by_topic": health.kept_part(rounds, f"doc/{doc}").get("by_topic", {})}
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
    items = health.kept_part(rounds, "items").get("items", [])
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
    unit = _unit_or_404(query_int("unit"))
    payload, refusal, report = load_report(rounds)
    if refusal:
        return refusal
    doc, topic = query_str("doc"), query_str("topic")
    if unit is None:
        items = health_views.county_items(health.kept_part(rounds, "items").get("items", []), doc, topic)
    else:
        items = health_views.unit_items(rounds, unit.id, doc, topic)
    return render_template("organizer/health_missed.html", **_context(
        rounds, report, unit=unit, doc=doc, topic=topic, items=health_views.with_questions(items)))


@bp.route("/health/outline")
@organizer_required
def health_outline():
    rounds = load_rounds()
    unit = _unit_or_404(query_int("unit"))
    payload, refusal, report = load_report(rounds)
    if refusal:
        return refusal
    county = health.kept_part(rounds, "items").get("items", []) if unit is None else None
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
    unit = db.get_or_404(Unit, unit_id)  # an unknown unit is 404 whether or not the report is ready
    payload, refusal, report = load_report(rounds)
    if refusal:
        return refusal
    return render_template("liaison/report.html", **_context(rounds, report, **unit_report(rounds, payload, unit)),
                           organizer=True)


@bp.route("/health/export")
@organizer_required
def health_export():
    rounds = load_rounds()
    _, refusal, loaded = load_report(rounds, fresh=True)
    if refusal:
        return refusal
    data = report_workbook(rounds, health.with_parts(rounds, loaded.report.payload))
    name = f"体检-{'、'.join(r.name for r in rounds)}.xlsx"
    fallback = f"health-{health.round_key(r.id for r in rounds).replace(',', '-')}.xlsx"
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
    return Response(data, content_type=XLSX_TYPE, headers={"Content-Disposition": disposition})


@bp.route("/health/recompute", methods=["POST"])
@organizer_required
def health_recompute():
    """Start the 体检 computation again after a failed or hung run (a CSRF-checked POST);
    back to the page, which shows the progress."""
    rounds = load_rounds()
    form = PostForm()
    if not form.validate_on_submit():
        abort(400, "页面已过期，请刷新后重试")
    try:
        health_jobs.ensure(rounds, current_user.id)
    except ServiceError as exc:
        return render_template("organizer/health_unavailable.html", rounds=rounds, message=str(exc))
    return redirect(url_for("organizer.health_index", rounds=health.round_key(r.id for r in rounds)))
