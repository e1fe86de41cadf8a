"""The k8s.* actions against the simulated API server, through the official client and a real kubeconfig:
what the preview shows, what is sent (compared with what kubectl sends), the guard against stale previews,
and what verification reports, with a manual clock so no test waits."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from kubernetes import config
from kubernetes.client import AppsV1Api, CoreV1Api

from bot.actions.base import ActionContext, ActionError, Outcome, Preview, StaleTarget, Verification
from bot.clock import ManualClock
from bot.config import Service
from bot.probes.base import Clients, ProbeContext, Skip
from bot.registry import ACTIONS, PROBES
from sandbox.kube_api import CONTEXT, NAMESPACE, FakeKubeApi

GATEWAY = Service.model_validate(
    {
        "guide": "ai-platform",
        "team": "platform",
        "kubernetes": {"context": CONTEXT, "namespace": NAMESPACE, "deployment": "api-gateway"},
    }
)
NS, NAME = NAMESPACE, "api-gateway"
DEPLOYMENT_PATH = f"/apis/apps/v1/namespaces/{NS}/deployments/{NAME}"


@dataclass
class World:
    fake: FakeKubeApi
    clock: ManualClock
    ctx: ActionContext
    apps: AppsV1Api
    core: CoreV1Api

    def preview(self, action: str, **params: Any) -> Preview:
        spec = ACTIONS[action]
        return spec.preview(self.ctx, spec.params.model_validate(params))  # type: ignore[misc]

    def execute(self, action: str, preview: Preview, **params: Any) -> Outcome:
        spec = ACTIONS[action]
        return spec.execute(self.ctx, spec.params.model_validate(params), preview)  # type: ignore[misc]

    def verify(
        self, action: str, preview: Preview, outcome: Outcome, timeout_s: float, **params: Any
    ) -> Verification:
        spec = ACTIONS[action]
        return spec.verify(self.ctx, spec.params.model_validate(params), preview, outcome, timeout_s)  # type: ignore[misc]

    def raw(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return json.loads(fn(*args, _preload_content=False, **kwargs).data)

    def deployment(self) -> dict[str, Any]:
        return self.raw(self.apps.read_namespaced_deployment, NAME, NS)  # type: ignore[no-any-return]

    def state(self) -> list[str]:
        """Everything the cluster stores, to compare before and after."""
        return [json.dumps(o, sort_keys=True) for o in self.fake.objects]

    def probe(self, name: str) -> str:
        return self.check(name)[1]

    def check(self, name: str) -> tuple[str, str]:
        """A probe's status and summary, as the thread shows them."""
        spec = PROBES[name]
        clients = Clients(kubeconfig=self.fake.kubeconfig_path)
        ctx = ProbeContext(NAME, GATEWAY, clients, time.monotonic() + 5, clock=self.clock)
        try:
            result = spec.run(ctx, spec.params())  # type: ignore[misc]
        except Skip as skip:
            return "skipped", str(skip)
        return result.status.value, result.summary


@pytest.fixture
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    """The simulated cluster of the scenario named by `indirect=True` parametrisation ("healthy" by default),
    sharing one manual clock with the action context."""
    clock = ManualClock()
    with FakeKubeApi(getattr(request, "param", "healthy"), clock=clock) as fake:
        client = config.new_client_from_config(config_file=fake.kubeconfig_path, context=CONTEXT)
        ctx = ActionContext(NAME, GATEWAY, Clients(kubeconfig=fake.kubeconfig_path), clock)
        yield World(fake, clock, ctx, AppsV1Api(client), CoreV1Api(client))


def crashloop(test: Any) -> Any:
    return pytest.mark.parametrize("world", ["crashloop-oom"], indirect=True)(test)


def sent(world: World, method: str) -> list[Any]:
    """The writes of this method that were not dry runs."""
    return [r for r in world.fake.writes() if r.method == method and r.query.get("dryRun") != "All"]


# --- kubectl rollout undo, rebuilt from kubectl's source as an independent oracle ---

