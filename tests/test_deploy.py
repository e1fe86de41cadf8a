"""What can be checked of the image and the Kubernetes manifests without a Docker engine or a cluster.

deploy/ is a kustomize base and two overlays (sqlite, postgres). `kustomize.render` renders them as
`kubectl apply -k` would; every rendered manifest is validated against the Kubernetes OpenAPI schemas
(kubernetes-validate, strict: unknown fields fail), and the names, ports, probes and RBAC are checked to
line up across the manifests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from conftest import ROOT
from kustomize import KustomizeError, render, strategic_merge

from handlers.cli import main

K8S_VERSION = "1.30"  # the oldest Kubernetes the manifests must apply to; kubernetes-validate ships it
DEPLOY = ROOT / "deploy"
OVERLAYS = ("sqlite", "postgres")
READ_VERBS = {"get", "list", "watch"}
LEASE = "chatops-leader"

Manifest = dict[str, Any]


@dataclass(frozen=True)
class Rendered:
    """One overlay's manifests, with lookups by kind."""

    name: str
    manifests: list[Manifest]

    def all(self, kind: str) -> list[Manifest]:
        return [m for m in self.manifests if m["kind"] == kind]

    def one(self, kind: str, name: str | None = None) -> Manifest:
        (found,) = [m for m in self.all(kind) if name is None or m["metadata"]["name"] == name]
        return found

    @property
    def deployment(self) -> Manifest:
        return self.one("Deployment", "chatops")

    @property
    def pod(self) -> Manifest:
        return self.deployment["spec"]["template"]["spec"]

    @property
    def container(self) -> Manifest:
        (container,) = [c for c in self.pod["containers"] if c["name"] == "chatops"]
        return container

    def env(self) -> dict[str, Manifest]:
        return {e["name"]: e for e in self.container.get("env", [])}


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> Rendered:
    return Rendered(request.param, render(DEPLOY / "overlays" / request.param))


@pytest.fixture
def sqlite() -> Rendered:
    return Rendered("sqlite", render(DEPLOY / "overlays" / "sqlite"))


@pytest.fixture
def postgres() -> Rendered:
    return Rendered("postgres", render(DEPLOY / "overlays" / "postgres"))


# The renderer itself, on a tiny example


def write(folder: Path, files: dict[str, Any]) -> None:
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        docs = content if isinstance(content, list) else [content]
        (folder / name).write_text(yaml.safe_dump_all(docs))


def tiny_base(folder: Path) -> None:
    container = {
        "name": "app",
        "image": "app:1",
        "args": ["serve", "--port", "3000"],
        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}],
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app", "namespace": "ns", "labels": {"app": "app"}},
        "spec": {"template": {"spec": {"containers": [container], "volumes": [{"name": "config"}]}}},
    }
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "app", "namespace": "ns"}}
    write(
        folder / "base",
        {"kustomization.yaml": {"resources": ["app.yaml"]}, "app.yaml": [deployment, account]},
    )


def test_the_renderer_loads_resources_recursively_and_merges_patches(tmp_path: Path) -> None:
    tiny_base(tmp_path)
    patch = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app", "namespace": "ns", "labels": None},
        "spec": {
            "replicas": 2,
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "args": ["worker"],
                            "env": [{"name": "B", "value": "two"}, {"name": "C", "value": "3"}],
                            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                        },
                        {"name": "sidecar", "image": "proxy:1"},
                    ],
                    "volumes": [{"name": "data", "emptyDir": {}}],
                }
            },
        },
    }
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "c", "namespace": "ns"},
    }
    kustomization = {"resources": ["../../base", "claim.yaml"], "patches": [{"path": "patch.yaml"}]}
    write(
        tmp_path / "overlays" / "x",
        {"kustomization.yaml": kustomization, "patch.yaml": patch, "claim.yaml": claim},
    )

    deployment, account, rendered_claim = render(tmp_path / "overlays" / "x")
    assert account["kind"] == "ServiceAccount" and rendered_claim == claim
    assert "labels" not in deployment["metadata"]  # null deletes a key
    assert deployment["spec"]["replicas"] == 2
    app, sidecar = deployment["spec"]["template"]["spec"]["containers"]  # merged by name, new ones appended
    assert sidecar == {"name": "sidecar", "image": "proxy:1"}
    assert app["image"] == "app:1" and app["args"] == ["worker"]  # plain lists are replaced
    assert app["env"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "two"},
        {"name": "C", "value": "3"},
    ]
    assert [m["mountPath"] for m in app["volumeMounts"]] == ["/etc/app", "/data"]
    assert [v["name"] for v in deployment["spec"]["template"]["spec"]["volumes"]] == ["config", "data"]


