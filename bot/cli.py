"""The `chatops` command line: playbooks, matching, diagnostics and config checks.

Only this module turns errors into exit codes: 0 success, 1 problems found (lint), 2 bad input or config.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from bot import terminal
from bot.audit_cli import add_audit_command
from bot.config import Config, load_config
from bot.errors import ChatOpsError, ProblemsError, UnknownNameError
from bot.escalation_check import add_escalation_command
from bot.importer.cli import add_import_command
from bot.incident_cli import add_incident_commands
from bot.matcher import Matcher
from bot.playbooks_loader import Catalog, default_dir, lint, load_catalog
from bot.probes.base import Clients
from bot.settings import Settings, cache_dir
from bot.store.cli import add_store_commands
from bot.store.retention import add_prune_command


@dataclass
class App:
    """What a command needs, loaded on first use so `lint` works without a config."""

    config_arg: str | None
    playbooks_arg: str | None

    @cached_property
    def catalog(self) -> Catalog:
        return load_catalog(Path(self.playbooks_arg) if self.playbooks_arg else None, cache_dir())

    @cached_property
    def settings(self) -> Settings:
        """The config file and the environment, read once (here, at start-up)."""
        return Settings.load(self.config_arg, self.playbooks_arg, guides=self.catalog.guides())

    @property
    def config(self) -> Config:
        return self.settings.config

    @cached_property
    def matcher(self) -> Matcher:
        return Matcher(self.catalog, self.config.guide_hints())

    def guide_of(self, service: str | None) -> tuple[str | None, str | None]:
        """The canonical service name and its guide (None, None without a service)."""
        if not service:
            return None, None
        name, entry = self.config.service(service)
        return name, entry.guide


def scenario_names() -> list[str]:
    """The sandbox's scenarios, read from its folder without importing it (`chatops serve` never loads it)."""
    spec = importlib.util.find_spec("sandbox")
    folders = list(spec.submodule_search_locations or []) if spec else []
    return sorted(p.stem for folder in folders for p in Path(folder, "scenarios").glob("*.yaml"))


def cmd_playbooks_list(app: App, args: argparse.Namespace) -> int:
    rows = [p for p in app.catalog if not args.guide or p.guide == args.guide]
    if args.json:
        print(
            json.dumps(
                [{"id": p.id, "title": p.title, "guide": p.guide, "section": p.source.section} for p in rows],
                indent=2,
            )
        )
        return 0
    width = max((len(p.id) for p in rows), default=0)
    for p in rows:
        print(f"{p.id:<{width}}  {p.severity.default}  {p.title}")
    print(f"\n{len(rows)} playbooks from {len({p.guide for p in rows})} guides")
    return 0


def cmd_playbooks_show(app: App, args: argparse.Namespace) -> int:
    playbook = app.catalog.get(args.id)
    values = None
    if args.service:
        name, service = app.config.service(args.service)
        values = service.variables(name)
    print(terminal.playbook_text(playbook, values))
    return 0