SKIPPED = {  # annotationsToSkip in kubectl pkg/polymorphichelpers/rollback.go
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
}
REVISION, CHANGE_CAUSE = "deployment.kubernetes.io/revision", "kubernetes.io/change-cause"


def revision_of(rs: dict[str, Any]) -> int:
    return int(rs["metadata"]["annotations"][REVISION])


def kubectl_undo_patch(
    deployment: dict[str, Any], replica_sets: list[dict[str, Any]], to_revision: int = 0
) -> list[dict[str, Any]]:
    """DeploymentRollbacker.Rollback: deploymentRevision(), delete the hash label, compute annotations, getDeploymentPatch()
    (and the bot's change-cause)."""
    owned = [
        rs for rs in replica_sets
        if any(ref.get("controller") and ref["uid"] == deployment["metadata"]["uid"] for ref in rs["metadata"].get("ownerReferences", []))
    ]  # fmt: skip
    latest, latest_rev, previous, previous_rev = None, -1, None, -1
    chosen = None
    for rs in owned:
        v = revision_of(rs)
        if to_revision == 0:
            if latest_rev < v:
                previous, previous_rev, latest, latest_rev = latest, latest_rev, rs, v
            elif previous_rev < v:
                previous, previous_rev = rs, v
        elif to_revision == v:
            chosen = rs
    chosen = chosen if to_revision else previous
    assert chosen is not None
    template = copy.deepcopy(chosen["spec"]["template"])
    del template["metadata"]["labels"]["pod-template-hash"]
    annotations = {k: v for k, v in deployment["metadata"]["annotations"].items() if k in SKIPPED}
    annotations.update({k: v for k, v in chosen["metadata"]["annotations"].items() if k not in SKIPPED})
    # Ours, not kubectl's: the change-cause says the bot rolled back, and to which revision as which.
    to, becomes = chosen["metadata"]["annotations"][REVISION], max(revision_of(rs) for rs in owned) + 1
    cause = chosen["metadata"]["annotations"].get(CHANGE_CAUSE)
    annotations[CHANGE_CAUSE] = f"rollback by chatops to revision {to} as revision {becomes}" + (
        f": {cause}" if cause else ""
    )
    return [
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ]


@pytest.mark.parametrize(
    ("world", "to_revision"),
    [("crashloop-oom", None), ("crashloop-oom", 6), ("healthy", None)],
    indirect=["world"],
)
def test_the_rollback_patch_is_kubectls_with_our_change_cause_after_one_resource_version_test(
    world: World, to_revision: int | None
) -> None:
    deployment = world.deployment()
    replica_sets = world.raw(world.apps.list_namespaced_replica_set, NS)["items"]
    expected = kubectl_undo_patch(deployment, replica_sets, to_revision or 0)
    preview = world.preview("k8s.rollout_undo", to_revision=to_revision)
    world.execute("k8s.rollout_undo", preview, to_revision=to_revision)
    (patch,) = sent(world, "PATCH")
    assert (patch.path, patch.content_type, patch.query) == (
        DEPLOYMENT_PATH,
        "application/json-patch+json",
        {},
    )
    guard, *rest = patch.body
    assert guard == {
        "op": "test",
        "path": "/metadata/resourceVersion",
        "value": deployment["metadata"]["resourceVersion"],
    }
    assert rest == expected
    assert patch.body == preview.plan["body"]


@crashloop
def test_rollback_preview_names_the_image_revision_and_change_cause_and_changes_nothing(world: World) -> None:
    before = world.state()
    preview = world.preview("k8s.rollout_undo")
    assert [str(c) for c in preview.changes] == [
        "image ghcr.io/acme/api-gateway: 1.9.0 -> 1.8.2",
        "revision: 8 -> 7 (becomes 9)",
        "change-cause: release 1.9.0: streaming responses for /v1/chat -> "
        "rollback by chatops to revision 7 as revision 9: release 1.8.2: connection pool tuning",
        "other pod template fields: as now -> serviceAccountName, envFrom, readinessProbe",
    ]
    assert preview.target.version == world.deployment()["metadata"]["resourceVersion"]
    (dry_run,) = world.fake.writes()
    assert (dry_run.method, dry_run.query, dry_run.body) == ("PATCH", {"dryRun": "All"}, preview.plan["body"])
    assert world.state() == before


