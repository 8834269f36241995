"""`quizapp run`: the development/demo server with the live 决赛's WebSockets (Flask-SocketIO
in threading mode, werkzeug underneath). Production serves /socket.io from its own process
(docs/deploy.md); this one process serves pages and sockets together."""
from __future__ import annotations

import os
import sys

import click
from flask.cli import ScriptInfo


@click.command("run", help="启动服务（网页与现场决赛的实时连接，单进程；生产部署见 docs/deploy.md）")
@click.option("--host", "-h", default="127.0.0.1", show_default=True, help="监听地址")
@click.option("--port", "-p", default=5000, show_default=True, type=int, help="端口")
@click.option("--debug/--no-debug", default=False, help="调试模式（自动重载）")
@click.pass_context
def run_command(ctx, host: str, port: int, debug: bool):
    from ..extensions import socketio

    app = ctx.ensure_object(ScriptInfo).load_app()
    # FlaskGroup marks the process as "run from the CLI", and app.run() (which socketio.run
    # calls in threading mode) then returns at once; this command is the server itself.
    os.environ.pop("FLASK_RUN_FROM_CLI", None)
    # A thread waiting for the GIL (a press just read from its socket) gets it within 0.5 ms
    # instead of the default 5 ms, which is the gap between two presses that must be ordered.
    sys.setswitchinterval(0.0005)
    click.echo(f"服务地址：http://{host}:{port}/（按 Ctrl+C 停止）")
    socketio.run(app, host=host, port=port, debug=debug, use_reloader=debug, log_output=debug,
                 allow_unsafe_werkzeug=True)
