"""The `chatops` command: the engine's commands (bot.cli) plus the Slack app's: serve, socket, shell, demo."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from waitress.server import create_server

from bot import cli
from bot.config import Secrets
from bot.errors import ChatOpsError
from handlers import workers
from handlers.app import create_app
from handlers.deps import Deps
from handlers.shell.repl import DEMO, DEMO_SCENARIO, run_shell
from handlers.socket_mode import serve_socket_mode
from handlers.web import Metrics, wsgi_app
from sandbox import scenarios


@contextmanager
def serving(app: cli.App, args: argparse.Namespace, env: dict[str, str]) -> Iterator[Deps]:
    """Deps for serve and socket, with incident work in worker processes so acks never wait behind diagnoses.
    SIGTERM (a pod stopping) ends serving like Ctrl+C: work in progress finishes, then the workers exit."""
    deps = Deps.from_env(app.config, app.catalog, env)
    deps.work = workers.pool(str(cli.config_path(app.config_arg)), app.playbooks_arg, args.workers)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        yield deps
    finally:
        deps.work.shutdown(wait=True)
        deps.store.close()


def cmd_serve(app: cli.App, args: argparse.Namespace) -> int:
    """Serve Slack's requests over HTTP (waitress, threaded) with /healthz, /readyz and /metrics."""
    env = dict(os.environ)
    secrets = Secrets.from_env(env)
    if secrets.slack_signing_secret is None:
        raise ChatOpsError("set SLACK_SIGNING_SECRET (Basic Information > Signing Secret) in the environment")
    with serving(app, args, env) as deps:
        bolt = create_app(deps, secrets.slack_signing_secret.get_secret_value())
        create_server(
            wsgi_app(bolt, deps, Metrics()), host=args.host, port=args.port, threads=args.threads
        ).run()
    return 0


def cmd_socket(app: cli.App, args: argparse.Namespace) -> int:
    """Serve Slack's requests over Socket Mode: no public endpoint; the app-level token opens the socket."""
    env = dict(os.environ)
    secrets = Secrets.from_env(env)
    if secrets.slack_app_token is None:
        raise ChatOpsError(
            "set SLACK_APP_TOKEN (Basic Information > App-Level Tokens, xapp-…) in the environment"
        )
    with serving(app, args, env) as deps:
        # Slack authenticates the socket, so its requests carry no signature to check.
        bolt = create_app(deps, signing_secret="")
        health = create_server(wsgi_app(None, deps, Metrics()), host=args.host, port=args.port, threads=2)
        threading.Thread(target=health.run, name="chatops-health", daemon=True).start()
        try:
            serve_socket_mode(
                bolt, secrets.slack_app_token.get_secret_value(), env.get("SLACK_API_URL") or None
            )
        finally:
            health.close()
    return 0


def cmd_shell(app: cli.App, args: argparse.Namespace) -> int:
    """The whole bot against a local Slack workspace: typed at the terminal, or played from a script."""
    script = args.script.read_text() if args.script else None
    lines = script.splitlines() if script is not None else None if sys.stdin.isatty() else sys.stdin
    return run_shell(app.config, app.catalog, args.sandbox, lines)


def cmd_demo(app: cli.App, args: argparse.Namespace) -> int:
    """A scripted incident, end to end, in the shell against the simulated cluster."""
    print(f"Config: {cli.config_path(app.config_arg)}; {len(app.catalog)} playbooks.")
    return run_shell(app.config, app.catalog, DEMO_SCENARIO, DEMO.splitlines())


def add_slack_commands(sub: Any) -> None:
    serve = sub.add_parser("serve", help="run the Slack app over HTTP (POST /slack/events)")
    serve.add_argument("--threads", type=int, default=16, help="threads answering Slack's requests")
    serve.set_defaults(func=cmd_serve)
    socket = sub.add_parser(
        "socket", help="run the Slack app over Socket Mode (SLACK_APP_TOKEN; no public URL)"
    )
    socket.set_defaults(func=cmd_socket)
    for parser, port_help in ((serve, "Slack's requests, health, readiness, metrics"),
                              (socket, "health, readiness and metrics only")):  # fmt: skip
        parser.add_argument("--host", default="0.0.0.0")
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")), help=port_help)
        parser.add_argument(
            "--workers", type=int, default=2, help="processes running incident work (default 2)"
        )

    p = sub.add_parser(
        "shell", help="the bot in a local Slack workspace: type /diagnose, press buttons, reply"
    )
    p.add_argument("--sandbox", nargs="?", const=DEMO_SCENARIO, metavar="SCENARIO", choices=scenarios(),
                   help=f"check a simulated cluster (default scenario {DEMO_SCENARIO}; also: "
                   f"{', '.join(s for s in scenarios() if s != DEMO_SCENARIO)})")  # fmt: skip
    p.add_argument("--script", type=Path, help="play these lines as if typed (one per line, # comments)")
    p.set_defaults(func=cmd_shell)
    sub.add_parser(
        "demo", help="a sample incident end to end: the shell against a simulated cluster"
    ).set_defaults(func=cmd_demo)


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main(argv, extend=add_slack_commands)
