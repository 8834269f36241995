"""Leaderboard exports as a job: a round of 50,000 people takes seconds to rank and write, so
above INLINE_MAX people the export page starts a job that writes the file into the instance
folder (instance/exports) and the job page offers it for download. The file is written under a
temporary name and renamed when complete: a killed export leaves no partial file behind."""
from __future__ import annotations

import os
from pathlib import Path

from flask import current_app

from ..extensions import db
from ..models import Round
from ..services import ServiceError
from ..services import results as result_service
from ..services.jobs import JobContext, handler

INLINE_MAX = 5000  # people in the round; up to here the download is made inside the request
MIMETYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "csv": "text/csv; charset=utf-8"}
LABELS = {"participant": ("个人排名", "leaderboard"), "unit": ("单位排名", "unit-leaderboard")}


def export_folder() -> Path:
    folder = Path(current_app.instance_path) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def export_path(job_id: int, fmt: str) -> Path:
    return export_folder() / f"job-{job_id}.{fmt}"


@handler("export", "导出成绩")
def run_export(ctx: JobContext) -> dict:
    round_ = db.session.get(Round, ctx.params["round_id"])
    by, fmt = ctx.params["by"], ctx.params["format"]
    if round_ is None:
        raise ServiceError("该轮次已被删除")
    if by not in LABELS or fmt not in ("xlsx", "csv"):
        raise ServiceError("导出参数无效")
    label, ascii_name = LABELS[by]
    ctx.progress(0, 0, "正在计算排名", force=True)
    headers, rows, widths = result_service.export_table(round_, by)
    total = len(rows)
    ctx.progress(0, total, "正在写入文件", force=True)

    def counted():
        for count, row in enumerate(rows, start=1):
            if count % 1000 == 0:
                ctx.progress(count, total, "正在写入文件")
            yield row

    final = export_path(ctx.job_id, fmt)
    partial = final.with_name(final.name + ".part")
    if fmt == "csv":
        result_service.write_csv(partial, headers, counted())
    else:
        result_service.write_xlsx(partial, label, headers, counted(), widths)
    os.replace(partial, final)  # atomic: the download is complete or absent
    return {"summary": f"已导出 {total} 行", "rows": total, "file": final.name, "format": fmt,
            "download_name": f"{round_.name}-{label}.{fmt}", "fallback_name": f"round-{round_.id}-{ascii_name}.{fmt}"}
