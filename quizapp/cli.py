"""The `quizapp` command line (a FlaskGroup: `quizapp run`, `quizapp db upgrade`, …).

Every command prints one clear line and exits non-zero on failure; no tracebacks for
expected errors (bad files, missing database, refused actions).
"""
from __future__ import annotations

import functools
import sys
from pathlib import Path

import click
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError

from .config import ConfigError
from .extensions import db
from .paths import QUESTION_BANKS
from .services import ServiceError
from .services.banks import BankImportError



def friendly(command):
    """Turn expected failures into one line of Chinese and exit code 1."""
    @functools.wraps(command)
    def wrapped(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except BankImportError as exc:
            # A bank that fails lint (e.g. `quizapp demo` with edited banks): its first errors, not a traceback.
            shown = "\n".join(str(e) for e in exc.errors[:20])
            more = f"\n……另有 {len(exc.errors) - 20} 处" if len(exc.errors) > 20 else ""
            raise click.ClickException(f"题库检查未通过，未导入：\n{shown}{more}") from None
        except (ServiceError, ValueError, FileNotFoundError) as exc:
            raise click.ClickException(str(exc)) from None
        except (OperationalError, ProgrammingError) as exc:
            db.session.rollback()
            if "no such table" in str(exc) or "does not exist" in str(exc):
                raise click.ClickException("数据库尚未初始化：请先运行 quizapp db upgrade") from None
            raise click.ClickException(f"数据库错误：{exc.orig}") from None
    return wrapped


class Progress:
    """A one-line counter on stderr for long work (imports, simulation, exports)."""

    def __init__(self, label: str):
        self.label = label

    def __call__(self, done: int, total: int) -> None:
        if done == total or done % 100 == 0:
            click.echo(f"\r{self.label}：{done}/{total}", nl=done == total, err=True)


class ProgressBar:
    """A progress bar on stderr for a job run by the CLI: `[#####-----]  45% 21600/48000 message`."""

    WIDTH = 30

    def __init__(self, label: str):
        self.label, self.shown = label, None

    def __call__(self, done: int, total: int, message: str = "") -> None:
        percent = int(100 * done / total) if total else 0
        filled = self.WIDTH * percent // 100
        line = f"\r{self.label} [{'#' * filled}{'-' * (self.WIDTH - filled)}] {percent:3d}% {done}/{total} {message}"
        if line != self.shown:
            click.echo(line.ljust(len(self.shown or "")), nl=False, err=True)
            self.shown = line

    def close(self) -> None:
        if self.shown:
            click.echo("", err=True)


bank_group = click.Group("bank", help="题库：检查、导入、统计")
roster_group = click.Group("roster", help="参赛人员名单")
export_group = click.Group("export", help="导出成绩")


@bank_group.command("lint")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--sources", type=click.Path(exists=True, file_okay=False), help="原文目录（含 index.json），用于核对出处")
@friendly
def bank_lint(paths, sources):
    """检查题库文件：格式、重复、以及（给出 --sources 时）出处是否逐字见于所引条文。"""
    from .banks.lint import lint_paths
    from .banks.sources import load_sources

    files, errors = lint_paths(paths, load_sources(sources) if sources else None)
    for error in errors:
        click.echo(str(error))
    count = sum(len(f.questions) for f in files)
    if errors:
        raise click.ClickException(f"{len(files)} 个文件，{count} 道题可读取，发现 {len(errors)} 处错误")
    click.echo(f"通过：{len(files)} 个文件，{count} 道题")


@bank_group.command("stats")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--sources", type=click.Path(exists=True, file_okay=False), help="原文目录：列出没有题目的条文")
@friendly
def bank_stats(paths, sources):
    """按文件和版本统计：各章各题型题数、难度、没有题目的条文、答案字母分布。"""
    from .banks.lint import lint_paths
    from .banks.sources import load_sources
    from .banks.stats import editions, format_edition

    files, errors = lint_paths(paths or [str(QUESTION_BANKS)])
    docs = load_sources(sources) if sources else None
    for edition in editions(files):
        for line in format_edition(edition, docs):
            click.echo(line)
        click.echo("")
    click.echo(f"合计：{len(files)} 个题库，{sum(len(f.questions) for f in files)} 道题")
    if errors:
        raise click.ClickException(f"有 {len(errors)} 处错误，统计只含可读取的题目；请运行 quizapp bank lint")


@bank_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--sources", type=click.Path(exists=True, file_okay=False), help="原文目录，导入前核对出处")
@with_appcontext
@friendly
def bank_import(paths, sources):
    """导入题库（全部通过检查才写入，一次事务）。"""
    from .banks.sources import load_sources
    from .services.banks import BankImportError, import_banks

    try:
        report = import_banks(paths, load_sources(sources) if sources else None, progress=Progress("导入题目"))
    except BankImportError as exc:
        for error in exc.errors:
            click.echo(str(error), err=True)
        raise click.ClickException(str(exc)) from None
    click.echo(f"已导入题库 {', '.join(report.banks)}：新增 {report.added}，更新 {report.changed}，未变 {report.unchanged}")


@roster_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--passwords", "passwords_file", default="passwords.csv", show_default=True,
              help="生成的初始密码写入此文件（供打印准考证）")