@crashloop
def test_after_the_rollback_the_pods_are_ready_and_verification_says_so(world: World) -> None:
    preview = world.preview("k8s.rollout_undo")
    outcome = world.execute("k8s.rollout_undo", preview)
    assert outcome.summary == (
        "rolled back deployment arch-separation/api-gateway "
        "(image ghcr.io/acme/api-gateway: 1.9.0 -> 1.8.2; revision: 8 -> 7 (becomes 9))"
    )
    verification = world.verify("k8s.rollout_undo", preview, outcome, timeout_s=300)
    assert (verification.status, verification.summary) == (
        "verified",
        "3/3 pods of revision 9 ready (ghcr.io/acme/api-gateway:1.8.2)",
    )
    assert world.clock.monotonic() < 300  # a few polls of the manual clock, no real waiting
    assert world.probe("k8s.pods") == "3/3 pods ready; 0 restarts"
    assert world.probe("k8s.endpoints") == "3 ready endpoints behind service api-gateway"
    # The rollback took up revision 7's old ReplicaSet: it is the change just made, not one of 6 days ago.
    assert "revision 9 rolled out 0 s ago: ghcr.io/acme/api-gateway 1.9.0 -> 1.8.2" in world.probe(
        "k8s.rollout"
    )
    assert world.probe("k8s.events") == (
        "no Warning events for api-gateway* in the last 60 min (53 more on 3 pods that are gone: BackOff, OOMKilling)"
    )


@crashloop
def test_the_bots_rollback_is_no_recent_change_to_suspect_but_a_later_rollout_is(world: World) -> None:
    assert world.check("k8s.rollout")[0] == "critical"
    preview = world.preview("k8s.rollout_undo")
    outcome = world.execute("k8s.rollout_undo", preview)
    world.verify("k8s.rollout_undo", preview, outcome, timeout_s=300)
    assert world.check("k8s.rollout") == (
        "ok",
        "3/3 available; revision 9 rolled out 0 s ago: ghcr.io/acme/api-gateway 1.9.0 -> 1.8.2 "
        "(rollback by chatops to revision 7 as revision 9: release 1.8.2: connection pool…)",
    )
    # kubectl set image: the new revision inherits the Deployment's change-cause, and is a change to suspect
    image = [{"name": "api-gateway", "image": "ghcr.io/acme/api-gateway:1.9.1"}]
    world.apps.patch_namespaced_deployment(NAME, NS, {"spec": {"template": {"spec": {"containers": image}}}})
    status, summary = world.check("k8s.rollout")
    assert status in ("warn", "critical")
    assert "revision 10 rolled out 0 s ago: ghcr.io/acme/api-gateway 1.8.2 -> 1.9.1" in summary


def test_a_paused_deployment_is_neither_rolled_back_nor_restarted(world: World) -> None:
    world.fake.get("Deployment", NAME)["spec"]["paused"] = True
    with pytest.raises(ActionError, match="you cannot rollback a paused deployment; resume it first"):
        world.preview("k8s.rollout_undo")
    with pytest.raises(ActionError, match=r"can't restart paused deployment \(run rollout resume first\)"):
        world.preview("k8s.rollout_restart")
    assert world.fake.writes() == []


def test_rolling_back_to_the_current_template_is_a_no_op(world: World) -> None:
    preview = world.preview("k8s.rollout_undo", to_revision=7)
    assert preview.no_op == "skipped rollback (current template already matches revision 7)"
    outcome = world.execute("k8s.rollout_undo", preview, to_revision=7)
    assert outcome.status == "no_op" and world.fake.writes() == []
    with pytest.raises(ActionError, match="unable to find specified revision 3 in history"):
        world.preview("k8s.rollout_undo", to_revision=3)


