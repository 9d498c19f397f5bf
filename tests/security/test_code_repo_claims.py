"""GitLab mode: a CodeRepo pushed to one product's `default.project` under another product's
project id (`repo-<id>`) reaches none of that project's keys or secrets (#12).

Vault paths and deploy-key titles are keyed by `repo-<project id>` tenant-wide, so the pushed
name alone must never let the pusher's saves enable, revoke or delete anything there."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from nautes_portal.integrations.config_repo import Author
from nautes_portal.integrations.gitlab import GitLabHost
from nautes_portal.integrations.vault import repo_secret_location, secret_store
from products.models import CodeRepo, Product
from products.tasks import sync_product
from tests.api.helpers import coderepo_body
from tests.api.test_gitlab_journey import gitlab_mode, pat  # noqa: F401 (fixture)
from tests.fakes.gitlab_server import FakeGitLab

pytestmark = pytest.mark.django_db

BASE = "/api/v1/products"


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.json()
    return response.json()


def _keys(fake: FakeGitLab, path: str) -> dict[str, bool]:
    project = fake.project(path)
    return {fake.deploy_keys[key].title: push for key, push in project.deploy_keys.items()}


def _secrets(repo_id: str) -> dict[str, Any]:
    found = {}
    for kind in ("readonly", "readwrite", "accesstoken-api"):
        location = repo_secret_location(repo_id, kind)
        found[kind] = secret_store().read(engine=location.engine, path=location.path)
    return found


def _product(client: Any, name: str, repo: str) -> None:
    _ok(
        client.post(f"{BASE}/{name}", {"git": {"gitlab": {"visibility": "private"}}}, format="json")
    )
    _ok(client.post(f"{BASE}/{name}/projects/api-server", {"language": "Go"}, format="json"))
    body = coderepo_body(repo, project="api-server")
    _ok(client.post(f"{BASE}/{name}/coderepos/{repo}", body, format="json"))


def test_a_pushed_claim_on_another_products_project_touches_none_of_its_keys(
    gitlab_mode: FakeGitLab,  # noqa: F811
) -> None:
    fake = gitlab_mode
    alice, bob = pat("alice-pat"), pat("bob-pat")
    _product(alice, "nautes-labs", "api-server")
    _product(bob, "other-team", "shop")
    victim = fake.project("nautes-labs/api-server")
    victim_id = f"repo-{victim.id}"
    keys_before, secrets_before = _keys(fake, "nautes-labs/api-server"), _secrets(victim_id)
    assert keys_before == {f"{victim_id}-readonly": False, f"{victim_id}-readwrite": True}
    assert all(secrets_before.values())

    # Bob (Owner of other-team) pushes a CodeRepo named after nautes-labs' project, bound
    # read-write to his own project: his next refresh would enable his key on it.
    other = Product.objects.get(name="other-team")
    document = {
        "apiVersion": "nautes.resource.nautes.io/v1alpha1",
        "kind": "CodeRepo",
        "metadata": {"name": victim_id},
        "spec": {
            "codeRepoProvider": "gitlab",
            "product": other.resource_name,
            "project": "api-server",
            "repoName": "stolen",
            "url": f"git@{fake.host}:nautes-labs/api-server.git",
            "deploymentRuntime": True,
            "pipelineRuntime": False,
            "webhook": {"events": ["push_events"]},
        },
    }
    host = GitLabHost(fake.url, "portal-bot-token")
    repo = host.repository(host.get_project("other-team", "default.project"))
    repo.commit(
        changes={f"code-repos/{victim_id}/{victim_id}.yaml": yaml.safe_dump(document).encode()},
        expected_parent=repo.head(),
        message="pushed outside the portal",
        author=Author(name="Bob Builder", email="bob@example.com"),
    )
    assert sync_product(other.pk) is True
    claimed = CodeRepo.objects.get(product=other, name=victim_id)
    assert claimed.git_project_id is None and claimed.problems

    # A binding save in other-team refreshes its authorization: the claimed name takes no part.
    binding = {"projects": ["api-server"], "permissions": "readwrite", "coderepo": "shop"}
    reply = _ok(bob.post(f"{BASE}/other-team/coderepobindings/shop-rw", binding, format="json"))
    assert "warning" not in str(reply).lower(), reply
    assert _keys(fake, "nautes-labs/api-server") == keys_before

    # Deleting the claimed code repository removes its manifest only.
    reply = _ok(bob.delete(f"{BASE}/other-team/coderepos/stolen"))
    assert f"{victim_id} is not verified" in reply["message"], reply
    assert not CodeRepo.objects.filter(product=other, name=victim_id).exists()
    assert _keys(fake, "nautes-labs/api-server") == keys_before
    assert _secrets(victim_id) == secrets_before
    assert fake.project("nautes-labs/api-server").id == victim.id

    # Other-team's own code repository is unaffected: its keys are where they were.
    shop = fake.project("other-team/shop")
    assert f"repo-{shop.id}-readwrite" in _keys(fake, "other-team/shop")
