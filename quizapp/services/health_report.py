"""One unit's 体检 report (单位体检报告), for the organizer (any unit) and the unit's liaison
(their own unit only — the view checks that): the unit against the county per document and
chapter, participation, its people's results and ranks per round, its standing among units,
and its ten weakest articles with their text."""
from __future__ import annotations

from ..models import Round, Unit
from . import health_views
from .results import individual_leaderboard


def unit_report(rounds: list[Round], payload: dict, unit: Unit) -> dict:
    """Everything the unit report shows, ready for the template `liaison/report.html`."""
    meta = health_views.unit_meta(payload, unit.id) or {"registered": 0, "took_part": 0}
    results = []
    for round_ in rounds:
        ranks = payload["standings"].get(str(round_.id), {})
        people = individual_leaderboard(round_, unit_id=unit.id, sweep=False)
        ranked = [(p, 1 + sum(1 for o in people if o.rank is not None and o.rank < p.rank) if p.rank else None)
                  for p in people]
        results.append({"round": round_, "people": ranked,
                        "standing": ranks.get(str(unit.id)), "units": sum(1 for rank in ranks.values() if rank is not None)})
    articles = health_views.weakest_articles(health_views.unit_all_items(rounds, unit.id))
    by_doc = health_views.unit_vs_county(payload, unit.id, "doc")
    doc_bars = [(row["label"], row["unit"], f"本单位 {row['unit']:.0%}｜全县 {row['county']:.0%}") for row in by_doc]
    return {"unit": unit, "meta": meta, "by_doc": by_doc, "by_topic": health_views.unit_vs_county(payload, unit.id, "topic", rounds),
            "results": results, "articles": articles, "doc_bars": doc_bars}