STALE_CASES = [
    ("k8s.rollout_undo", {}),
    ("k8s.rollout_restart", {}),
    ("k8s.scale", {"replicas": 5}),
    ("k8s.set_env", {"env": {"LOG_LEVEL": "debug"}}),
    ("k8s.set_resources", {"memory_limit": "1Gi"}),
]


@pytest.mark.parametrize(("action", "params"), STALE_CASES, ids=[c[0] for c in STALE_CASES])
def test_a_deployment_changed_since_the_preview_is_stale_and_left_alone(
    world: World, action: str, params: dict[str, Any]
) -> None:
    preview = world.preview(action, **params)
    # Someone else changes the Deployment between the approval and the click.
    world.raw(world.apps.patch_namespaced_deployment, NAME, NS, {"metadata": {"labels": {"touched": "yes"}}})
    before = world.state()
    with pytest.raises(
        StaleTarget,
        match=r"deployment arch-separation/api-gateway changed since the preview \(resourceVersion \d+ -> \d+\)",
    ):
        world.execute(action, preview, **params)
    assert world.state() == before
    assert (
        len([r for r in world.fake.writes() if r.query.get("dryRun") != "All"]) == 2
    )  # the other change, our refused one


# --- restart ---


@crashloop
def test_a_restart_of_the_bad_image_is_sent_as_kubectl_sends_it_and_times_out(world: World) -> None:
    preview = world.preview("k8s.rollout_restart")
    assert [str(c) for c in preview.changes] == [
        "pods: 3, 0 ready -> 3 new ones, same spec",
        "pod annotation kubectl.kubernetes.io/restartedAt: (none) -> 2026-01-01T09:00:00Z",
    ]
    assert preview.warnings == [
        "none of the current pods is ready (3 CrashLoopBackOff (last exit OOMKilled)): new pods of the same "
        "spec (ghcr.io/acme/api-gateway:1.9.0) will likely fail the same way"
    ]
    outcome = world.execute("k8s.rollout_restart", preview)
    (patch,) = sent(world, "PATCH")
    version = preview.target.version
    assert (patch.content_type, patch.body) == (
        "application/strategic-merge-patch+json",
        {"metadata": {"resourceVersion": version},
         "spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-01T09:00:00Z"}}}}},
    )  # fmt: skip
    verification = world.verify("k8s.rollout_restart", preview, outcome, timeout_s=300)
    assert (verification.status, verification.summary) == (
        "timed_out",
        "not done after 300 s: 0/3 new pods ready: 3 CrashLoopBackOff (last exit OOMKilled)",
    )
    assert world.clock.monotonic() == 300


def test_a_restart_replaces_every_pod_and_one_more_in_the_same_second_is_a_no_op(world: World) -> None:
    before = {p["metadata"]["name"] for p in world.raw(world.core.list_namespaced_pod, NS)["items"]}
    preview = world.preview("k8s.rollout_restart")
    outcome = world.execute("k8s.rollout_restart", preview)
    again = world.preview("k8s.rollout_restart")
    assert again.no_op == "a restart was already triggered at 2026-01-01T09:00:00Z"
    verification = world.verify("k8s.rollout_restart", preview, outcome, timeout_s=120)
    assert (verification.status, verification.summary) == (
        "verified",
        "3/3 pods of revision 8 ready (ghcr.io/acme/api-gateway:1.8.2)",
    )
    after = {p["metadata"]["name"] for p in world.raw(world.core.list_namespaced_pod, NS)["items"]}
    assert len(after) == 3 and not after & before


@crashloop
def test_a_rollout_past_its_progress_deadline_fails_verification(world: World) -> None:
    preview = world.preview("k8s.rollout_restart")
    outcome = world.execute("k8s.rollout_restart", preview)
    verification = world.verify("k8s.rollout_restart", preview, outcome, timeout_s=900)
    assert verification.status == "failed"
    assert verification.summary.startswith(
        'deployment "api-gateway" exceeded its progress deadline; 0/3 new pods ready'
    )
    assert 600 < world.clock.monotonic() < 900


