"""The history page: Git's commits (portal and external) with their diffs, and revert through
the normal rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml
from django.test import Client

from nautes_portal.integrations import git_host
from nautes_portal.integrations.config_repo import Author
from nautes_portal.yaml_io import dump_yaml
from products import services
from products.models import DeploymentRuntime, Environment, Product
from tests.ui.helpers import main, user

pytestmark = pytest.mark.django_db


def repo(product: Product) -> Any:
    return services.product_repository(product, git_host())


def commits(product: Product) -> list[Any]:
    return repo(product).history(limit=50)


def external_edit(product: Product, changes: dict[str, Any], message: str) -> str:
    """A commit pushed to Git outside the portal, then imported by the sync."""
    repository = repo(product)
    files = repository.read_tree(repository.head())
    encoded = {}
    for path, edit in changes.items():
        document = yaml.safe_load(files[path])
        edit(document)
        encoded[path] = dump_yaml(document)
    sha = repository.commit(
        changes=encoded,
        expected_parent=repository.head(),
        message=message,
        author=Author(name="Mallory Hacker", email="mallory@example.com"),
    )
    product.refresh_from_db()
    services.product_sync(product=product, repo=repository)
    return sha


def test_history_lists_portal_and_external_commits(
    acme: Product, browser_for: Callable[[Any], Client]
) -> None:
    external_edit(
        acme,
        {"projects/api/api.yaml": lambda d: d["spec"].update(language="rust")},
        "switch api to rust",
    )
    page = main(browser_for(user("bob")).get("/products/acme/history/").content.decode())
    assert "switch api to rust" in page and "Mallory Hacker" in page
    assert '<span class="badge warn">external</span>' in page
    assert "[API] Save_Environment: dev, Product: acme." in page and "Alice Liddell" in page
    assert "projects/api/api.yaml" in page
    for commit in commits(acme):
        assert f'href="/products/acme/history/{commit.sha}/"' in page


def test_a_commit_page_shows_its_diff(acme: Product, browser_for: Callable[[Any], Client]) -> None:
    sha = external_edit(
        acme,
        {"projects/api/api.yaml": lambda d: d["spec"].update(language="rust")},
        "switch api to rust",
    )
    page = main(browser_for(user("bob")).get(f"/products/acme/history/{sha}/").content.decode())
    assert '<span class="del">-  language: go</span>' in page
    assert '<span class="add">+  language: rust</span>' in page
    assert "Revert this change" not in page  # a Reporter may not revert
    assert browser_for(user("bob")).get(f"/products/acme/history/{sha}/revert/").status_code == 403
    assert browser_for(user("eve")).get(f"/products/acme/history/{sha}/").status_code == 404
    assert browser_for(user("bob")).get("/products/acme/history/0000000/").status_code == 404


def test_reverting_a_change_restores_the_previous_spec_with_a_new_commit(
    acme: Product, browser_for: Callable[[Any], Client], save: Callable[..., Any]
) -> None:
    outcome = save(
        acme, "Environment", "dev", {"cluster": "cluster-dev", "envType": "staging"}, user("alice")
    )
    alice = browser_for(user("carol"))  # a Developer may change environments
    page = main(alice.get(f"/products/acme/history/{outcome.commit_sha}/").content.decode())
    assert f'href="/products/acme/history/{outcome.commit_sha}/revert/"' in page
    preview = main(
        alice.get(f"/products/acme/history/{outcome.commit_sha}/revert/").content.decode()
    )
    assert "-  envType: staging" in preview and "+  envType: development" in preview
    response = alice.post(f"/products/acme/history/{outcome.commit_sha}/revert/")
    assert response.status_code == 302 and response["Location"] == "/products/acme/history/"
    assert Environment.objects.get(product=acme, name="dev").env_type == "development"
    latest = commits(acme)[0]
    assert latest.sha != outcome.commit_sha and latest.author_name == "carol"
    again = main(alice.get(f"/products/acme/history/{outcome.commit_sha}/revert/").content.decode())
    assert "nothing to revert" in again


def test_reverting_a_creation_deletes_the_resource(
    acme: Product, browser_for: Callable[[Any], Client]
) -> None:
    created = next(c for c in commits(acme) if "Save_DeploymentRuntime: dr-dev" in c.message)
    alice = browser_for(user("alice"))
    page = main(alice.get(f"/products/acme/history/{created.sha}/revert/").content.decode())
    assert "reverting it deletes it" in page
    assert alice.post(f"/products/acme/history/{created.sha}/revert/").status_code == 302
    assert not DeploymentRuntime.objects.filter(product=acme).exists()


def test_a_revert_that_breaks_a_rule_is_refused(
    acme: Product, browser_for: Callable[[Any], Client]
) -> None:
    created = next(c for c in commits(acme) if "Save_Environment: dev" in c.message)
    alice = browser_for(user("alice"))
    page = main(alice.get(f"/products/acme/history/{created.sha}/revert/").content.decode())
    assert "referenced by [deploymentRuntime/dr-dev]" in page and "disabled" in page
    assert alice.post(f"/products/acme/history/{created.sha}/revert/").status_code == 200
    assert Environment.objects.filter(product=acme, name="dev").exists()


def test_commits_that_change_several_resources_are_not_reverted(
    acme: Product, browser_for: Callable[[Any], Client]
) -> None:
    sha = external_edit(
        acme,
        {
            "projects/api/api.yaml": lambda d: d["spec"].update(language="rust"),
            "envs/dev.yaml": lambda d: d["spec"].update(envType="qa"),
        },
        "two at once",
    )
    alice = browser_for(user("alice"))
    page = main(alice.get(f"/products/acme/history/{sha}/").content.decode())
    assert "changes 2 resources" in page and "Revert this change" not in page
    response = alice.post(f"/products/acme/history/{sha}/revert/")
    assert response.status_code == 302
    assert Environment.objects.get(product=acme, name="dev").env_type == "qa"
