"""Operations: a failed step is visible with its reason, a retry resumes there, a dead worker's
operation is picked up again."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

import nautes_portal.integrations as integrations
from nautes_portal.errors import IntegrationError
from nautes_portal.integrations.git_local import LocalGitHost
from nautes_portal.operations import operation_create, resume_stale
from nautes_portal.operations.models import Operation, OperationStep
from products.models import Product

pytestmark = pytest.mark.django_db

BODY = {"git": {"gitlab": {"visibility": "private"}}}


class FlakyHost(LocalGitHost):
    """The local host, failing `ensure_project` a given number of times (an adapter seam)."""

    failures = 0
    error: Exception = IntegrationError(
        "Git host", "The Git host did not answer in time; try again."
    )

    def ensure_project(self, **kwargs: Any) -> Any:
        if FlakyHost.failures > 0:
            FlakyHost.failures -= 1
            raise FlakyHost.error
        return super().ensure_project(**kwargs)


@pytest.fixture
def flaky(monkeypatch: pytest.MonkeyPatch, git_root: Path) -> type[FlakyHost]:
    monkeypatch.setattr(integrations, "git_host", lambda: FlakyHost(git_root))
    monkeypatch.setattr("products.provisioning.git_host", lambda: FlakyHost(git_root))
    FlakyHost.failures = 0
    FlakyHost.error = IntegrationError(
        "Git host", "The Git host did not answer in time; try again.", retryable=False
    )
    return FlakyHost


def test_failed_step_is_reported_and_retry_resumes_there(
    alice_api: APIClient,
    flaky: type[FlakyHost],
    git_root: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    flaky.failures = 1
    response = alice_api.post("/api/v1/products/acme", BODY, format="json")
    assert response.status_code == 502
    body = response.json()
    assert body["reason"] == "OPERATION_FAILED"
    assert (
        body["message"]
        == "Create the default.project repository: The Git host did not answer in time; try again."
    )
    operation_id = body["metadata"]["operation"]

    detail = alice_api.get(f"/api/v1/operations/{operation_id}").json()
    assert detail["status"] == "failed"
    assert [(s["name"], s["status"]) for s in detail["steps"]] == [
        ("group", "succeeded"),
        ("owner", "succeeded"),
        ("repository", "failed"),
        ("initial_commit", "pending"),
        ("protect", "pending"),
        ("deploy_key", "pending"),
        ("index", "pending"),
    ]
    assert not Product.objects.filter(name="acme").exists()

    with django_capture_on_commit_callbacks(execute=True):
        retried = alice_api.post(f"/api/v1/operations/{operation_id}/retry")
    assert retried.status_code == 202
    operation = Operation.objects.get(pk=operation_id)
    assert operation.status == Operation.Status.SUCCEEDED
    attempts = dict(operation.steps.values_list("name", "attempts"))
    assert attempts == {
        "group": 1,
        "owner": 1,
        "repository": 2,
        "initial_commit": 1,
        "protect": 1,
        "deploy_key": 1,
        "index": 1,
    }
    assert Product.objects.get(name="acme").commit_sha
    assert LocalGitHost(git_root).get_project("acme", "default.project") is not None


def test_unexpected_errors_do_not_leak_details(
    alice_api: APIClient, flaky: type[FlakyHost]
) -> None:
    flaky.failures = 1
    flaky.error = RuntimeError("password=hunter2 in some internal trace")
    response = alice_api.post("/api/v1/products/acme", BODY, format="json")
    assert response.status_code == 502
    assert "hunter2" not in response.content.decode()
    step = OperationStep.objects.get(status="failed")
    assert step.error == "Unexpected error; the details are in the portal's log."


def test_only_failed_operations_can_be_retried(alice_api: APIClient) -> None:
    assert alice_api.post("/api/v1/products/acme", BODY, format="json").status_code == 200
    operation = Operation.objects.get()
    response = alice_api.post(f"/api/v1/operations/{operation.pk}/retry")
    assert response.status_code == 409


def test_operations_of_hidden_products_are_hidden(
    alice_api: APIClient, make_user: Any, api_client_for: Any
) -> None:
    assert alice_api.post("/api/v1/products/acme", BODY, format="json").status_code == 200
    operation = Operation.objects.get()
    bob = api_client_for(make_user("bob"))
    assert bob.get(f"/api/v1/operations/{operation.pk}").status_code == 404
    assert bob.get("/api/v1/operations").json()["items"] == []
    assert bob.post(f"/api/v1/operations/{operation.pk}/retry").status_code == 404
    assert [o["id"] for o in alice_api.get("/api/v1/operations").json()["items"]] == [operation.pk]


def test_an_operation_whose_worker_died_is_resumed(alice: Any, git_root: Path) -> None:
    operation = operation_create(
        kind="product.save",
        target="acme",
        params={"name": "acme", "display_name": "acme", "visibility": "private", "description": ""},
        actor=alice,
    )
    # A worker claimed it, finished the first step and died.
    Operation.objects.filter(pk=operation.pk).update(
        status=Operation.Status.RUNNING, lease_until=timezone.now() - dt.timedelta(seconds=1)
    )
    operation.steps.filter(name="group").update(status=OperationStep.Status.SUCCEEDED, attempts=1)
    LocalGitHost(git_root).ensure_group(path="acme", name="acme")
    assert resume_stale() == 1  # Q_CLUSTER sync=True in tests runs the task right away
    operation.refresh_from_db()
    assert operation.status == Operation.Status.SUCCEEDED
    assert Product.objects.filter(name="acme").exists()


def test_a_live_operation_is_not_taken_twice(alice: Any) -> None:
    operation = operation_create(
        kind="product.save", target="acme", params={"name": "acme"}, actor=alice
    )
    Operation.objects.filter(pk=operation.pk).update(
        status=Operation.Status.RUNNING, lease_until=timezone.now() + dt.timedelta(minutes=5)
    )
    assert resume_stale() == 0
    from nautes_portal.operations import operation_run

    assert operation_run(operation.pk).status == Operation.Status.RUNNING
    assert not operation.steps.exclude(status=OperationStep.Status.PENDING).exists()


def test_retryable_failures_schedule_an_automatic_retry(
    alice_api: APIClient, flaky: type[FlakyHost]
) -> None:
    from django_q.models import Schedule

    flaky.failures = 1
    flaky.error = IntegrationError("Git host", "GitLab answered 503; try again.", retryable=True)
    response = alice_api.post("/api/v1/products/acme", BODY, format="json")
    assert response.status_code == 502
    schedule = Schedule.objects.get(func="nautes_portal.operations.tasks.run_operation")
    assert schedule.schedule_type == Schedule.ONCE
    assert schedule.next_run > timezone.now()
