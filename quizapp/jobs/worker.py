"""`quizapp worker`: an RQ worker with the app's context, for QUIZAPP_REDIS_URL deployments.

Why RQ: the jobs here are a few long Python functions a day (imports, drawing, exports), not a
stream of small tasks; RQ is a small, well-kept queue on the Redis the app already uses for
sign-in throttling, needs no broker of its own, and is what the Flask Mega-Tutorial shows.
Progress and results live in the database's `job` table (not in RQ), so the web pages read the
same record whether RQ or the embedded thread ran the job."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("worker")
@click.option("--queue", "queue_name", help="队列名（默认 QUIZAPP_JOBS_QUEUE，即 quizapp）")
@click.option("--burst", is_flag=True, help="处理完队列中已有的任务后退出")
@with_appcontext
def worker(queue_name, burst):
    """运行后台任务进程（RQ，需要 QUIZAPP_REDIS_URL）：导入大名单、开放大规模轮次、导出、体检。"""
    from redis import Redis
    from redis.exceptions import RedisError
    from rq import Queue, Worker

    from ..services import jobs
    from . import exports  # noqa: F401 — registers the handlers before any job arrives

    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("未设置 QUIZAPP_REDIS_URL：没有 Redis 时，任务在网页进程的后台线程中运行，不需要 worker")
    connection = Redis.from_url(url)
    try:
        connection.ping()
    except RedisError as exc:
        raise click.ClickException(f"无法连接 Redis（{url}）：{exc}") from None
    name = queue_name or current_app.config.get("JOBS_QUEUE") or "quizapp"
    jobs.mark_worker_process()
    click.echo(f"后台任务进程已启动：队列 {name}（Ctrl+C 退出）", err=True)
    Worker([Queue(name, connection=connection)], connection=connection).work(burst=burst, with_scheduler=False)