# --- scale ---


def test_scale_never_reduces_replicas_unless_asked(world: World) -> None:
    preview = world.preview("k8s.scale", replicas=2)
    assert preview.no_op == (
        "not scaling down: api-gateway already has 3 replicas, more than the 2 asked (allow_scale_down is off)"
    )
    assert world.execute("k8s.scale", preview, replicas=2).status == "no_op"
    with pytest.raises(
        ActionError, match=r"2 replicas is outside HorizontalPodAutoscaler api-gateway's range \(3 to 10\)"
    ):
        world.preview("k8s.scale", replicas=2, allow_scale_down=True)
    assert world.fake.writes() == []
    world.fake.objects.remove(world.fake.get("HorizontalPodAutoscaler", NAME))
    preview = world.preview("k8s.scale", replicas=2, allow_scale_down=True)
    outcome = world.execute("k8s.scale", preview, replicas=2, allow_scale_down=True)
    verification = world.verify("k8s.scale", preview, outcome, 120, replicas=2, allow_scale_down=True)
    assert (verification.status, verification.summary) == ("verified", "2/2 replicas ready")


def test_scale_up_goes_through_the_scale_subresource_with_a_precondition(world: World) -> None:
    with pytest.raises(
        ActionError, match="12 replicas is outside HorizontalPodAutoscaler api-gateway's range"
    ):
        world.preview("k8s.scale", replicas=12)
    preview = world.preview("k8s.scale", replicas=5)
    assert [str(c) for c in preview.changes] == ["replicas: 3 -> 5"]
    assert preview.warnings == [
        "HorizontalPodAutoscaler api-gateway manages the replicas (3 to 10): it may change 5 again at its next sync"
    ]
    outcome = world.execute("k8s.scale", preview, replicas=5)
    (put,) = sent(world, "PUT")
    assert put.path == f"{DEPLOYMENT_PATH}/scale"
    assert (put.body["spec"], put.body["metadata"]["resourceVersion"]) == (
        {"replicas": 5},
        preview.target.version,
    )
    verification = world.verify("k8s.scale", preview, outcome, 120, replicas=5)
    assert (verification.status, verification.summary) == ("verified", "5/5 replicas ready")
    assert world.probe("k8s.pods") == "5/5 pods ready; 0 restarts"


@crashloop
def test_scaling_the_bad_image_up_times_out_naming_the_crash(world: World) -> None:
    world.fake.fail(403, "horizontalpodautoscalers")  # RBAC without autoscaling: said, not fatal
    preview = world.preview("k8s.scale", replicas=4)
    assert preview.warnings == [
        "could not check for a HorizontalPodAutoscaler that would override the count: horizontalpodautoscalers"
        '.autoscaling is forbidden: User "system:serviceaccount:chatops:chatops-bot" cannot list resource '
        '"horizontalpodautoscalers" in API group "autoscaling" in the namespace "arch-separation"'
    ]
    outcome = world.execute("k8s.scale", preview, replicas=4)
    verification = world.verify("k8s.scale", preview, outcome, 60, replicas=4)
    assert (verification.status, verification.summary) == (
        "timed_out",
        "not done after 60 s: 0/4 replicas ready: 4 CrashLoopBackOff (last exit OOMKilled)",
    )


# --- set env, set resources ---