@pytest.mark.parametrize(
    ("kustomization", "patch", "error"),
    [
        (
            {"resources": ["../base"], "configMapGenerator": []},
            None,
            "does not support: ['configMapGenerator']",
        ),
        ({"resources": ["../base"], "patches": [{"path": "p.yaml", "target": {}}]}, {}, "only `- path"),
        (
            {"resources": ["../base"], "patches": [{"path": "p.yaml"}]},
            {"metadata": {"name": "nope"}},
            "matches 0",
        ),
        ({"resources": ["../base"], "patches": [{"path": "p.yaml"}]}, {"$patch": "delete"}, "$patch"),
        ({"resources": ["../base", "../base/app.yaml"]}, None, "listed twice"),
        ({"resources": ["missing.yaml"]}, None, "does not exist"),
    ],
)
def test_the_renderer_refuses_what_it_cannot_render_faithfully(
    tmp_path: Path, kustomization: Manifest, patch: Manifest | None, error: str
) -> None:
    tiny_base(tmp_path)
    files: dict[str, Any] = {"kustomization.yaml": kustomization}
    if patch is not None:
        files["p.yaml"] = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "app", "namespace": "ns"},
        } | patch
    write(tmp_path / "overlay", files)
    with pytest.raises(KustomizeError, match=re.escape(error)):
        render(tmp_path / "overlay")


def test_a_list_item_without_its_merge_key_is_refused() -> None:
    with pytest.raises(KustomizeError, match="no merge key containerPort"):
        strategic_merge({"ports": [{"containerPort": 1}]}, {"ports": [{"port": 80}]})


# The schemas


def test_every_rendered_manifest_validates_against_the_kubernetes_schemas(overlay: Rendered) -> None:
    for manifest in overlay.manifests:
        try:
            kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as err:
            where = ".".join(str(p) for p in err.path)
            pytest.fail(
                f"{overlay.name}: {manifest['kind']}/{manifest['metadata']['name']}: {where}: {err.message}"
            )


def test_each_overlay_renders_the_whole_base_and_what_it_adds(sqlite: Rendered, postgres: Rendered) -> None:
    base = {(m["kind"], m["metadata"]["name"]) for m in render(DEPLOY / "base")}
    assert {("Namespace", "chatops"), ("ServiceAccount", "chatops-bot"), ("Deployment", "chatops"),
            ("Service", "chatops"), ("ClusterRole", "chatops-diagnostics"), ("Role", "chatops-actions")} <= base  # fmt: skip
    kinds = {name: {(m["kind"], m["metadata"]["name"]) for m in o.manifests} for name, o in
             (("sqlite", sqlite), ("postgres", postgres))}  # fmt: skip
    assert kinds["sqlite"] - base == {("PersistentVolumeClaim", "chatops-store")}
    assert kinds["postgres"] - base == {("PodDisruptionBudget", "chatops"),
                                        ("Role", "chatops-leader-election"),
                                        ("RoleBinding", "chatops-leader-election")}  # fmt: skip


def test_every_namespaced_manifest_names_its_namespace(overlay: Rendered) -> None:
    # The kustomizations set no `namespace:`, so a manifest without one would land in `default`.
    cluster_scoped = {"Namespace", "ClusterRole", "ClusterRoleBinding"}
    for manifest in overlay.manifests:
        namespace = manifest["metadata"].get("namespace")
        assert (namespace is None) == (manifest["kind"] in cluster_scoped), manifest["metadata"]
    bot_side = [m for m in overlay.manifests if m["kind"] not in {"Role", "RoleBinding"} | cluster_scoped]
    assert {m["metadata"]["namespace"] for m in bot_side} == {overlay.one("Namespace")["metadata"]["name"]}


# Names, ports and probes


def test_the_deployment_command_is_one_the_cli_accepts(overlay: Rendered) -> None:
    with pytest.raises(SystemExit) as done:  # argparse prints help and exits 0 for a command it knows
        main([*overlay.container["args"], "--help"])
    assert done.value.code == 0
    assert overlay.container["image"] == "ghcr.io/your-org/incident-chatops:latest"


