"""Roster import as a job: the web upload's confirm step (for files above INLINE_MAX_BYTES) and
`quizapp roster import`. The file is read and validated again in the job (someone may have
taken a number since the report); the people, their units and the audit entry are written in
the job's one final transaction, so a killed import leaves nobody imported."""
from __future__ import annotations

from pathlib import Path

from ..services import ServiceError
from ..services.accounts import NumberRule, import_roster, read_roster
from ..services.jobs import JobContext, JobRefused, handler

# Files up to this size (about 3,000 people as XLSX) are imported inside the confirm request,
# which takes well under a second; larger ones go to a job.
INLINE_MAX_BYTES = 128 * 1024


def params(path: Path, original: str, create_units: bool, numbering: NumberRule, delete_file: bool) -> dict:
    return {"path": str(path), "original": original, "create_units": create_units, "prefix": numbering.prefix,
            "width": numbering.width, "delete_file": delete_file}


@handler("roster_import", "导入名单")
def run_roster_import(ctx: JobContext) -> dict:
    """Read, validate and import the roster file (or take `ctx.extra["report"]`, the report the
    CLI has just read and shown); `ctx.extra["issued"]` keeps the generated
    passwords for an inline caller (the CLI writes them to a file). The uploaded file is
    removed once the import is committed; a failed job keeps it, so it can be run again."""
    p = ctx.params
    path = Path(p["path"])
    if not path.is_file():
        raise ServiceError("名单文件已不存在（上传的文件已失效），请重新上传")
    ctx.progress(0, 0, "正在读取并检查名单文件", force=True)
    try:
        numbering = NumberRule(p.get("prefix", "KS"), p.get("width", 4))
    except ValueError as exc:
        raise ServiceError(str(exc)) from None
    report = ctx.extra.pop("report", None) or read_roster(
        path, create_units=bool(p.get("create_units", True)), display_name=p.get("original") or path.name,
        numbering=numbering)
    if report.errors:
        raise JobRefused(f"名单有 {len(report.errors)} 类问题，未导入任何人员", {"errors": report.errors})
    total = len(report.rows)
    ctx.progress(0, total, f"检查通过：{total} 人，正在生成初始密码", force=True)

    def step(done: int, of: int) -> None:
        last = done == of
        ctx.progress(done, of, "正在写入数据库" if last else "正在生成初始密码", force=last)

    issued = import_roster(report, progress=step, commit=False)
    ctx.extra["issued"] = issued
    if p.get("delete_file"):
        ctx.after_commit.append(lambda: path.unlink(missing_ok=True))
    numbers = f"，准考证号 {report.generated} 由系统生成" if report.generated else ""
    return {"summary": f"已导入 {len(issued)} 人（新建单位 {len(report.new_units)} 个{numbers}）",
            "imported": len(issued), "new_units": len(report.new_units), "generated": report.generated,
            "warnings": report.warnings[:30]}
