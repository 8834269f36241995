"""The audit log, viewable and exportable."""
from flask import render_template

from ..access import organizer_required
from ..services import audit
from ..validation import query_choice
from . import bp
from .results import table_download


@bp.route("/audit")
@organizer_required
def audit_log():
    action = query_choice("action", audit.ACTIONS)
    events = audit.recent(500, action)
    return render_template("organizer/audit.html", events=events, actions=audit.ACTIONS, action=action,
                           headers=audit.HEADERS, describe=audit.describe)


@bp.route("/audit/export")
@organizer_required
def audit_export():
    headers, rows, widths = audit.export_table(audit.recent(100000))
    return table_download(headers, rows, widths, "xlsx", "操作日志", "操作日志", "audit-log")
