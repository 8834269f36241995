"""`quizapp run`: the server of the live 决赛's WebSockets (and of the pages: the demo serves
everything from this one process; production serves /socket.io from it, pages from gunicorn,
docs/deploy.md).

Mode gevent (the default when gevent is installed): one greenlet per connection, with
simple-websocket as the WebSocket layer. A step reaches 500 big screens as 500 socket writes
in one thread, one after another, instead of waking 500 writer threads that queue for the GIL
(measured in benchmarks/RESULTS.md section 7). The standard library is monkey-patched before
the app is loaded, so the Redis message queue, the database drivers' sockets and the final's
locks cooperate with the greenlets. Mode threading (werkzeug, a thread per connection) is kept
for a machine without gevent.
"""
from __future__ import annotations

import os
import sys

import click
from flask.cli import ScriptInfo


def _gevent_available() -> bool:
    try:
        import gevent  # noqa: F401
    except ImportError:
        return False
    return True


@click.command("run", help="启动服务（网页与现场决赛的实时连接，单进程；生产部署见 docs/deploy.md）")
@click.option("--host", "-h", default="127.0.0.1", show_default=True, help="监听地址")
@click.option("--port", "-p", default=5000, show_default=True, type=int, help="端口")
@click.option("--mode", type=click.Choice(["gevent", "threading"]), default=None,
              help="实时连接的并发方式（默认：已安装 gevent 时用 gevent）")
@click.option("--debug/--no-debug", default=False, help="调试模式（自动重载）")
@click.pass_context
def run_command(ctx, host: str, port: int, mode: str | None, debug: bool):
    mode = mode or ("gevent" if _gevent_available() else "threading")
    if mode == "gevent":
        if not _gevent_available():
            raise click.ClickException("未安装 gevent：请安装（pip install gevent）或使用 --mode threading")
        import warnings

        from gevent import monkey

        # Before the app (and its database, Redis and threading imports) is loaded; nothing has
        # started a thread yet. ssl was imported already (by flask itself), which gevent warns
        # about: only modules that copied names out of ssl (aiohttp, redis.asyncio: not used by
        # this server) keep unpatched ones; this process's Redis and database connections are
        # plain sockets, and libpq's TLS is C code that patching does not touch.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=monkey.MonkeyPatchWarning)
            monkey.patch_all()
    os.environ["QUIZAPP_SOCKET_MODE"] = mode
    from ..extensions import socketio

    app = ctx.ensure_object(ScriptInfo).load_app()
    # FlaskGroup marks the process as "run from the CLI", and app.run() (which socketio.run
    # calls in threading mode) then returns at once; this command is the server itself.
    os.environ.pop("FLASK_RUN_FROM_CLI", None)
    extra = {}
    if mode == "threading":
        # A thread waiting for the GIL (a press just read from its socket) gets it within 0.5 ms
        # instead of the default 5 ms, which is the gap between two presses that must be ordered.
        sys.setswitchinterval(0.0005)
        extra["allow_unsafe_werkzeug"] = True
    click.echo(f"服务地址：http://{host}:{port}/（{mode}，按 Ctrl+C 停止）")
    socketio.run(app, host=host, port=port, debug=debug, use_reloader=debug, log_output=debug, **extra)