def cmd_playbooks_lint(app: App, args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths] or [default_dir()]
    missing = [p for p in paths if not p.exists()]
    if missing:
        print(f"chatops: no such file or folder: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    config = None
    if args.lint_config:  # also what that config leaves unable to run
        config = load_config(Path(args.lint_config), guides=app.catalog.guides())
    count, problems = lint(paths, config, Path(args.lint_config).name if args.lint_config else "")
    for problem in problems:
        print(problem)
    files_with = len({p.file for p in problems})
    print(f"{count} files checked, {files_with} with problems, {len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


def cmd_registry(kind: str) -> Callable[[App, argparse.Namespace], int]:
    def run(app: App, args: argparse.Namespace) -> int:
        print(terminal.registry_text(kind))
        return 0

    return run


def cmd_match(app: App, args: argparse.Namespace) -> int:
    service, guide = app.guide_of(args.service)
    result = app.matcher.match(" ".join(args.text), guide=guide, service=service, top=args.top)
    print(json.dumps(result.to_json(), indent=2) if args.json else terminal.match_text(result))
    return 0


def cmd_diagnose(app: App, args: argparse.Namespace) -> int:
    """Match, run the playbook's probes with live progress, then the verdict, SEV, fixes and manual steps."""
    text = " ".join(args.text)
    if args.sandbox is None:
        return diagnose(app, text, args.service, Clients.from_settings(app.settings), as_json=args.json)
    if args.sandbox not in scenario_names():
        raise ChatOpsError(f"unknown scenario '{args.sandbox}'; scenarios: {', '.join(scenario_names())}")
    from sandbox import sandboxed, simulation  # the simulated cluster and Cloud Run, only when asked for

    with simulation(args.sandbox) as simulated:
        services = {name: sandboxed(service) for name, service in app.config.services.items()}
        config = app.config.model_copy(update={"services": services})
        return diagnose(app, text, args.service, simulated.clients(), as_json=args.json, config=config)


def diagnose(
    app: App,
    text: str,
    service_arg: str | None,
    clients: Clients,
    *,
    as_json: bool,
    config: Config | None = None,
) -> int:
    """The incident flow Slack runs, at the terminal: no thread, no buttons, the same checks and verdict."""
    from bot.incident.flows import IncidentFlows  # the flows, the runner and a store: only to diagnose
    from bot.incident.requests import Asker, DiagnoseRequest
    from bot.runner import Runner
    from bot.store import open_store
    from bot.terminal_view import TerminalView

    config = config or app.config
    first, _, rest = text.partition(" ")
    if service_arg is None and rest.strip():
        with contextlib.suppress(UnknownNameError):  # `chatops diagnose api-gateway 504s`, as after /diagnose
            service_arg, text = config.service(first)[0], rest.strip()
    service = config.service(service_arg)[0] if service_arg else config.find_service_in(text)
    if service is None:
        service = _only_service_for(app, config, text)
    view = TerminalView(lambda line: print(line, flush=True), as_json)
    with tempfile.TemporaryDirectory() as scratch, open_store(f"sqlite:///{scratch}/cli.db") as store:
        flows = IncidentFlows(config, app.catalog, app.matcher, store, Runner(clients))
        incident = flows.diagnose(DiagnoseRequest(Asker("cli", "terminal"), service, text), view)
        diagnosed = store.require(incident.id).playbook_id is not None
    return 0 if diagnosed else 1


def _only_service_for(app: App, config: Config, text: str) -> str:
    """No service named: the one service of the best-matching playbook's guide, or a clear question."""
    result = app.matcher.match(text)
    if result.best is None:
        print(terminal.match_text(result), file=sys.stderr)
        raise ChatOpsError("name the service with --service")
    guide = result.best.playbook.guide
    candidates = sorted(n for n, s in config.services.items() if s.guide == guide)
    if len(candidates) != 1:
        raise ChatOpsError(f"name the service with --service; for {guide}: {', '.join(candidates)}")
    return candidates[0]


def cmd_config_check(app: App, args: argparse.Namespace) -> int:
    """The file is valid (checked at start-up); then what only the whole picture shows: fixes nobody could
    approve, per-action settings for actions that do not exist."""
    config, file = app.config, str(app.settings.config_file)
    from bot.incident.approvals import (  # reads the registry
        approval_problems,
        offered_actions,
        unknown_actions,
    )

    problems = unknown_actions(config, file) + approval_problems(
        config, offered_actions(config, app.catalog), file
    )
    if problems:
        print("chatops: configuration problems:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"{file}: OK, {len(config.services)} services, {len(config.teams)} teams")
    return 0


Extend = Callable[[Any], None]  # adds subcommands (the Slack edge adds serve, socket, ...)


def build_parser(extend: Extend | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatops", description="Incident ChatOps: guides turned into diagnostics."
    )
    parser.add_argument(
        "--config", help="config file (default: $CHATOPS_CONFIG, ./chatops.yaml, or the bundled example)"
    )
    parser.add_argument("--playbooks", help="playbooks folder (default: the bundled playbooks)")
    parser.set_defaults(needs_config=True)  # validated at start-up, before any command runs
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    pb = sub.add_parser("playbooks", help="list, show and lint playbooks").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = pb.add_parser("list", help="list playbooks")
    p.add_argument("--guide")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_playbooks_list)
    p = pb.add_parser("show", help="show one playbook")
    p.add_argument("id")
    p.add_argument("--service", help="fill commands with this service's values")
    p.set_defaults(func=cmd_playbooks_show)
    p = pb.add_parser("lint", help="validate playbook files (default: the bundled ones)")
    p.add_argument("paths", nargs="*")
    p.add_argument(
        "--config", dest="lint_config", metavar="FILE", help="also report every step this config cannot run"
    )
    p.set_defaults(func=cmd_playbooks_lint, needs_config=False)
    add_import_command(pb)
    for kind, text in (("probes", "the read-only probes"), ("actions", "the approval-gated actions")):
        pb.add_parser(kind, help=f"list {text} and their parameters").set_defaults(
            func=cmd_registry(kind), needs_config=False
        )

    p = sub.add_parser("diagnose", help="match a symptom and run the playbook's read-only checks")
    p.add_argument("text", nargs="+", help="the symptom, quoted or not (as after /diagnose)")
    p.add_argument("--service", help="the service to check (default: the one named in the text)")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--sandbox",
        metavar="SCENARIO",
        help=f"check a simulated cluster and Cloud Run service instead of the real ones: {', '.join(scenario_names())}",
    )
    p.set_defaults(func=cmd_diagnose)

    p = sub.add_parser("match", help="rank playbooks for a symptom text")
    p.add_argument("text", nargs="+", help="the symptom, quoted or not")
    p.add_argument("--service", help="narrow to the guide this service follows")
    p.add_argument("--top", type=int, default=3)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_match)

    cfg = sub.add_parser("config", help="configuration").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    cfg.add_parser("check", help="validate the config file").set_defaults(func=cmd_config_check)
    add_audit_command(sub)
    add_incident_commands(sub)
    add_escalation_command(sub)
    add_store_commands(sub)

    add_prune_command(sub)
    if extend is not None:
        extend(sub)
    return parser


GLOBAL_OPTIONS = ("--config", "--playbooks")


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line, taking `--config` and `--playbooks` after the command too (`chatops serve
    --config chatops.yaml`), as people type them; a subcommand's own option of that name keeps its meaning."""
    given = list(sys.argv[1:] if argv is None else argv)
    _, extra = parser.parse_known_args(given)
    moved: list[str] = []
    while extra[:1] and extra[0].split("=", 1)[0] in GLOBAL_OPTIONS:
        take = 1 if "=" in extra[0] else 2
        moved += extra[:take]
        extra = extra[take:]
    for token in moved:
        given.remove(token)
    return parser.parse_args(moved + given)


def main(argv: Sequence[str] | None = None, extend: Extend | None = None) -> int:
    args = parse(build_parser(extend), argv)
    app = App(args.config, args.playbooks)
    try:
        if args.needs_config:
            app.settings  # noqa: B018 - load and validate now, not halfway through the command
        return int(args.func(app, args))
    except ProblemsError as err:
        kind = "configuration" if "Config" in type(err).__name__ else "playbooks"
        print(f"chatops: invalid {kind}:", file=sys.stderr)
        for problem in err.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    except ChatOpsError as err:
        print(f"chatops: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl+C ends serve, socket and shell: not an error worth a traceback
        return 130