def test_set_env_shows_each_variable_before_and_after_and_rolls_out(world: World) -> None:
    container = world.fake.get("Deployment", NAME)["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [
        {"name": "LOG_LEVEL", "value": "info"},
        {"name": "DB_POOL", "valueFrom": {"configMapKeyRef": {"name": "app", "key": "pool"}}},
    ]
    params = {"env": {"LOG_LEVEL": "debug", "FEATURE_X": "on", "DB_POOL": "40"}}
    preview = world.preview("k8s.set_env", **params)
    assert [str(c) for c in preview.changes] == [
        "env LOG_LEVEL: info -> debug",
        "env DB_POOL: from configmap app key pool -> 40",
        "env FEATURE_X: (not set) -> on",
    ]
    assert preview.warnings == [
        "DB_POOL in api-gateway came from configmap app key pool: it becomes a literal value in the Deployment"
    ]
    outcome = world.execute("k8s.set_env", preview, **params)
    env = world.deployment()["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [  # kubectl's updateEnv: replaced in place, new ones last
        {"name": "LOG_LEVEL", "value": "debug"},
        {"name": "DB_POOL", "value": "40"},
        {"name": "FEATURE_X", "value": "on"},
    ]
    (patch,) = sent(world, "PATCH")
    assert patch.content_type == "application/strategic-merge-patch+json"
    assert patch.body["spec"]["template"]["spec"]["$setElementOrder/containers"] == [{"name": "api-gateway"}]
    verification = world.verify("k8s.set_env", preview, outcome, 120, **params)
    assert (verification.status, verification.summary) == (
        "verified",
        "3/3 pods of revision 8 ready (ghcr.io/acme/api-gateway:1.8.2)",
    )
    assert (
        world.preview("k8s.set_env", **params).no_op
        == "LOG_LEVEL, FEATURE_X, DB_POOL already set to the values asked"
    )
    with pytest.raises(
        ValueError, match="DB_PASSWORD looks like a secret: set it from a Secret, not through chat"
    ):
        ACTIONS["k8s.set_env"].params.model_validate({"env": {"DB_PASSWORD": "hunter2"}})


def test_set_resources_previews_the_change_and_the_servers_refusal(world: World) -> None:
    preview = world.preview("k8s.set_resources", memory_limit="1Gi", memory_request="512Mi")
    assert [str(c) for c in preview.changes] == [
        "memory request: 256Mi -> 512Mi",
        "memory limit: 512Mi -> 1Gi",
    ]
    with pytest.raises(ActionError) as refused:
        world.preview("k8s.set_resources", memory_request="1Gi")
    assert str(refused.value) == (
        'the API server refuses it (dry run): Deployment.apps "api-gateway" is invalid: '
        'spec.template.spec.containers[0].resources.requests: Invalid value: "1Gi": must be less than or equal to memory limit of 512Mi'
    )
    with pytest.raises(
        ActionError, match=r"deployment api-gateway has no container 'sidecar' \(it has: api-gateway\)"
    ):
        world.preview("k8s.set_resources", container="sidecar", memory_limit="1Gi")
    assert sent(world, "PATCH") == []


# --- delete pod ---


def test_deleting_a_pod_is_guarded_by_its_uid_and_verified_by_its_replacement(world: World) -> None:
    pod = world.fake.get("Pod", "api-gateway-5f7b8c9d4-k2x7p")["metadata"]
    preview = world.preview("k8s.delete_pod", pod=pod["name"])
    assert [str(c) for c in preview.changes] == [
        "pod api-gateway-5f7b8c9d4-k2x7p: ready, 0 restarts -> deleted; ReplicaSet api-gateway-5f7b8c9d4 starts a replacement"
    ]
    outcome = world.execute("k8s.delete_pod", preview, pod=pod["name"])
    (delete,) = sent(world, "DELETE")
    assert (delete.path, delete.body) == (
        f"/api/v1/namespaces/{NS}/pods/{pod['name']}",
        {"preconditions": {"uid": pod["uid"]}},
    )
    verification = world.verify("k8s.delete_pod", preview, outcome, 60, pod=pod["name"])
    assert verification.status == "verified"
    assert verification.summary.startswith(
        "replacement pod api-gateway-5f7b8c9d4-"
    ) and verification.summary.endswith(" is ready")


@crashloop
def test_a_deleted_crashing_pod_comes_back_crashing(world: World) -> None:
    preview = world.preview("k8s.delete_pod", pod="api-gateway-7d9f6b8c5-abc12")
    outcome = world.execute("k8s.delete_pod", preview, pod="api-gateway-7d9f6b8c5-abc12")
    verification = world.verify("k8s.delete_pod", preview, outcome, 30, pod="api-gateway-7d9f6b8c5-abc12")
    assert verification.status == "timed_out"
    assert verification.summary.endswith("not ready: CrashLoopBackOff (last exit OOMKilled)")


