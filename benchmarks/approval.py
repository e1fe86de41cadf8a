"""From the approving click to "verified": the rollback of the sandbox's bad deploy, approved by a second person.

    python benchmarks/approval.py [--runs 5]

Each run is a fresh local workspace (the Bolt app served over HTTP, the strict Slack stand-in, the simulated
cluster whose controller rolls pods out as Kubernetes does, with its own delays). Prints, as median (min..max):
the click's ack (HTTP answer to Slack), the fix request showing "Running" replaced, and the thread saying
"Verified" (the new pods ready on the rolled-back image).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "handlers"))  # the scenario helpers

from slack_workspace import OOM_REPORT, button, shown

from bot.playbooks_loader import load_catalog
from bot.settings import Settings
from handlers.shell.workspace import LocalWorkspace
from sandbox.slack_api import CHANNEL_ID

ROLLBACK = "Roll back the recent deployment (breaking change)"
ROOT = Path(__file__).resolve().parents[1]


def one_run(settings: Settings) -> tuple[float, float]:
    with LocalWorkspace(settings, load_catalog(), "crashloop-oom") as ws:
        ws.command(OOM_REPORT)
        ws.wait_idle()
        (root,) = ws.slack.messages(CHANNEL_ID, top_level=True)
        verdict = next(m for m in ws.slack.thread(CHANNEL_ID, root.ts) if "*Verdict:*" in shown(m))
        ws.press(button(verdict, ROLLBACK), user="U0BOB")
        ws.wait_idle()
        request = next(m for m in ws.slack.thread(CHANNEL_ID, root.ts) if "Fix request 1" in m.text)
        clicked = time.perf_counter()
        answer = ws.press(button(request, "Approve"), user="U0ALICE")
        acked = time.perf_counter() - clicked
        assert answer.status == 200
        deadline = clicked + 120
        while time.perf_counter() < deadline:
            if any("Verified" in shown(m) for m in ws.slack.thread(CHANNEL_ID, root.ts)):
                return acked, time.perf_counter() - clicked
            time.sleep(0.01)  # polling the stand-in, not a timing assertion
        raise RuntimeError("not verified within 120 s")


def figure(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} s ({min(values):.3f}..{max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    settings = Settings.load(str(ROOT / "config.example.yaml"), guides=load_catalog().guides(), env={})
    runs = [one_run(settings) for _ in range(args.runs)]
    print(f"approve -> ack:      {figure([a for a, _ in runs])}  over {args.runs} runs")
    print(
        f"approve -> verified: {figure([v for _, v in runs])}  (rollback; 3 pods replaced by the controller)"
    )


if __name__ == "__main__":
    main()
