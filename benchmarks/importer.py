"""How close `chatops playbooks import` gets to the hand-written playbooks, guide by guide.

    python benchmarks/importer.py [--entries]

Each guide is imported for one service of config.example.yaml. Per entry, the set of probe names and action
names of the hand-written playbook (H) is compared with the imported one (I); over a guide's entries:
recall = sum |H & I| / sum |H|, precision = sum |H & I| / sum |I|, Jaccard = sum |H & I| / sum |H | I|.
Names only: parameters, thresholds and the number of times a probe is used are not compared.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import load_config
from bot.importer import Imported, import_guide
from bot.importer.placeholders import Context
from bot.playbooks_loader import load_catalog

ROOT = Path(__file__).resolve().parents[1]
SERVICES = {
    "ai-platform": "api-gateway",
    "convergence-data-pipeline": "convergence-api",
    "imgstream": "imgstream",
    "microservices-platform": "ms-api-gateway",
    "tldr-highlight-api": "tldr-api",
}


@dataclass
class Agreement:
    guide: str
    entries: int = 0
    hand: int = 0
    imported: int = 0
    common: int = 0
    union: int = 0
    rows: list[tuple[str, set[str], set[str]]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.common / self.hand if self.hand else 1.0

    @property
    def precision(self) -> float:
        return self.common / self.imported if self.imported else 1.0

    @property
    def jaccard(self) -> float:
        return self.common / self.union if self.union else 1.0


def run_import(guide: str) -> Imported:
    """Import one bundled guide for its service of the example config."""
    config = load_config(ROOT / "config.example.yaml")
    name = SERVICES[guide]
    service = config.services[name]
    namespace = service.kubernetes.namespace if service.kubernetes else None
    ctx = Context(name, service.variables(name), namespace)
    text = (ROOT / "guides" / f"{guide}.md").read_text(encoding="utf-8")
    return import_guide(text, guide, ctx, service.team)


def names(diagnostics: list[dict[str, object]], remediations: list[dict[str, object]]) -> set[str]:
    return {f"probe:{d['probe']}" for d in diagnostics if "probe" in d} | {
        f"action:{r['action']}" for r in remediations if "action" in r
    }


def agreement(guide: str, imported: Imported | None = None) -> Agreement:
    imported = imported or run_import(guide)
    hand = {p.source.section: p for p in load_catalog(ROOT / "playbooks") if p.guide == guide}
    result = Agreement(guide)
    for draft in imported.drafts:
        playbook = hand.get(draft.section)
        if playbook is None:
            continue  # the triage playbook has no hand-written counterpart
        expected = {f"probe:{s.probe}" for s in playbook.probes} | {
            f"action:{a.action}" for a in playbook.actions
        }
        got = names(draft.data["diagnostics"], draft.data.get("remediations", []))
        result.entries += 1
        result.hand += len(expected)
        result.imported += len(got)
        result.common += len(expected & got)
        result.union += len(expected | got)
        result.rows.append((draft.id, expected, got))
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", action="store_true", help="print each entry's missing and extra names")
    args = parser.parse_args()
    print(f"{'guide':<28}{'service':<17}{'entries':>8}{'hand':>6}{'imported':>9}{'common':>7}"
          f"{'recall':>8}{'precision':>10}{'jaccard':>8}")  # fmt: skip
    total = Agreement("all")
    for guide in sorted(SERVICES):
        a = agreement(guide)
        for attr in ("entries", "hand", "imported", "common", "union"):
            setattr(total, attr, getattr(total, attr) + getattr(a, attr))
        print(f"{guide:<28}{SERVICES[guide]:<17}{a.entries:>8}{a.hand:>6}{a.imported:>9}{a.common:>7}"
              f"{a.recall:>8.0%}{a.precision:>10.0%}{a.jaccard:>8.0%}")  # fmt: skip
        if args.entries:
            for entry, expected, got in a.rows:
                missing, extra = sorted(expected - got), sorted(got - expected)
                if missing or extra:
                    print(f"    {entry}: missing {missing} extra {extra}")
    print(f"{'all':<45}{total.entries:>8}{total.hand:>6}{total.imported:>9}{total.common:>7}"
          f"{total.recall:>8.0%}{total.precision:>10.0%}{total.jaccard:>8.0%}")  # fmt: skip


if __name__ == "__main__":
    main()
