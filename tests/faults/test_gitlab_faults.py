"""GitLab timing out, failing or refusing in the middle of creating a product.

Creating a product is seven steps against GitLab and Vault (group, owner, repository, initial
commit, branch protection, deploy key, index). Whichever step GitLab breaks, the operation shows
that step failed with a readable reason, a retry through the API completes it, and GitLab ends
with exactly one group, one repository, one initial commit and one deploy key (the one Vault
holds) — nothing orphaned, nothing twice — even when GitLab did the work after the portal gave
up waiting.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from pytest_django.fixtures import Settings

from nautes_portal.integrations.gitlab import GitLabHost
from nautes_portal.integrations.vault import SecretStore, repo_secret_location
from nautes_portal.operations.models import Operation
from products.models import Product
from tests.api.test_gitlab_journey import gitlab_mode, pat  # noqa: F401
from tests.fakes.gitlab_server import FakeGitLab

pytestmark = pytest.mark.django_db

BODY = {"git": {"gitlab": {"visibility": "private"}}}
TIMEOUT = 1.0  # the portal's GitLab timeout in these tests; a "hung" GitLab answers after 2.5 s
STEPS = ["group", "owner", "repository", "initial_commit", "protect", "deploy_key", "index"]

CASES = {
    "groups 502": ("group", "POST", r"^/api/v4/groups$", 502),
    "project creation times out": ("repository", "POST", r"^/api/v4/projects$", None),
    "initial commit 503": ("initial_commit", "POST", r"/repository/commits$", 503),
    "initial commit times out": ("initial_commit", "POST", r"/repository/commits$", None),
    "branch protection 403": ("protect", "GET", r"/protected_branches/main$", 403),
    "deploy key 500": ("deploy_key", "POST", r"/deploy_keys$", 500),
    "deploy key times out": ("deploy_key", "POST", r"/deploy_keys$", None),
}


def wait_until_answered(fake: FakeGitLab, method: str, pattern: str, count: int) -> None:
    """A hung request is still running in GitLab after the portal gave up: let it finish, as it
    would before anyone pressed "retry"."""
    import re

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with fake.lock:
            seen = [r for r in fake.requests if r.method == method and re.search(pattern, r.path)]
        if len(seen) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"GitLab never answered {method} {pattern}")


def assert_exactly_one_of_everything(fake: FakeGitLab, store: SecretStore) -> None:
    assert [g.full_path for g in fake.groups.values() if g.full_path.startswith("acme")] == ["acme"]
    projects = [p for p in fake.projects.values() if p.full_path.startswith("acme/")]
    assert [p.full_path for p in projects] == ["acme/default.project"]
    (project,) = projects
    host = GitLabHost(fake.url, "portal-bot-token")
    repo = host.repository(host.get_project("acme", "default.project"))
    assert [c.message for c in repo.history(limit=10)] == ["initial commit."]
    assert len(project.deploy_keys) == 1, "one read-only key on the default project"
    (key_id,) = project.deploy_keys
    secret = store.read(**_location(project.id))
    assert secret is not None and int(secret["id"]) == key_id
    assert Product.objects.get(name="acme").commit_sha == repo.head()


def _location(pid: int) -> dict[str, str]:
    location = repo_secret_location(f"repo-{pid}", "readonly")
    return {"engine": location.engine, "path": location.path}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_gitlab_failing_mid_product_creation(
    case: str,
    gitlab_mode: FakeGitLab,  # noqa: F811
    settings: Settings,
    secret_store: SecretStore,
    django_capture_on_commit_callbacks: Any,
) -> None:
    step, method, pattern, status = CASES[case]
    settings.GITLAB_TIMEOUT = TIMEOUT
    before = sum(1 for r in gitlab_mode.requests if r.method == method)
    gitlab_mode.fail_next(method, pattern, status=status, delay=2.5 if status is None else 0)
    alice = pat("alice-pat")

    response = alice.post("/api/v1/products/acme", BODY, format="json")

    assert response.status_code == 502, response.json()
    assert gitlab_mode.armed == 0, "the fault struck"
    body = response.json()
    assert body["reason"] == "OPERATION_FAILED"
    operation_id = body["metadata"]["operation"]
    detail = alice.get(f"/api/v1/operations/{operation_id}").json()
    assert detail["status"] == "failed"
    failed_at = STEPS.index(step)
    assert [s["status"] for s in detail["steps"]] == (
        ["succeeded"] * failed_at + ["failed"] + ["pending"] * (len(STEPS) - failed_at - 1)
    )
    reason = detail["steps"][failed_at]["error"]
    assert "GitLab" in reason, reason
    if status == 403:
        assert "try again" not in reason  # retrying alone will not help: say what will
        assert "give that account the Maintainer role" in reason, reason
    else:
        assert "try again" in reason, reason
    assert not Product.objects.filter(name="acme").exists(), "not indexed half-made"

    if status is None:
        wait_until_answered(gitlab_mode, method, pattern, before + 1)
    with django_capture_on_commit_callbacks(execute=True):
        retried = alice.post(f"/api/v1/operations/{operation_id}/retry")
    assert retried.status_code == 202, retried.json()
    operation = Operation.objects.get(pk=operation_id)
    assert operation.status == Operation.Status.SUCCEEDED, operation.error
    attempts = dict(operation.steps.values_list("name", "attempts"))
    assert attempts == {name: 2 if name == step else 1 for name in STEPS}
    assert_exactly_one_of_everything(gitlab_mode, secret_store)
    assert alice.get("/api/v1/products/acme").status_code == 200