def test_the_service_reaches_the_pods_on_a_named_port_that_the_probes_use(overlay: Rendered) -> None:
    deployment, service = overlay.deployment, overlay.one("Service", "chatops")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["spec"]["selector"].items() <= labels.items()
    ports = {p["name"]: p["containerPort"] for p in overlay.container["ports"]}
    (service_port,) = service["spec"]["ports"]
    assert service_port["port"] == 80 and service_port["targetPort"] in ports
    args = overlay.container["args"]
    assert ports[service_port["targetPort"]] == int(args[args.index("--port") + 1])  # the app listens there
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        assert overlay.container[probe]["httpGet"] == {"path": path, "port": service_port["targetPort"]}
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true" and annotations["prometheus.io/path"] == "/metrics"
    assert int(annotations["prometheus.io/port"]) == ports[service_port["targetPort"]]


def test_every_mounted_volume_exists_and_the_config_is_where_the_args_read_it(overlay: Rendered) -> None:
    volumes = {v["name"]: v for v in overlay.pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in overlay.container["volumeMounts"]}
    assert set(mounts.values()) == set(volumes), "every mount has a volume and every volume is mounted"
    assert volumes[mounts["/etc/chatops"]]["configMap"] == {"name": "chatops-config"}
    args = overlay.container["args"]
    assert Path(args[args.index("--config") + 1]).parent == Path("/etc/chatops")
    assert "emptyDir" in volumes[mounts["/tmp"]]  # the only writable place on the read-only root


def test_secrets_come_from_the_environment(overlay: Rendered) -> None:
    sources = [s["secretRef"] for s in overlay.container["envFrom"]]
    assert {"name": "chatops-slack"} in sources  # required: no Slack, no bot
    assert {"name": "chatops-pagerduty", "optional": True} in sources
    header = (DEPLOY / "overlays" / overlay.name / "kustomization.yaml").read_text()
    assert f"kubectl apply -k deploy/overlays/{overlay.name}" in header
    for name in (
        "chatops-slack",
        "chatops-pagerduty",
        "chatops-config",
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
    ):
        assert name in header, f"the {overlay.name} kustomization says how to create {name}"


def test_the_pod_runs_as_the_images_user_on_a_read_only_root(overlay: Rendered) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    (uid,) = re.findall(r"useradd .*--uid (\d+)", dockerfile)
    security = overlay.pod["securityContext"]
    assert security["runAsNonRoot"] is True and security["runAsUser"] == int(uid)
    container_security = overlay.container["securityContext"]
    assert container_security["readOnlyRootFilesystem"] is True
    assert container_security["allowPrivilegeEscalation"] is False
    assert overlay.container["resources"]["limits"]["memory"]


# RBAC


def test_the_pods_service_account_is_the_subject_of_every_binding(overlay: Rendered) -> None:
    account = overlay.one("ServiceAccount")
    assert overlay.pod["serviceAccountName"] == account["metadata"]["name"]
    expected = {"kind": "ServiceAccount", **{k: account["metadata"][k] for k in ("name", "namespace")}}
    bindings = overlay.all("ClusterRoleBinding") + overlay.all("RoleBinding")
    assert bindings
    for binding in bindings:
        assert binding["subjects"] == [expected], binding["metadata"]["name"]


def test_every_binding_references_a_role_that_exists(overlay: Rendered) -> None:
    for binding in overlay.all("ClusterRoleBinding") + overlay.all("RoleBinding"):
        ref = binding["roleRef"]
        role = overlay.one(ref["kind"], ref["name"])
        assert ref["apiGroup"] == "rbac.authorization.k8s.io"
        if ref["kind"] == "Role":  # a RoleBinding can only use a Role of its own namespace
            assert role["metadata"]["namespace"] == binding["metadata"]["namespace"]


def grants(role: Manifest) -> set[tuple[str, str, str]]:
    """(apiGroup, resource, verb) for every combination the role's rules allow."""
    return {(g, r, v) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"]
            for v in rule["verbs"]}  # fmt: skip


def test_diagnostics_only_read_never_secrets_and_still_read_what_the_probes_need(overlay: Rendered) -> None:
    diagnostics = overlay.one("ClusterRole", "chatops-diagnostics")
    allowed = grants(diagnostics)
    assert {verb for _, _, verb in allowed} <= READ_VERBS
    assert not {r for _, r, _ in allowed} & {"secrets", "*"} and "*" not in {g for g, _, _ in allowed}
    needed = {
        "": ["pods", "pods/log", "events", "services", "endpoints", "configmaps", "nodes"],
        "apps": ["deployments", "replicasets"],
        "autoscaling": ["horizontalpodautoscalers"],
        "networking.k8s.io": ["networkpolicies", "ingresses"],
        "cert-manager.io": ["certificates"],
    }
    for group, resources in needed.items():
        for resource in resources:
            assert {(group, resource, verb) for verb in READ_VERBS} <= allowed, (group, resource)
    assert {("metrics.k8s.io", r, v) for r in ("pods", "nodes") for v in ("get", "list")} <= allowed