def test_only_the_services_own_pods_can_be_deleted(world: World) -> None:
    other = {"metadata": {"name": "postgres-0", "labels": {"app": "postgres"}},
             "spec": {"containers": [{"name": "postgres", "image": "postgres:16"}]}}  # fmt: skip
    world.raw(world.core.create_namespaced_pod, NS, other)
    with pytest.raises(
        ActionError, match=r"pod postgres-0 is not one of api-gateway's pods \(selector app=api-gateway\)"
    ):
        world.preview("k8s.delete_pod", pod="postgres-0")
    preview = world.preview("k8s.delete_pod", pod="api-gateway-5f7b8c9d4-k2x7p")
    world.raw(world.core.delete_namespaced_pod, "api-gateway-5f7b8c9d4-k2x7p", NS, grace_period_seconds=0)
    with pytest.raises(StaleTarget, match="pod arch-separation/api-gateway-5f7b8c9d4-k2x7p no longer exists"):
        world.execute("k8s.delete_pod", preview, pod="api-gateway-5f7b8c9d4-k2x7p")


# --- what every action shares ---

PREVIEWS = [
    ("k8s.rollout_undo", {}),
    ("k8s.rollout_restart", {}),
    ("k8s.scale", {"replicas": 4}),
    ("k8s.set_env", {"env": {"LOG_LEVEL": "debug"}}),
    ("k8s.set_resources", {"cpu_limit": "2"}),
    ("k8s.delete_pod", {"pod": "api-gateway-5f7b8c9d4-k2x7p"}),
]


@pytest.mark.parametrize(("action", "params"), PREVIEWS, ids=[p[0] for p in PREVIEWS])
def test_a_preview_writes_nothing_but_one_dry_run(world: World, action: str, params: dict[str, Any]) -> None:
    before = world.state()
    preview = world.preview(action, **params)
    assert preview.changes and preview.no_op is None
    (dry_run,) = world.fake.writes()
    assert dry_run.query == {"dryRun": "All"}
    assert (dry_run.method, dry_run.path, dry_run.body) == (
        preview.plan["method"],
        preview.plan["path"],
        preview.plan["body"],
    )
    assert world.state() == before
    assert (
        Preview.model_validate_json(preview.model_dump_json()) == preview
    )  # it can wait in the store for approval


def test_api_failures_carry_the_api_servers_own_message(world: World) -> None:
    preview = world.preview("k8s.rollout_restart")
    world.fake.fail(403, "deployments", verb="patch")
    with pytest.raises(ActionError) as failed:
        world.execute("k8s.rollout_restart", preview)
    assert not isinstance(failed.value, StaleTarget)
    assert str(failed.value) == (
        'deployments.apps "api-gateway" is forbidden: User "system:serviceaccount:chatops:chatops-bot" cannot '
        'patch resource "deployments" in API group "apps" in the namespace "arch-separation"'
    )
    with pytest.raises(ActionError, match=r'deployments\.apps "api-gateway-v2" not found'):
        world.preview("k8s.rollout_restart", deployment="api-gateway-v2")
    plain = Service.model_validate({"guide": "ai-platform", "team": "platform"})
    ctx = ActionContext(NAME, plain, world.ctx.clients, world.clock)
    with pytest.raises(ActionError, match=r"the service has no kubernetes settings in chatops\.yaml"):
        ACTIONS["k8s.scale"].preview(ctx, ACTIONS["k8s.scale"].params.model_validate({"replicas": 4}))  # type: ignore[misc]


@crashloop
def test_diagnostics_still_only_read(world: World) -> None:
    for name in (n for n in PROBES if n.startswith("k8s.")):
        world.probe(name)
    assert world.fake.requests and world.fake.writes() == []
