"""Build playbooks and services for tests the way users write them: YAML files through the real loader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.config import Service
from bot.playbook import Playbook
from bot.playbooks_loader import load_file


def playbook(tmp_path: Path, diagnostics: list[dict[str, Any]], **extra: Any) -> Playbook:
    data = {
        "id": "demo/test-playbook",
        "title": "Test playbook",
        "summary": "Built by a test.",
        "source": {"guide": "demo", "section": "Test"},
        "symptoms": ["something is wrong"],
        "diagnostics": diagnostics,
        "severity": {"default": "SEV-3"},
        **extra,
    }
    path = tmp_path / "test-playbook.yaml"
    path.write_text(yaml.safe_dump(data))
    loaded, problems = load_file(path)
    assert loaded is not None, problems
    return loaded


def service(**fields: Any) -> Service:
    return Service.model_validate({"guide": "demo", "team": "t", **fields})