def test_actions_are_a_separate_narrow_role(overlay: Rendered) -> None:
    actions = overlay.one("Role", "chatops-actions")
    allowed = grants(actions)
    assert actions["metadata"]["namespace"] != "chatops"  # where the services run, not the bot
    assert "*" not in {x for grant in allowed for x in grant} and "secrets" not in {r for _, r, _ in allowed}
    assert {("apps", "deployments", "patch"), ("apps", "deployments/scale", "get"),
            ("apps", "deployments/scale", "update"), ("", "pods", "delete")} <= allowed  # fmt: skip
    assert {r for _, r, _ in allowed} <= {"deployments", "deployments/scale", "pods"}


# The two overlays


def test_sqlite_is_one_replica_recreated_on_its_volume(sqlite: Rendered) -> None:
    spec = sqlite.deployment["spec"]
    assert spec["replicas"] == 1 and spec["strategy"] == {"type": "Recreate"}
    claim = sqlite.one("PersistentVolumeClaim")
    volumes = {v["name"]: v for v in sqlite.pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in sqlite.container["volumeMounts"]}
    assert volumes[mounts["/data"]]["persistentVolumeClaim"] == {"claimName": claim["metadata"]["name"]}
    url = sqlite.env()["CHATOPS_STORE_URL"]["value"]
    assert url == "sqlite:////data/chatops.db" and url.removeprefix("sqlite:///").startswith("/data/")
    assert "LEASE" not in " ".join(sqlite.env())


def test_postgres_is_two_replicas_rolled_one_at_a_time_on_different_nodes(postgres: Rendered) -> None:
    spec = postgres.deployment["spec"]
    assert spec["replicas"] == 2
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
    }
    assert not postgres.all("PersistentVolumeClaim")
    assert not [v for v in postgres.pod["volumes"] if "persistentVolumeClaim" in v]
    labels = spec["template"]["metadata"]["labels"]
    (term,) = postgres.pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert term["podAffinityTerm"]["labelSelector"]["matchLabels"].items() <= labels.items()
    budget = postgres.one("PodDisruptionBudget")
    assert budget["spec"]["minAvailable"] == 1 < spec["replicas"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert budget["metadata"]["namespace"] == postgres.deployment["metadata"]["namespace"]


def test_postgres_reads_its_store_url_and_identity_from_the_cluster(postgres: Rendered) -> None:
    env = postgres.env()
    assert env["CHATOPS_STORE_URL"]["valueFrom"] == {
        "secretKeyRef": {"name": "chatops-postgres", "key": "url"}
    }
    assert env["POD_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert env["POD_NAMESPACE"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    assert env["CHATOPS_LEASE_NAME"]["value"] == LEASE
    header = (DEPLOY / "overlays" / "postgres" / "kustomization.yaml").read_text()
    assert "chatops-postgres" in header and "postgresql://" in header


def test_the_lease_role_touches_only_the_chatops_leader_lease(postgres: Rendered) -> None:
    role = postgres.one("Role", "chatops-leader-election")
    assert role["metadata"]["namespace"] == postgres.deployment["metadata"]["namespace"]
    for rule in role["rules"]:
        assert rule["apiGroups"] == ["coordination.k8s.io"] and rule["resources"] == ["leases"]
        if rule["verbs"] == ["create"]:  # create cannot be narrowed by name (see the comment in the YAML)
            assert "resourceNames" not in rule
        else:
            assert rule["resourceNames"] == [LEASE] and set(rule["verbs"]) == {"get", "update", "patch"}
    assert ("coordination.k8s.io", "leases", "create") in grants(role)
    assert "resourceNames" in (DEPLOY / "overlays" / "postgres" / "rbac-leader-election.yaml").read_text()


# The image


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
        assert re.search(rf"^COPY .*\b{re.escape(path)}\b", "\n".join(lines), re.M), path


def test_the_image_exposes_the_port_the_pod_declares(overlay: Rendered) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    (exposed,) = re.findall(r"^EXPOSE (\d+)$", dockerfile, re.M)
    assert int(exposed) in {p["containerPort"] for p in overlay.container["ports"]}