@click.option("--number-prefix", default="KS", show_default=True,
              help="名单没有准考证号列时：系统编号的前缀（字母、数字、连字符）")
@click.option("--number-width", default=4, show_default=True, type=click.IntRange(3, 8),
              help="系统编号的序号位数（接在已有的最大编号之后）")
@click.option("--no-create-units", is_flag=True, help="名单中的单位必须已存在，否则报错")
@with_appcontext
@friendly
def roster_import(file, passwords_file, number_prefix, number_width, no_create_units):
    """导入参赛人员名单（CSV UTF-8 或 XLSX；表头：姓名、单位，可选 准考证号、手机号码、分组；表头上方可有标题行）。"""
    from .jobs.roster import params
    from .services import jobs
    from .services.accounts import NumberRule, read_roster, write_passwords

    numbering = NumberRule(number_prefix, number_width)
    report = read_roster(file, create_units=not no_create_units, numbering=numbering)
    for line in report.errors:
        click.echo(line, err=True)
    if report.errors:
        raise click.ClickException(f"名单有 {len(report.errors)} 类问题，未导入任何人员")
    for line in report.warnings:
        click.echo(f"请核对：{line}", err=True)
    # The same job as the web's (one transaction, a `job` row), run here with a progress bar.
    bar = ProgressBar("导入人员")
    job, ctx = jobs.run_inline("roster_import", params(Path(file).resolve(), Path(file).name, not no_create_units,
                                                      numbering, False), Path(file).name, bar,
                                  extra={"report": report})
    bar.close()
    if job.status != "done":
        for line in (job.result or {}).get("errors", []):
            click.echo(line, err=True)
        raise click.ClickException(job.message)
    issued = ctx.extra["issued"]
    try:
        write_passwords(issued, passwords_file)
    except OSError as exc:
        raise click.ClickException(f"已导入 {len(issued)} 人，但无法写入 {passwords_file}（{exc.strerror}）："
                                   "初始密码可在网页的准考证打印页查看") from None
    click.echo(f"{job.message}，初始密码已写入 {passwords_file}")


