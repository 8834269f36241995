"""The audit log, viewable and exportable."""
import io

from flask import render_template, request, send_file

from ..access import organizer_required
from ..services import audit
from ..services.results import write_xlsx
from . import bp


@bp.route("/audit")
@organizer_required
def audit_log():
    action = request.args.get("action") or None
    events = audit.recent(500, action)
    return render_template("organizer/audit.html", events=events, actions=audit.ACTIONS, action=action)


@bp.route("/audit/export")
@organizer_required
def audit_export():
    headers, rows, widths = audit.export_table(audit.recent(100000))
    buffer = io.BytesIO()
    write_xlsx(buffer, "操作日志", headers, rows, widths)
    buffer.seek(0)
    return send_file(buffer, as_attachment=True, download_name="操作日志.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
