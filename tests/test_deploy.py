"""What can be checked of the image and the Kubernetes manifests without a Docker engine or a cluster."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from conftest import ROOT

from handlers.cli import main


def documents() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((ROOT / "deploy" / "kubernetes.yaml").read_text()) if d]


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in documents() if d["kind"] == kind]


def test_the_image_runs_chatops_serve_as_a_non_root_user() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    assert lines[1].startswith("FROM python:3.11-slim")
    assert "USER chatops" in lines
    entrypoint = next(line for line in lines if line.startswith("ENTRYPOINT"))
    command = next(line for line in lines if line.startswith("CMD"))
    assert entrypoint == 'ENTRYPOINT ["chatops"]' and "serve" in command
    assert any(line.startswith("HEALTHCHECK") for line in lines) and "/healthz" in "\n".join(lines)
    for path in ("bot", "handlers", "sandbox", "playbooks", "pyproject.toml", "config.example.yaml"):
        assert (ROOT / path).exists(), f"the Dockerfile copies {path}"


def test_the_deployment_command_is_one_the_cli_accepts() -> None:
    (deployment,) = by_kind("Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    with pytest.raises(SystemExit) as done:  # argparse prints help and exits 0 for a command it knows
        main([*container["args"], "--help"])
    assert done.value.code == 0
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_names_line_up_across_the_manifests() -> None:
    (deployment,) = by_kind("Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (account,) = by_kind("ServiceAccount")
    assert pod["serviceAccountName"] == account["metadata"]["name"]
    (claim,) = by_kind("PersistentVolumeClaim")
    assert {"persistentVolumeClaim": {"claimName": claim["metadata"]["name"]}}.items() <= pod["volumes"][
        1
    ].items()
    (service,) = by_kind("Service")
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    for binding in by_kind("ClusterRoleBinding") + by_kind("RoleBinding"):
        assert binding["subjects"][0]["name"] == account["metadata"]["name"]


def test_diagnostics_rbac_only_reads_and_never_secrets() -> None:
    (diagnostics,) = by_kind("ClusterRole")
    for rule in diagnostics["rules"]:
        assert set(rule["verbs"]) <= {"get", "list", "watch"}
        assert "secrets" not in rule["resources"]
    (actions,) = by_kind("Role")
    assert all("secrets" not in rule["resources"] for rule in actions["rules"])
