"""The simulated Kubernetes API server's writes, through the official client, against the API's rules:
patch content types, resourceVersion conflicts, dry runs, validation, the scale subresource, pod deletion,
the simulated rollout of Deployments, and Leases for leader election."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kubernetes import config
from kubernetes.client import (
    AppsV1Api,
    CoordinationV1Api,
    CoreV1Api,
    CustomObjectsApi,
    V1Lease,
    V1LeaseSpec,
    V1ObjectMeta,
)
from kubernetes.client.exceptions import ApiException

from bot.clock import ManualClock
from sandbox.kube_api import CONTEXT, NAMESPACE, FakeKubeApi

NS, NAME = NAMESPACE, "api-gateway"
BAD, GOOD = "ghcr.io/acme/api-gateway:1.9.0", "ghcr.io/acme/api-gateway:1.8.2"


class Cluster:
    """The fake and the official client's APIs pointed at it; every call returns the response's JSON."""

    def __init__(self, fake: FakeKubeApi) -> None:
        self.fake = fake
        client = config.new_client_from_config(config_file=fake.kubeconfig_path, context=CONTEXT)
        self.apps, self.core = AppsV1Api(client), CoreV1Api(client)
        self.leases, self.custom = CoordinationV1Api(client), CustomObjectsApi(client)

    def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        response = fn(*args, _preload_content=False, **kwargs)
        return json.loads(response.data) if response.data else None

    def deployment(self) -> dict[str, Any]:
        return self(self.apps.read_namespaced_deployment, NAME, NS)  # type: ignore[no-any-return]

    def pods(self) -> list[dict[str, Any]]:
        return self(self.core.list_namespaced_pod, NS, label_selector="app=api-gateway")["items"]  # type: ignore[no-any-return]

    def patch(self, body: Any, content_type: str | None = None, **kwargs: Any) -> dict[str, Any]:
        extra = {"_content_type": content_type} if content_type else {}
        return self(self.apps.patch_namespaced_deployment, NAME, NS, body, **extra, **kwargs)  # type: ignore[no-any-return]


def refused(call: Callable[[], Any]) -> tuple[int, dict[str, Any]]:
    """The HTTP status and Status object of a call the server refuses."""
    with pytest.raises(ApiException) as caught:
        call()
    return caught.value.status, json.loads(caught.value.body)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def cluster(request: pytest.FixtureRequest, clock: ManualClock) -> Iterator[Cluster]:
    with FakeKubeApi(getattr(request, "param", "healthy"), clock=clock) as fake:
        yield Cluster(fake)


def image_patch(image: str, version: str | None = None) -> list[dict[str, Any]]:
    ops = [{"op": "test", "path": "/metadata/resourceVersion", "value": version}] if version else []
    return [*ops, {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": image}]


def settle(cluster: Cluster, reads: int = 6) -> dict[str, Any]:
    """Let the simulated controllers take their steps (one per read) and return the Deployment."""
    for _ in range(reads):
        cluster.pods()
    return cluster.deployment()


# --- patches ---


def test_json_patch_applies_bumps_versions_and_records_the_request(cluster: Cluster) -> None:
    before = cluster.fake.get("Deployment", NAME)["metadata"]
    patched = cluster.patch(image_patch("ghcr.io/acme/api-gateway:1.8.3", before["resourceVersion"]))
    assert patched["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/acme/api-gateway:1.8.3"
    assert int(patched["metadata"]["resourceVersion"]) > int(before["resourceVersion"])
    assert patched["metadata"]["generation"] == before["generation"] + 1
    (write,) = cluster.fake.writes()
    assert (write.method, write.path, write.content_type) == (
        "PATCH",
        f"/apis/apps/v1/namespaces/{NS}/deployments/{NAME}",
        "application/json-patch+json",
    )
    assert write.body == image_patch("ghcr.io/acme/api-gateway:1.8.3", before["resourceVersion"])


def test_failed_json_patch_test_is_422_and_changes_nothing(cluster: Cluster) -> None:
    before = cluster.deployment()
    code, body = refused(lambda: cluster.patch(image_patch(BAD, "1")))
    assert (code, body["reason"], body["message"]) == (
        422,
        "Invalid",
        "the server rejected our request due to an error in our request",
    )
    assert cluster.deployment() == before


def test_json_patch_operations_follow_rfc_6902(cluster: Cluster) -> None:
    ops = [
        {"op": "add", "path": "/metadata/labels/team", "value": "platform"},
        {"op": "copy", "from": "/metadata/labels/team", "path": "/metadata/annotations/owner"},
        {"op": "move", "from": "/metadata/annotations/owner", "path": "/metadata/annotations/a~1b"},
        {"op": "remove", "path": "/spec/template/spec/containers/0/envFrom"},
        {"op": "add", "path": "/spec/template/spec/containers/0/env", "value": []},
        {"op": "add", "path": "/spec/template/spec/containers/0/env/-", "value": {"name": "A", "value": "1"}},
    ]
    patched = cluster.patch(ops)
    assert patched["metadata"]["labels"]["team"] == "platform"
    assert (
        patched["metadata"]["annotations"]["a/b"] == "platform"
        and "owner" not in patched["metadata"]["annotations"]
    )
    container = patched["spec"]["template"]["spec"]["containers"][0]
    assert "envFrom" not in container and container["env"] == [{"name": "A", "value": "1"}]
    # replace needs the target to exist (RFC 6902 4.3)
    code, _ = refused(lambda: cluster.patch([{"op": "replace", "path": "/spec/nothere", "value": 1}]))
    assert code == 422


def test_merge_patch_replaces_lists_and_null_deletes(cluster: Cluster) -> None:
    patch = {
        "metadata": {"annotations": {"kubernetes.io/change-cause": None}},
        "spec": {"template": {"spec": {"containers": [{"name": "api-gateway", "image": GOOD}]}}},
    }
    patched = cluster.patch(patch, "application/merge-patch+json")
    assert "kubernetes.io/change-cause" not in patched["metadata"]["annotations"]
    assert patched["spec"]["template"]["spec"]["containers"] == [{"name": "api-gateway", "image": GOOD}]


def test_strategic_merge_patch_merges_containers_and_env_by_name(cluster: Cluster) -> None:
    cluster.patch(
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "api-gateway",
                                "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                            }
                        ]
                    }
                }
            }
        }
    )
    patched = cluster.patch(
        {
            "spec": {
                "template": {
                    "spec": {
                        "$setElementOrder/containers": [{"name": "api-gateway"}],
                        "containers": [
                            {
                                "name": "api-gateway",
                                "$setElementOrder/env": [{"name": "C"}, {"name": "A"}],
                                "env": [{"name": "A", "$patch": "delete"}, {"name": "C", "value": "3"}],
                            }
                        ],
                    }
                }
            }
        }
    )
    container = patched["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == GOOD and container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert container["env"] == [{"name": "C", "value": "3"}, {"name": "B", "value": "2"}]
    replaced = cluster.patch({"spec": {"template": {"spec": {"containers": [
        {"name": "api-gateway", "resources": {"$patch": "replace", "limits": {"memory": "1Gi"}}}
    ]}}}})  # fmt: skip
    assert replaced["spec"]["template"]["spec"]["containers"][0]["resources"] == {"limits": {"memory": "1Gi"}}


@pytest.mark.parametrize("content_type", ["application/apply-patch+yaml", "application/json"])
def test_other_patch_content_types_are_415(cluster: Cluster, content_type: str) -> None:
    code, body = refused(lambda: cluster.patch({"spec": {"replicas": 4}}, content_type))
    assert (code, body["reason"]) == (415, "UnsupportedMediaType")


@pytest.mark.parametrize(
    "content_type", ["application/merge-patch+json", "application/strategic-merge-patch+json"]
)
def test_resource_version_in_a_patch_is_a_precondition(cluster: Cluster, content_type: str) -> None:
    version = cluster.deployment()["metadata"]["resourceVersion"]
    code, body = refused(
        lambda: cluster.patch({"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 4}}, content_type)
    )
    assert (code, body["reason"], body["message"]) == (
        409,
        "Conflict",
        'Operation cannot be fulfilled on deployments.apps "api-gateway": the object has been modified; '
        "please apply your changes to the latest version and try again",
    )
    assert (
        cluster.patch({"metadata": {"resourceVersion": version}, "spec": {"replicas": 4}}, content_type)[
            "spec"
        ]["replicas"]
        == 4
    )


# --- put, dry run, validation ---


def test_put_with_a_stale_resource_version_is_409_and_without_one_is_unconditional(cluster: Cluster) -> None:
    current = cluster.deployment()
    stale = {**current, "metadata": {**current["metadata"], "resourceVersion": "1"}}
    code, body = refused(lambda: cluster(cluster.apps.replace_namespaced_deployment, NAME, NS, stale))
    assert (code, body["reason"]) == (409, "Conflict")
    unconditional = {
        **current,
        "metadata": {k: v for k, v in current["metadata"].items() if k != "resourceVersion"},
    }
    unconditional["spec"] = {**current["spec"], "replicas": 5}
    replaced = cluster(cluster.apps.replace_namespaced_deployment, NAME, NS, unconditional)
    assert (
        replaced["spec"]["replicas"] == 5 and replaced["status"] == current["status"]
    )  # status is not writable here
    renamed = {**current, "metadata": {**current["metadata"], "name": "other"}}
    assert refused(lambda: cluster(cluster.apps.replace_namespaced_deployment, NAME, NS, renamed))[0] == 400


def test_dry_run_answers_what_would_be_stored_and_changes_nothing(cluster: Cluster) -> None:
    before = [json.dumps(o, sort_keys=True) for o in cluster.fake.objects]
    answered = cluster.patch(image_patch(BAD), dry_run="All")
    assert answered["spec"]["template"]["spec"]["containers"][0]["image"] == BAD
    assert answered["metadata"]["generation"] == 8
    pod = cluster.pods()[0]["metadata"]["name"]
    deleted = cluster(cluster.core.delete_namespaced_pod, pod, NS, dry_run="All")
    assert deleted["metadata"]["deletionTimestamp"]
    lease = {"metadata": {"name": "chatops-leader"}, "spec": {"holderIdentity": "bot-1"}}
    assert cluster(cluster.leases.create_namespaced_lease, NS, lease, dry_run="All")["metadata"]["uid"]
    settle(cluster)
    assert [json.dumps(o, sort_keys=True) for o in cluster.fake.objects] == before
    assert refused(lambda: cluster.patch(image_patch(BAD), dry_run="Everything"))[0] == 400


@pytest.mark.parametrize(
    ("patch", "code", "message"),
    [
        ({"spec": {"replicas": -1}}, 422,
         'Deployment.apps "api-gateway" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0'),
        ({"spec": {"replicas": "three"}}, 400, "cannot unmarshal string into Go struct field spec.replicas of type int32"),
        ({"spec": {"selector": {"matchLabels": {"app": "other"}}}}, 422, "spec.selector: Invalid value: "),
        ({"spec": {"template": {"spec": {"containers": [{"name": "api-gateway", "resources": {"requests": {"memory": "2Gi"}}}]}}}},
         422, 'spec.template.spec.containers[0].resources.requests: Invalid value: "2Gi": must be less than or equal to memory limit of 512Mi'),
        ({"spec": {"template": {"spec": {"containers": [{"name": "api-gateway", "resources": {"limits": {"memory": "12XB"}}}]}}}},
         400, "quantities must match the regular expression"),
        ({"spec": {"template": {"spec": {"containers": [{"name": "api-gateway", "env": [{"name": "1X", "value": "y"}]}]}}}},
         422, "spec.template.spec.containers[0].env[0].name: Invalid value: \"1X\": a valid environment variable name"),
    ],
    ids=["negative-replicas", "replicas-type", "selector-immutable", "requests-above-limits", "bad-quantity", "env-name"],
)  # fmt: skip
def test_invalid_values_are_refused_as_the_api_server_words_it(
    cluster: Cluster, patch: dict[str, Any], code: int, message: str
) -> None:
    before = cluster.deployment()
    got, body = refused(lambda: cluster.patch(patch))
    assert got == code and message in body["message"]
    assert body["reason"] == ("Invalid" if code == 422 else "BadRequest")
    assert cluster.deployment() == before


def test_missing_objects_are_404(cluster: Cluster) -> None:
    code, body = refused(
        lambda: cluster(cluster.apps.patch_namespaced_deployment, "nope", NS, image_patch(GOOD))
    )
    assert (code, body["message"]) == (404, 'deployments.apps "nope" not found')
    assert refused(lambda: cluster(cluster.core.delete_namespaced_pod, "nope", NS))[0] == 404


def test_the_metrics_api_is_read_only(cluster: Cluster) -> None:
    pod = cluster.pods()[0]["metadata"]["name"]
    patch = {"metadata": {"labels": {"x": "y"}}}
    call = cluster.custom.patch_namespaced_custom_object
    assert refused(lambda: cluster(call, "metrics.k8s.io", "v1beta1", NS, "pods", pod, patch))[0] == 405


# --- scale ---


def test_scale_subresource_reads_and_writes_the_deployments_replicas(cluster: Cluster) -> None:
    scale = cluster(cluster.apps.read_namespaced_deployment_scale, NAME, NS)
    assert (scale["kind"], scale["spec"], scale["status"]) == (
        "Scale",
        {"replicas": 3},
        {"replicas": 3, "selector": "app=api-gateway"},
    )
    assert scale["metadata"]["resourceVersion"] == cluster.deployment()["metadata"]["resourceVersion"]
    stale = {**scale, "metadata": {**scale["metadata"], "resourceVersion": "1"}, "spec": {"replicas": 5}}
    code, body = refused(lambda: cluster(cluster.apps.replace_namespaced_deployment_scale, NAME, NS, stale))
    assert (code, body["reason"]) == (409, "Conflict")
    negative = {**scale, "spec": {"replicas": -2}}
    code, body = refused(
        lambda: cluster(cluster.apps.replace_namespaced_deployment_scale, NAME, NS, negative)
    )
    assert (code, body["message"]) == (
        422,
        'Scale.autoscaling "api-gateway" is invalid: spec.replicas: Invalid value: -2: must be greater than or equal to 0',
    )
    updated = cluster(
        cluster.apps.replace_namespaced_deployment_scale, NAME, NS, {**scale, "spec": {"replicas": 5}}
    )
    assert updated["spec"]["replicas"] == 5
    deployment = settle(cluster)
    assert (deployment["spec"]["replicas"], deployment["metadata"]["generation"]) == (5, 8)
    assert (deployment["status"]["readyReplicas"], deployment["status"]["updatedReplicas"]) == (5, 5)
    assert sum(1 for p in cluster.pods() if p["status"]["phase"] == "Running") == 5


# --- the simulated controllers ---


@pytest.mark.parametrize("cluster", ["crashloop-oom"], indirect=True)
def test_rollback_to_the_good_image_rolls_out_step_by_step_and_becomes_ready(cluster: Cluster) -> None:
    template = cluster(cluster.apps.read_namespaced_replica_set, "api-gateway-5f7b8c9d4", NS)["spec"][
        "template"
    ]
    del template["metadata"]["labels"]["pod-template-hash"]
    cluster.patch([{"op": "replace", "path": "/spec/template", "value": template}])
    rolling = cluster.deployment()  # the first step: the controller saw the change
    assert rolling["status"]["observedGeneration"] == rolling["metadata"]["generation"] == 9
    assert rolling["status"]["conditions"][0]["reason"] == "ReplicaSetUpdated"
    assert rolling["status"].get("availableReplicas", 0) == 0
    done = settle(cluster)
    assert {
        k: done["status"].get(k)
        for k in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas")
    } == dict.fromkeys(("replicas", "updatedReplicas", "readyReplicas", "availableReplicas"), 3)
    assert [c["reason"] for c in done["status"]["conditions"]] == [
        "NewReplicaSetAvailable",
        "MinimumReplicasAvailable",
    ]
    # The old revision 7's ReplicaSet matched the template: reused, as revision 9, and the bad one scaled to 0.
    replica_sets = {
        rs["metadata"]["name"]: rs for rs in cluster(cluster.apps.list_namespaced_replica_set, NS)["items"]
    }
    reused = replica_sets["api-gateway-5f7b8c9d4"]["metadata"]["annotations"]
    assert (
        reused["deployment.kubernetes.io/revision"],
        reused["deployment.kubernetes.io/revision-history"],
    ) == ("9", "7")
    assert done["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "9"
    assert replica_sets["api-gateway-7d9f6b8c5"]["spec"]["replicas"] == 0
    pods = cluster.pods()
    assert len(pods) == 3 and all(p["metadata"]["labels"]["pod-template-hash"] == "5f7b8c9d4" for p in pods)
    endpoints = cluster(cluster.core.read_namespaced_endpoints, NAME, NS)
    assert sorted(a["targetRef"]["name"] for a in endpoints["subsets"][0]["addresses"]) == sorted(
        p["metadata"]["name"] for p in pods
    )
    log = cluster.core.read_namespaced_pod_log(pods[0]["metadata"]["name"], NS, container="api-gateway")
    assert f"INFO  starting {GOOD}" in log
    metrics = cluster(cluster.custom.list_namespaced_custom_object, "metrics.k8s.io", "v1beta1", NS, "pods")
    assert {m["metadata"]["name"] for m in metrics["items"]} == {p["metadata"]["name"] for p in pods}


@pytest.mark.parametrize("cluster", ["crashloop-oom"], indirect=True)
def test_a_restart_of_the_bad_image_crash_loops_again(cluster: Cluster) -> None:
    stamp = {"kubectl.kubernetes.io/restartedAt": "2026-01-01T09:00:00Z"}
    cluster.patch({"spec": {"template": {"metadata": {"annotations": stamp}}}})
    deployment = settle(cluster)
    assert deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "9"
    assert (
        deployment["status"].get("availableReplicas", 0) == 0 and deployment["status"]["updatedReplicas"] == 3
    )
    pods = cluster.pods()
    assert len(pods) == 3 and {p["metadata"]["labels"]["pod-template-hash"] for p in pods} != {"7d9f6b8c5"}
    state = pods[0]["status"]["containerStatuses"][0]
    assert state["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert (state["lastState"]["terminated"]["reason"], state["lastState"]["terminated"]["exitCode"]) == (
        "OOMKilled",
        137,
    )
    log = cluster.core.read_namespaced_pod_log(pods[0]["metadata"]["name"], NS, previous=True)
    assert log.endswith("Killed\n")
    endpoints = cluster(cluster.core.read_namespaced_endpoints, NAME, NS)
    assert (
        "addresses" not in endpoints["subsets"][0] and len(endpoints["subsets"][0]["notReadyAddresses"]) == 3
    )


@pytest.mark.parametrize("cluster", ["crashloop-oom"], indirect=True)
def test_a_rollout_without_progress_passes_its_deadline_on_the_fakes_clock(
    cluster: Cluster, clock: ManualClock
) -> None:
    cluster.patch({"spec": {"template": {"metadata": {"annotations": {"x": "y"}}}}})
    settle(cluster)
    clock.advance(timedelta(seconds=601))
    progressing = next(c for c in cluster.deployment()["status"]["conditions"] if c["type"] == "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")


def test_deleting_a_pod_terminates_it_and_its_replica_set_replaces_it(cluster: Cluster) -> None:
    pod = cluster.pods()[0]["metadata"]
    code, body = refused(
        lambda: cluster(
            cluster.core.delete_namespaced_pod, pod["name"], NS, body={"preconditions": {"uid": "other"}}
        )
    )
    assert (code, body["reason"]) == (
        409,
        "Conflict",
    ) and "Precondition failed: UID in precondition: other" in body["message"]
    terminating = cluster(
        cluster.core.delete_namespaced_pod, pod["name"], NS, body={"preconditions": {"uid": pod["uid"]}}
    )
    assert terminating["metadata"]["deletionTimestamp"]
    settle(cluster)
    pods = cluster.pods()
    assert pod["name"] not in {p["metadata"]["name"] for p in pods} and len(pods) == 3
    assert all(
        p["status"]["conditions"][-1] == {**p["status"]["conditions"][-1], "type": "Ready", "status": "True"}
        for p in pods
    )


def test_reads_alone_change_nothing(cluster: Cluster) -> None:
    before = [json.dumps(o, sort_keys=True) for o in cluster.fake.objects]
    settle(cluster)
    assert [json.dumps(o, sort_keys=True) for o in cluster.fake.objects] == before
    assert cluster.fake.writes() == []


# --- leases ---


def lease(holder: str, version: str | None = None, renewed_s: int = 0) -> V1Lease:
    acquired = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    renewed = acquired + timedelta(seconds=renewed_s)
    spec = V1LeaseSpec(
        holder_identity=holder,
        lease_duration_seconds=15,
        acquire_time=acquired,
        renew_time=renewed,
        lease_transitions=0,
    )
    return V1Lease(
        metadata=V1ObjectMeta(name="chatops-leader", namespace=NS, resource_version=version), spec=spec
    )


def test_leases_support_leader_election_with_the_official_client(cluster: Cluster) -> None:
    api = cluster.leases
    created = api.create_namespaced_lease(NS, lease("bot-1"))
    assert created.spec.holder_identity == "bot-1" and created.metadata.resource_version
    code, body = refused(lambda: api.create_namespaced_lease(NS, lease("bot-2")))
    assert (code, body["reason"], body["message"]) == (
        409,
        "AlreadyExists",
        'leases.coordination.k8s.io "chatops-leader" already exists',
    )
    read = api.read_namespaced_lease("chatops-leader", NS)
    stored = cluster.fake.get("Lease", "chatops-leader")["spec"]
    assert stored["renewTime"] == "2026-01-01T09:00:00.000000Z"  # MicroTime, as the API serialises it
    assert read.spec.renew_time == datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    renewed = api.replace_namespaced_lease(
        "chatops-leader", NS, lease("bot-1", read.metadata.resource_version, 10)
    )
    assert int(renewed.metadata.resource_version) > int(read.metadata.resource_version)
    code, body = refused(
        lambda: api.replace_namespaced_lease(
            "chatops-leader", NS, lease("bot-2", read.metadata.resource_version)
        )
    )
    assert (code, body["reason"]) == (409, "Conflict")
    taken = api.patch_namespaced_lease(
        "chatops-leader", NS, {"spec": {"holderIdentity": "bot-2", "leaseTransitions": 1}}
    )
    assert (taken.spec.holder_identity, taken.spec.lease_transitions) == ("bot-2", 1)
    code, body = refused(
        lambda: api.patch_namespaced_lease("chatops-leader", NS, {"spec": {"leaseDurationSeconds": 0}})
    )
    assert (code, body["message"]) == (
        422,
        'Lease.coordination.k8s.io "chatops-leader" is invalid: spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
    )
    assert refused(lambda: api.read_namespaced_lease("other", NS))[0] == 404
