"""The `chatops` command: the engine's commands (bot.cli) plus the Slack app's: serve, socket, shell, demo.

The Slack app (Bolt, the workers, the metrics) is imported by the commands that serve it, so the engine's
commands (`chatops match`, `lint`...) start without it."""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import cli
from bot.errors import ChatOpsError
from handlers.turns import DEFAULT_CAP, WORKER_NICE

if TYPE_CHECKING:
    from handlers.deps import Deps

DEMO_SCENARIO = "crashloop-oom"


@contextmanager
def serving(app: cli.App, args: argparse.Namespace) -> Iterator[Deps]:
    """Deps for serve and socket, with incident work in worker processes so acks never wait behind diagnoses.
    SIGTERM (a pod stopping) ends serving like Ctrl+C: work in progress finishes, then the workers exit.
    The processes count their metrics in files of one fresh folder, added up at /metrics. One reconciler per
    replica does its rounds (escalations, pages, expiries) only while the replica leads."""
    from bot.metrics import count_in, metrics
    from bot.store.retention import keep_pruning
    from handlers import workers
    from handlers.deps import Runtime, open_deps
    from handlers.reconciler import Reconciler, leadership
    from handlers.turns import SharedTurns

    with tempfile.TemporaryDirectory(prefix="chatops-metrics-") as folder:
        count_in(Path(folder))
        deps = open_deps(app.settings, app.catalog)
        metrics().set_open(deps.store.count_open())  # the workers keep it up to date from here on
        deps.workers_up = False
        deps.workers = workers.WorkerPool(app.settings, args.workers, app.catalog, SharedTurns(args.incidents), Path(folder),
                                 up=lambda: setattr(deps, "workers_up", True),
                                 failed=lambda reason: setattr(deps, "broken", reason), nice=args.worker_nice)  # fmt: skip
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        stop = threading.Event()
        threading.Thread(target=keep_pruning, args=(deps.store, app.config.store.retention, stop),
                         name="chatops-retention", daemon=True).start()  # fmt: skip
        runtime = Runtime.build(app.settings, app.catalog, deps.client, deps.store)
        reconciler = Reconciler(
            runtime, deps, leadership(app.settings), app.settings.replica.reconcile_interval_s
        ).start()
        deps.leader = reconciler.leader
        # The catalogue, the matcher's vocabulary and the clients live as long as the process: leave them out of
        # the collector's full passes, each of which otherwise walks them (10-20 ms) in the middle of an ack.
        gc.freeze()
        try:
            yield deps
        finally:
            stop.set()
            reconciler.stop()
            deps.close()


def port(app: cli.App, args: argparse.Namespace) -> int:
    return int(args.port) if args.port is not None else app.settings.port


def cmd_serve(app: cli.App, args: argparse.Namespace) -> int:
    """Serve Slack's requests over HTTP (waitress, threaded) with /healthz, /readyz and /metrics."""
    from waitress.server import create_server

    from handlers.app import create_app
    from handlers.web import wsgi_app

    secret = app.settings.secrets.require("slack_signing_secret", "Basic Information > Signing Secret")
    with serving(app, args) as deps:
        bolt = create_app(deps, secret)
        create_server(wsgi_app(bolt, deps), host=args.host, port=port(app, args), threads=args.threads).run()
    return 0


def cmd_socket(app: cli.App, args: argparse.Namespace) -> int:
    """Serve Slack's requests over Socket Mode: no public endpoint; the app-level token opens the socket."""
    from waitress.server import create_server

    from handlers.app import create_app
    from handlers.socket_mode import serve_socket_mode
    from handlers.web import wsgi_app

    token = app.settings.secrets.require("slack_app_token", "Basic Information > App-Level Tokens, xapp-…")
    with serving(app, args) as deps:
        # Slack authenticates the socket, so its requests carry no signature to check.
        bolt = create_app(deps, signing_secret="")
        health = create_server(wsgi_app(None, deps), host=args.host, port=port(app, args), threads=2)
        threading.Thread(target=health.run, name="chatops-health", daemon=True).start()
        try:
            serve_socket_mode(bolt, token, app.settings.endpoints.slack_api_url)
        finally:
            health.close()
    return 0


def cmd_shell(app: cli.App, args: argparse.Namespace) -> int:
    """The whole bot against a local Slack workspace: typed at the terminal, or played from a script."""
    from handlers.shell.repl import run_shell  # the stand-ins, only for the shell

    if args.sandbox is not None and args.sandbox not in cli.scenario_names():
        raise ChatOpsError(f"unknown scenario '{args.sandbox}'; scenarios: {', '.join(cli.scenario_names())}")
    script = args.script.read_text() if args.script else None
    lines = script.splitlines() if script is not None else None if sys.stdin.isatty() else sys.stdin
    return run_shell(app.settings, app.catalog, args.sandbox, lines)


def cmd_demo(app: cli.App, args: argparse.Namespace) -> int:
    """A scripted incident, end to end, in the shell against the simulated cluster."""
    from handlers.shell.own_guide import play_own_guide
    from handlers.shell.repl import DEMO, run_shell

    print(f"Config: {app.settings.config_file}; {len(app.catalog)} playbooks.")
    played = run_shell(app.settings, app.catalog, DEMO_SCENARIO, DEMO.splitlines())
    return played or play_own_guide(lambda text: print(text, flush=True))


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
        parser.add_argument("--port", type=int, help=f"{port_help} (default $PORT, else 3000)")
        parser.add_argument(
            "--workers", type=int, default=2, help="processes running incident work (default 2)"
        )
        parser.add_argument("--worker-nice", type=int, default=WORKER_NICE, choices=range(20), metavar="0-19",
                            help=f"how far below serving the workers run (default {WORKER_NICE}: acks first)")  # fmt: skip
        parser.add_argument("--incidents", type=int, default=DEFAULT_CAP, metavar="N",
                            help=f"incidents checked at once across the workers; past it they queue (default {DEFAULT_CAP})")  # fmt: skip

    p = sub.add_parser(
        "shell", help="the bot in a local Slack workspace: type /diagnose, press buttons, reply"
    )
    others = ", ".join(s for s in cli.scenario_names() if s != DEMO_SCENARIO)
    p.add_argument("--sandbox", nargs="?", const=DEMO_SCENARIO, metavar="SCENARIO",
                   help=f"check a simulated cluster and Cloud Run service (default scenario {DEMO_SCENARIO}; also: {others})")  # fmt: skip
    p.add_argument("--script", type=Path, help="play these lines as if typed (one per line, # comments)")
    p.set_defaults(func=cmd_shell)
    sub.add_parser(
        "demo", help="a sample incident end to end: the shell against a simulated cluster"
    ).set_defaults(func=cmd_demo)


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main(argv, extend=add_slack_commands)