@click.command("create-admin")
@click.option("--username", required=True)
@click.option("--name", default="管理员", show_default=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
@friendly
def create_admin(username, name, password):
    """创建组织者（管理员）账号。"""
    from .services.accounts import create_admin as create

    create(username, name, password)
    click.echo(f"已创建管理员 {username}")


@export_group.command("leaderboard")
@click.option("--round", "round_id", type=int, help="轮次 ID（默认：最近结束的、全员参加的个人赛轮次，通常是初赛）")
@click.option("--by", type=click.Choice(["unit", "participant"]), default="participant", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="xlsx", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="输出文件（默认按轮次命名）")
@with_appcontext
@friendly
def export_leaderboard(round_id, by, fmt, output):
    """导出个人或单位排名。"""
    from .models import Round
    from .services.results import export_table, write_csv, write_xlsx

    if round_id is None:
        round_ = db.session.scalar(
            select(Round).where(Round.status == "closed", Round.restricted.is_(False), Round.team_size.is_(None))
            .order_by(Round.closes_at.desc()))
        if round_ is None:
            raise ServiceError("没有已结束的全员参加的轮次，请用 --round 指定")
    else:
        round_ = db.session.get(Round, round_id)
        if round_ is None:
            raise ServiceError(f"轮次 {round_id} 不存在")
    headers, rows, widths = export_table(round_, by)
    output = output or f"{round_.name}-{'单位' if by == 'unit' else '个人'}排名.{fmt}"
    if fmt == "csv":
        write_csv(output, headers, rows)
    else:
        write_xlsx(output, "单位排名" if by == "unit" else "个人排名", headers, rows, widths)
    click.echo(f"已导出 {len(rows)} 行到 {output}")


@click.command("sweep")
@with_appcontext
@friendly
def sweep():
    """把已过截止时间、仍未交卷的试卷自动交卷并计分（可放入定时任务）。"""
    from .services.attempts import sweep_expired

    click.echo(f"自动交卷 {sweep_expired()} 份")


@click.command("demo")
@click.option("--simulate", is_flag=True, help="模拟参赛人员完成初赛，使排名有数据")
@click.option("--banks", "banks_dir", type=click.Path(exists=True, file_okay=False),
              default=str(QUESTION_BANKS), show_default=True)
@with_appcontext
@friendly
def demo(simulate, banks_dir):
    """创建演示竞赛：89 个单位、356 名参赛人员、初赛/复赛/决赛。已有数据时不重复创建。"""
    from .services.demo import seed_demo

    summary = seed_demo(Path(banks_dir), simulate=simulate, echo=click.echo)
    for line in summary:
        click.echo(line)


def _create_app():
    from . import create_app

    return create_app()


class QuizappGroup(FlaskGroup):
    """FlaskGroup whose command list (`quizapp --help`) lets a configuration error reach
    `main`, which prints it as one line; Flask's own would print the traceback and go on."""

    def list_commands(self, ctx):
        ctx.ensure_object(ScriptInfo).load_app()  # cached: the listing below reuses it
        return super().list_commands(ctx)


cli = QuizappGroup(create_app=_create_app, help="知识竞赛系统命令行")
# Added to the group, not to app.cli, so `bank lint` runs without an app or a secret key;
# the commands that need the database load the app through with_appcontext.
from .jobs.worker import worker  # noqa: E402 — `quizapp worker`

for _command in (bank_group, roster_group, export_group, create_admin, sweep, demo, worker):
    cli.add_command(_command)
from .final.serve import run_command  # noqa: E402  (replaces Flask's `run`: it serves the 决赛's sockets too)

cli.add_command(run_command)


def main() -> None:
    """Run a command; a configuration the app cannot start with (no or short secret key, a
    malformed database URL, a database that cannot be reached) is one line and exit code 2."""
    try:
        cli.main(prog_name="quizapp")
    except ConfigError as exc:
        click.echo(f"错误：{exc}", err=True)
        sys.exit(2)
    except ArgumentError as exc:
        click.echo(f"错误：QUIZAPP_DATABASE_URL 无效（{exc}）", err=True)
        sys.exit(2)
    except OperationalError as exc:
        click.echo(f"错误：无法连接数据库，请检查 QUIZAPP_DATABASE_URL 和数据库是否已启动（{str(exc.orig).splitlines()[0]}）", err=True)
        sys.exit(2)


if __name__ == "__main__":  # `python -m quizapp.cli run` (the browser test's server process)
    main()
