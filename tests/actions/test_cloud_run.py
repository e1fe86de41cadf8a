"""Cloud Run actions against the local Cloud Run Admin API v2, through the official client.

First the fake itself, as the client sees it; then each action's preview, the one PATCH it sends, and what
verification reports, with a manual clock (no real waiting).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from google.api_core import exceptions as api
from google.auth.credentials import AnonymousCredentials
from google.cloud import run_v2
from google.protobuf import field_mask_pb2
from pydantic import ValidationError

from bot.actions import cloud_run as actions
from bot.actions.base import ActionContext, ActionError, Outcome, Preview, StaleTarget, Verification
from bot.clock import ManualClock
from bot.config import Service
from bot.probes.base import Clients, ProbeContext
from bot.probes.cloud_run import CloudRunServiceParams, service
from bot.registry import ACTIONS
from sandbox.cloud_run_api import (
    BAD,
    GOOD,
    IMAGE,
    PARENT,
    PREVIOUS,
    PROJECT,
    REGION,
    SERVICE,
    SERVICE_NAME,
    FakeCloudRun,
    failed_latest_revision,
    healthy,
    pinned_to_previous,
)

IMGSTREAM = Service.model_validate(
    {
        "guide": "imgstream",
        "team": "imgstream",
        "cloud_run": {"project": PROJECT, "region": REGION, "service": SERVICE},
    }
)
BY_REVISION = run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION
NEXT = f"{SERVICE}-00043-xyz"  # the revision an update of the healthy service creates


@pytest.fixture
def fake() -> Iterator[FakeCloudRun]:
    with FakeCloudRun() as server:
        yield server


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def context(fake: FakeCloudRun, clock: ManualClock) -> ActionContext:
    clients = Clients(cloud_run_endpoint=fake.url, google_credentials=AnonymousCredentials())
    return ActionContext("imgstream", IMGSTREAM, clients, clock)


def preview(fake: FakeCloudRun, clock: ManualClock, action: str, **params: Any) -> Preview:
    spec = ACTIONS[action]
    assert spec.preview is not None
    return spec.preview(context(fake, clock), spec.params(**params))


def run(
    fake: FakeCloudRun, clock: ManualClock, action: str, verify_within: float = 300, **params: Any
) -> tuple[Preview, Outcome, Verification]:
    """Preview, then execute and verify as the incident flow does once a second person approved."""
    spec = ACTIONS[action]
    assert spec.preview and spec.execute and spec.verify
    ctx, parsed = context(fake, clock), spec.params(**params)
    planned = spec.preview(ctx, parsed)
    outcome = spec.execute(ctx, parsed, planned)
    return planned, outcome, spec.verify(ctx, parsed, planned, outcome, verify_within)


def patches(fake: FakeCloudRun) -> list[Any]:
    assert all(r.method == "PATCH" for r in fake.writes()), fake.writes()
    return fake.writes()


# --- the fake, as the official client sees it --------------------------------------------------------------


def clients(fake: FakeCloudRun) -> tuple[run_v2.ServicesClient, run_v2.RevisionsClient]:
    options = {"api_endpoint": fake.url}
    return (
        run_v2.ServicesClient(transport="rest", client_options=options, credentials=AnonymousCredentials()),
        run_v2.RevisionsClient(transport="rest", client_options=options, credentials=AnonymousCredentials()),
    )


def test_fake_serves_services_and_revisions_as_the_client_reads_them(fake: FakeCloudRun) -> None:
    services, revisions = clients(fake.serve(failed_latest_revision()))
    svc = services.get_service(name=SERVICE_NAME)
    assert svc.latest_created_revision == f"{SERVICE_NAME}/revisions/{BAD}"
    assert svc.traffic_statuses[0].type_ == BY_REVISION
    assert svc.template.containers[0].resources.limits["memory"] == "512Mi"
    listed = [r.name.rsplit("/", 1)[-1] for r in revisions.list_revisions(parent=SERVICE_NAME)]
    assert listed == [BAD, GOOD, PREVIOUS]  # newest first
    failed = revisions.get_revision(name=f"{SERVICE_NAME}/revisions/{BAD}")
    assert failed.conditions[-1].state == run_v2.Condition.State.CONDITION_FAILED
    assert fake.requests[0].params["$alt"] == "json;enum-encoding=int"  # and the answers use integers
    with pytest.raises(api.NotFound):
        revisions.get_revision(name=f"{SERVICE_NAME}/revisions/{SERVICE}-00099-zzz")


def test_fake_update_is_an_operation_done_after_the_polls_asked(fake: FakeCloudRun) -> None:
    fake.serve(healthy()).operation_polls = 2
    services, _ = clients(fake)
    svc = services.get_service(name=SERVICE_NAME)
    svc.traffic[:] = [run_v2.TrafficTarget(type_=BY_REVISION, revision=PREVIOUS, percent=100)]
    svc.description = "not in the mask, so not changed"
    operation = services.update_service(service=svc, update_mask=field_mask_pb2.FieldMask(paths=["traffic"]))
    assert not operation.done() and fake.service()["trafficStatuses"][0]["type"].endswith("LATEST")
    assert operation.done()  # the second poll
    assert operation.result().traffic_statuses[0].revision == PREVIOUS
    assert "description" not in fake.service() and fake.service()["generation"] == "43"
    assert [(r.method, r.params.get("updateMask")) for r in fake.writes()] == [("PATCH", "traffic")]


def test_fake_refuses_a_stale_etag_as_google_does(fake: FakeCloudRun) -> None:
    services, _ = clients(fake.serve(healthy()))
    svc = services.get_service(name=SERVICE_NAME)
    svc.etag = '"an-older-etag"'
    with pytest.raises(api.Conflict) as refused:
        services.update_service(service=svc)
    assert refused.value.response.json()["error"]["status"] == "ABORTED"
    assert fake.service()["generation"] == "42"


@pytest.mark.parametrize(
    ("traffic", "message"),
    [
        ([(PREVIOUS, 60), (GOOD, 30)], "Traffic percents must add up to 100, not 90."),
        (
            [(f"{SERVICE}-00007-old", 100)],
            f"Revision named '{SERVICE}-00007-old' referenced in traffic does not exist.",
        ),
        ([(BAD, 100)], f"Revision '{BAD}' is not ready and cannot serve traffic."),
    ],
)
def test_fake_validates_traffic(fake: FakeCloudRun, traffic: list[tuple[str, int]], message: str) -> None:
    services, _ = clients(fake.serve(failed_latest_revision()))
    svc = services.get_service(name=SERVICE_NAME)
    svc.traffic[:] = [run_v2.TrafficTarget(type_=BY_REVISION, revision=r, percent=p) for r, p in traffic]
    with pytest.raises(api.BadRequest) as refused:
        services.update_service(service=svc, update_mask=field_mask_pb2.FieldMask(paths=["traffic"]))
    assert refused.value.response.json()["error"] == {
        "code": 400,
        "message": message,
        "status": "INVALID_ARGUMENT",
    }


def test_fake_template_change_creates_a_revision_that_fails_when_told(fake: FakeCloudRun) -> None:
    fake.serve(healthy()).rollout = "failed"
    services, revisions = clients(fake)
    svc = services.get_service(name=SERVICE_NAME)
    svc.template.containers[0].resources.limits["memory"] = "1Gi"
    operation = services.update_service(service=svc)
    with pytest.raises(
        api.FailedPrecondition, match=f"Revision '{NEXT}' is not ready and cannot serve traffic"
    ):
        operation.result()
    created = revisions.get_revision(name=f"{SERVICE_NAME}/revisions/{NEXT}")
    assert created.containers[0].resources.limits["memory"] == "1Gi"
    assert services.get_service(name=SERVICE_NAME).latest_ready_revision.endswith(GOOD)
    svc = services.get_service(name=SERVICE_NAME)
    svc.template.revision, svc.template.timeout = NEXT, {"seconds": 600}
    with pytest.raises(
        api.Conflict, match=f"Revision named '{NEXT}' with different configuration already exists"
    ):
        services.update_service(service=svc)


# --- traffic --------------------------------------------------------------------------------------------------


def test_rollback_preview_names_the_previous_ready_revision_and_only_reads(
    fake: FakeCloudRun, clock: ManualClock
) -> None:
    planned = preview(fake.serve(healthy()), clock, "cloud_run.traffic_rollback")
    assert [str(c) for c in planned.changes] == [f"traffic: 100% latest ({GOOD}) -> 100% {PREVIOUS}"]
    assert str(planned.target) == f"service {SERVICE} in {PARENT}"
    assert planned.target.version == fake.service()["etag"]
    assert planned.warnings[0].startswith(f"Traffic stays pinned to {PREVIOUS} on later deploys")
    assert fake.only_reads()


def test_rollback_sends_one_patch_warns_that_traffic_stays_pinned_and_verifies(
    fake: FakeCloudRun, clock: ManualClock
) -> None:
    fake.serve(healthy()).operation_polls = 3
    _, outcome, verification = run(fake, clock, "cloud_run.traffic_rollback")
    [patch] = patches(fake)
    assert patch.path == f"/v2/{SERVICE_NAME}" and patch.params["updateMask"] == "traffic"
    assert patch.body["traffic"] == [{"type": BY_REVISION, "revision": PREVIOUS, "percent": 100}]
    assert patch.body["etag"] == healthy()[0]["etag"]
    assert outcome.summary == f"Cloud Run applied traffic: 100% latest ({GOOD}) -> 100% {PREVIOUS}"
    assert outcome.warnings == [
        f"Traffic stays pinned to {PREVIOUS} on later deploys: a new revision gets no traffic until traffic is "
        f"sent back to latest (cloud_run.traffic_to_latest, `gcloud run services update-traffic {SERVICE} "
        "--to-latest`)."
    ]
    assert (verification.status, verification.summary) == (
        "verified",
        f"100% of traffic goes to {PREVIOUS}, which is ready",
    )
    assert clock.monotonic() == 3 * actions.POLL_S  # the operation's three polls, on the manual clock


def test_rollback_to_a_named_revision_that_is_not_ready_is_refused(
    fake: FakeCloudRun, clock: ManualClock
) -> None:
    with pytest.raises(ActionError) as refused:
        preview(fake.serve(failed_latest_revision()), clock, "cloud_run.traffic_rollback", to_revision=BAD)
    assert str(refused.value) == (
        f"revision {BAD} cannot take traffic: The user-provided container failed to start and listen on the port "
        "defined provided by the PORT=8080 environment variable"
    )


def test_rollback_without_an_older_ready_revision_is_refused(fake: FakeCloudRun, clock: ManualClock) -> None:
    svc, revisions = healthy()
    with pytest.raises(ActionError) as refused:
        preview(fake.serve((svc, revisions[1:])), clock, "cloud_run.traffic_rollback")
    assert str(refused.value) == f"no ready revision of {SERVICE} older than {GOOD}"
    assert fake.writes() == []


def test_rollback_after_a_failed_deploy_keeps_the_revision_from_before_it(
    fake: FakeCloudRun, clock: ManualClock
) -> None:
    """The guide's rollback goes to the version before the bad deploy: one that never became ready never served,
    so that is the revision serving now, pinned; traffic is not moved off it to an older one."""
    planned = preview(fake.serve(failed_latest_revision()), clock, "cloud_run.traffic_rollback")
    assert [str(c) for c in planned.changes] == [f"traffic: 100% {GOOD} -> 100% {GOOD}, pinned"]
    assert planned.warnings[1] == (
        f"The newest revision, {BAD}, never became ready and gets no traffic: {GOOD}, the revision serving now, "
        "keeps all of it."
    )
    older = preview(fake, clock, "cloud_run.traffic_rollback", to_revision=PREVIOUS)  # asked for by name
    assert [str(c) for c in older.changes] == [f"traffic: 100% {GOOD} -> 100% {PREVIOUS}"]
    assert older.warnings[1] == (
        f"The newest revision, {BAD}, is not ready and gets no traffic already: this also moves traffic off "
        f"{GOOD}, the revision serving now."
    )


def test_traffic_to_latest_is_the_way_back(fake: FakeCloudRun, clock: ManualClock) -> None:
    planned, outcome, verification = run(
        fake.serve(pinned_to_previous()), clock, "cloud_run.traffic_to_latest"
    )
    assert [str(c) for c in planned.changes] == [f"traffic: 100% {PREVIOUS} -> 100% latest ({GOOD})"]
    [patch] = patches(fake)
    assert patch.body["traffic"] == [
        {"type": run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST, "percent": 100}
    ]
    assert outcome.warnings == []
    assert verification.summary == f"100% of traffic goes to the latest ready revision ({GOOD})"
    again = preview(fake, clock, "cloud_run.traffic_to_latest")
    assert again.no_op == f"traffic already goes 100% to the latest ready revision ({GOOD})"


# --- template updates -----------------------------------------------------------------------------------------


def test_update_resources_previews_each_value_and_rolls_a_revision(
    fake: FakeCloudRun, clock: ManualClock
) -> None:
    planned, outcome, verification = run(
        fake.serve(healthy()), clock, "cloud_run.update_resources", memory="1Gi", cpu="2", timeout_s=600
    )
    assert [str(c) for c in planned.changes] == [
        "memory: 512Mi -> 1Gi",
        "cpu: 1000m -> 2",
        "timeout: 300s -> 600s",
    ]
    [patch] = patches(fake)
    assert patch.params["updateMask"] == "template.containers,template.timeout"
    assert patch.body["template"]["containers"][0]["resources"]["limits"] == {"cpu": "2", "memory": "1Gi"}
    assert outcome.summary == "Cloud Run applied memory: 512Mi -> 1Gi; cpu: 1000m -> 2; timeout: 300s -> 600s"
    assert (verification.status, verification.summary) == (
        "verified",
        f"revision {NEXT} is ready and serves 100% of traffic",
    )
    assert fake.revisions[f"{SERVICE_NAME}/revisions/{NEXT}"]["timeout"] == "600s"


def test_values_already_in_place_are_a_no_op_that_sends_nothing(
    fake: FakeCloudRun, clock: ManualClock
) -> None:
    planned, outcome, verification = run(
        fake.serve(healthy()), clock, "cloud_run.update_resources", memory="512Mi", cpu="1", concurrency=80
    )
    assert planned.no_op == "memory is already 512Mi; cpu is already 1000m; concurrency is already 80"
    assert (outcome.status, verification.status) == ("no_op", "verified")
    assert fake.writes() == []


def test_scale_sets_the_revision_scaling(fake: FakeCloudRun, clock: ManualClock) -> None:
    planned, _, verification = run(
        fake.serve(healthy()), clock, "cloud_run.scale", min_instances=2, max_instances=20
    )
    assert [str(c) for c in planned.changes] == [
        "min instances: 0 (default) -> 2",
        "max instances: 100 -> 20",
    ]
    [patch] = patches(fake)
    assert (patch.params["updateMask"], patch.body["template"]["scaling"]) == (
        "template.scaling",
        {"minInstanceCount": 2, "maxInstanceCount": 20},
    )
    assert verification.status == "verified"


def test_set_env_fills_placeholders_and_leaves_equal_values(fake: FakeCloudRun, clock: ManualClock) -> None:
    planned, _, _ = run(
        fake.serve(healthy()),
        clock,
        "cloud_run.set_env",
        env={"ENVIRONMENT": "production", "GOOGLE_CLOUD_PROJECT": "{project}"},
    )
    assert [str(c) for c in planned.changes] == [f"env GOOGLE_CLOUD_PROJECT: not set -> {PROJECT}"]
    [patch] = patches(fake)
    assert patch.body["template"]["containers"][0]["env"] == [
        {"name": "ENVIRONMENT", "value": "production"},
        {"name": "GOOGLE_CLOUD_PROJECT", "value": PROJECT},
    ]


def test_redeploy_rolls_a_new_revision_of_the_same_image(fake: FakeCloudRun, clock: ManualClock) -> None:
    planned, _, verification = run(fake.serve(healthy()), clock, "cloud_run.redeploy")
    assert [str(c) for c in planned.changes] == [
        f"revision: {GOOD} -> a new revision of {IMAGE}:1.8.2, same config"
    ]
    [patch] = patches(fake)
    assert patch.params["updateMask"] == "template.annotations"
    assert patch.body["template"]["annotations"] == {actions.REDEPLOY_ANNOTATION: "2026-01-01T09:00:00+00:00"}
    assert fake.revisions[f"{SERVICE_NAME}/revisions/{NEXT}"]["containers"][0]["image"] == f"{IMAGE}:1.8.2"
    assert verification.summary == f"revision {NEXT} is ready and serves 100% of traffic"


def test_update_under_pinned_traffic_warns_and_is_not_verified(
    fake: FakeCloudRun, clock: ManualClock
) -> None:
    planned, _, verification = run(
        fake.serve(pinned_to_previous()), clock, "cloud_run.update_resources", memory="1Gi"
    )
    created = f"{SERVICE}-00044-xyz"  # the pin was generation 43
    assert planned.warnings == [
        f"Traffic is pinned (100% {PREVIOUS}): the new revision gets no traffic until it is sent back to latest "
        "(cloud_run.traffic_to_latest)."
    ]
    assert (verification.status, verification.summary) == (
        "failed",
        f"revision {created} is ready but gets no traffic: traffic is pinned (100% {PREVIOUS}); send it back with "
        "cloud_run.traffic_to_latest",
    )


# --- refusals, failures and timeouts --------------------------------------------------------------------------


def test_a_service_changed_since_the_preview_is_refused_and_left_alone(
    fake: FakeCloudRun, clock: ManualClock
) -> None:
    ctx, params = context(fake.serve(healthy()), clock), actions.UpdateResourcesParams(memory="1Gi")
    planned = actions.preview_update_resources(ctx, params)
    fake.service()["etag"] = '"changed-by-someone-else"'  # e.g. a deploy between approval and execution
    with pytest.raises(StaleTarget) as refused:
        actions.execute(ctx, params, planned)
    assert str(refused.value).startswith(
        f"service {SERVICE} in {PARENT} changed after the preview, so nothing was changed; preview it again"
    )
    assert len(patches(fake)) == 1 and fake.service()["generation"] == "42" and len(fake.revisions) == 2


def test_api_refusal_is_an_action_error_in_googles_words(fake: FakeCloudRun, clock: ManualClock) -> None:
    ctx, params = context(fake.serve(healthy()), clock), actions.RedeployParams()
    planned = actions.preview_redeploy(ctx, params)
    denied = f"Permission 'run.services.update' denied on resource '{SERVICE_NAME}' (or it may not exist)."
    fake.status = (403, denied, "PERMISSION_DENIED")
    with pytest.raises(ActionError) as refused:
        actions.execute(ctx, params, planned)
    assert str(refused.value) == f"Cloud Run refused the change: Cloud Run API denied access (403): {denied}"


def test_a_revision_that_fails_within_the_operation_wait_is_an_action_error(
    fake: FakeCloudRun, clock: ManualClock
) -> None:
    fake.serve(healthy()).rollout, fake.operation_polls = "failed", 2
    ctx, params = context(fake, clock), actions.UpdateResourcesParams(memory="1Gi")
    with pytest.raises(ActionError) as failed:
        actions.execute(ctx, params, actions.preview_update_resources(ctx, params))
    assert str(failed.value) == (
        f"Cloud Run could not apply the change: Revision '{NEXT}' is not ready and cannot serve traffic. The "
        "user-provided container failed to start and listen on the port defined provided by the PORT=8080 "
        "environment variable."
    )


def test_verification_times_out_naming_the_revision_that_does_not_start(
    fake: FakeCloudRun, clock: ManualClock
) -> None:
    fake.serve(healthy()).rollout, fake.operation_polls = "failed", 1_000  # Cloud Run keeps retrying
    _, outcome, verification = run(fake, clock, "cloud_run.update_resources", verify_within=300, memory="1Gi")
    assert outcome.summary == "Cloud Run accepted memory: 512Mi -> 1Gi; still rolling out after 60 s"
    assert verification.status == "timed_out"
    assert verification.summary == (
        f"not verified within 300 s: revision {NEXT} is not ready: The user-provided container failed to start "
        f"and listen on the port defined provided by the PORT=8080 environment variable; traffic: 100% latest ({GOOD})"
    )
    assert clock.monotonic() == 60 + 300  # all of it on the manual clock
    assert len(patches(fake)) == 1


def test_probes_still_only_read_after_actions(fake: FakeCloudRun, clock: ManualClock) -> None:
    run(fake.serve(healthy()), clock, "cloud_run.traffic_rollback")
    writes = len(fake.writes())
    ctx = ProbeContext("imgstream", IMGSTREAM, context(fake, clock).clients, deadline=float("inf"))
    result = service(ctx, CloudRunServiceParams())
    assert result.summary == f"ready; latest revision {GOOD}; traffic: 100% {PREVIOUS}"
    assert len(fake.writes()) == writes == 1


# --- the registry and parameters ------------------------------------------------------------------------------


def test_every_cloud_run_action_has_its_three_steps() -> None:
    cloud_run = {name: spec for name, spec in ACTIONS.items() if name.startswith("cloud_run.")}
    assert sorted(cloud_run) == [
        "cloud_run.redeploy",
        "cloud_run.scale",
        "cloud_run.set_env",
        "cloud_run.traffic_rollback",
        "cloud_run.traffic_to_latest",
        "cloud_run.update_resources",
    ]
    assert all(spec.preview and spec.execute and spec.verify for spec in cloud_run.values())


@pytest.mark.parametrize(
    ("model", "params", "message"),
    [
        (actions.UpdateResourcesParams, {}, "give at least one of memory, cpu, timeout_s, concurrency"),
        (actions.ScaleInstancesParams, {}, "give min_instances, max_instances or both"),
        (
            actions.ScaleInstancesParams,
            {"min_instances": 5, "max_instances": 2},
            "min_instances is above max_instances",
        ),
    ],
)
def test_parameters_that_would_change_nothing_fail_at_load(
    model: Any, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        model(**params)
