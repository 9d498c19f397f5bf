"""#12 finding 1: the portal never adopts a Git group or project it did not make.

The portal writes to Git with its own service token, so before this rule any account could
`POST /api/v1/products/<group>` for an existing group (the tenant's `nautes` included): the
portal renamed it, made the caller its Owner and indexed it, after which the tenant repository
could be adopted as a code repository and deleted. Each test here failed on `main` before the
rule (`products/adoption.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from nautes_portal.integrations.git_local import LocalGitHost
from nautes_portal.operations import operation_create, operation_run
from nautes_portal.operations.models import Operation
from products.models import CodeRepo, Product
from tests.api.helpers import coderepo_body
from tests.api.test_gitlab_journey import gitlab_mode, pat  # noqa: F401
from tests.fakes.gitlab_server import FakeGitLab

pytestmark = pytest.mark.django_db

BODY = {"git": {"gitlab": {"name": "Mine now", "visibility": "public", "description": "mine"}}}
OWNER = 50


def assert_taken(response: Any) -> None:
    assert response.status_code == 409, response.json()
    body = response.json()
    assert body["reason"] == "ALREADY_TAKEN", body
    assert "has already been taken" in body["message"], body


def group_meta(root: Path, path: str) -> dict[str, Any]:
    group = LocalGitHost(root).get_group(path)
    assert group is not None
    return {"id": group.id, "name": group.name, "visibility": group.visibility,
            "description": group.description}  # fmt: skip


def tenant_repo(root: Path) -> LocalGitHost:
    """The tenant's own group and configuration repository, as the portal's first start makes."""
    host = LocalGitHost(root)
    host.ensure_group(path="nautes", name="nautes")
    host.ensure_project(namespace_path="nautes", path="tenant")
    return host


# ---- Local backend: the API ------------------------------------------------------------------


def test_an_existing_group_that_is_no_product_is_not_taken_over(
    alice_api: APIClient, git_root: Path
) -> None:
    host = LocalGitHost(git_root)
    host.ensure_group(path="victims", name="Victims", description="another team's")
    before = group_meta(git_root, "victims")

    assert_taken(alice_api.post("/api/v1/products/victims", BODY, format="json"))

    assert group_meta(git_root, "victims") == before  # not renamed, not made public
    assert not Product.objects.filter(name="victims").exists()
    assert not Operation.objects.exists(), "refused before anything was written"
    assert host.get_project("victims", "default.project") is None


@pytest.mark.parametrize("who", ["alice", "admin"])
def test_the_tenant_group_never_becomes_a_product(
    who: str, alice_api: APIClient, admin_api: APIClient, git_root: Path
) -> None:
    host = tenant_repo(git_root)
    before = group_meta(git_root, "nautes")
    client = {"alice": alice_api, "admin": admin_api}[who]

    assert_taken(client.post("/api/v1/products/nautes", BODY, format="json"))

    assert group_meta(git_root, "nautes") == before
    assert not Product.objects.filter(name="nautes").exists()
    # Nothing to adopt or delete afterwards: there is no such product.
    assert client.delete("/api/v1/products/nautes/coderepos/tenant").status_code == 404
    assert host.get_project("nautes", "tenant") is not None


def test_an_ancestor_of_the_tenant_group_never_becomes_a_product(
    admin_api: APIClient, settings: Any
) -> None:
    # An Owner of a parent group owns the tenant repository below it.
    settings.GITLAB_TENANT_REPO = "corp/platform/tenant"
    for name in ("corp",):
        assert_taken(admin_api.post(f"/api/v1/products/{name}", BODY, format="json"))
    assert not Product.objects.exists()


def test_a_failed_creation_is_resumed_by_its_creator_only(
    alice_api: APIClient,
    make_user: Callable[..., Any],
    api_client_for: Callable[[Any], APIClient],
    git_root: Path,
) -> None:
    blocker = git_root / "acme" / "default.project.git"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("in the way")  # the repository step fails after the group was made
    first = alice_api.post("/api/v1/products/acme", BODY, format="json")
    assert first.status_code == 502, first.json()
    assert LocalGitHost(git_root).get_group("acme") is not None
    assert not Product.objects.filter(name="acme").exists()
    blocker.unlink()

    # Someone else cannot take the half-made group over...
    bob = api_client_for(make_user("bob"))
    assert_taken(bob.post("/api/v1/products/acme", BODY, format="json"))
    # ...its creator saves again and the creation completes.
    again = alice_api.post("/api/v1/products/acme", BODY, format="json")
    assert again.status_code == 200, again.json()
    product = Product.objects.get(name="acme")
    assert product.memberships.get().user.username == "alice"


def test_the_group_step_never_updates_a_group_it_did_not_make(alice: Any, git_root: Path) -> None:
    """Defence in depth: a `product.save` that reaches its group step without the service's
    check (an operation queued before, a race) still leaves a foreign group alone."""
    LocalGitHost(git_root).ensure_group(path="victims", name="Victims")
    before = group_meta(git_root, "victims")
    operation = operation_create(
        kind="product.save",
        target="victims",
        params={"name": "victims", "display_name": "Mine", "visibility": "public",
                "description": ""},
        actor=alice,
    )  # fmt: skip

    result = operation_run(operation.pk)

    assert result.status == Operation.Status.FAILED
    assert "has already been taken" in result.error
    assert group_meta(git_root, "victims") == before


# ---- Local backend: code repositories ----------------------------------------------------------


@pytest.fixture
def shop(alice_api: APIClient) -> APIClient:
    assert alice_api.post("/api/v1/products/shop", BODY, format="json").status_code == 200
    return alice_api


def test_a_code_repository_never_adopts_a_foreign_project(shop: APIClient, git_root: Path) -> None:
    host = LocalGitHost(git_root)
    foreign = host.ensure_project(namespace_path="shop", path="legacy", description="not yours")

    assert_taken(
        shop.post("/api/v1/products/shop/coderepos/legacy", coderepo_body("legacy"), format="json")
    )

    assert host.get_project("shop", "legacy") == foreign
    assert not CodeRepo.objects.filter(repo_name="legacy").exists()


def test_the_tenant_repository_is_never_a_code_repository(
    shop: APIClient, git_root: Path, settings: Any
) -> None:
    # A tenant repository inside a product's group (an old takeover, or a configuration that
    # put it there) is still never adopted.
    settings.GITLAB_TENANT_REPO = "shop/tenant"
    host = LocalGitHost(git_root)
    host.ensure_project(namespace_path="shop", path="tenant")

    assert_taken(
        shop.post("/api/v1/products/shop/coderepos/tenant", coderepo_body("tenant"), format="json")
    )
    assert not CodeRepo.objects.filter(repo_name="tenant").exists()


def test_deleting_a_code_repository_never_deletes_the_tenant_repository(
    shop: APIClient, git_root: Path, settings: Any
) -> None:
    """A product that adopted the tenant repository before the rule: its delete removes the
    manifest only."""
    saved = shop.post(
        "/api/v1/products/shop/coderepos/tenant", coderepo_body("tenant"), format="json"
    )
    assert saved.status_code == 200, saved.json()
    settings.GITLAB_TENANT_REPO = "shop/tenant"

    response = shop.delete("/api/v1/products/shop/coderepos/tenant")

    assert response.status_code == 200, response.json()
    assert "the project was kept" in response.json()["message"]
    assert LocalGitHost(git_root).get_project("shop", "tenant") is not None
    assert not CodeRepo.objects.filter(repo_name="tenant").exists()


def test_deleting_a_code_repository_never_deletes_a_project_that_replaced_it(
    shop: APIClient, git_root: Path
) -> None:
    host = LocalGitHost(git_root)
    body = coderepo_body("api")
    assert shop.post("/api/v1/products/shop/coderepos/api", body, format="json").status_code == 200
    own = host.get_project("shop", "api")
    assert own is not None
    host.delete_project("shop", "api")
    other = host.ensure_project(namespace_path="shop", path="api", description="someone else's")
    assert other.id != own.id

    response = shop.delete("/api/v1/products/shop/coderepos/api")

    assert response.status_code == 200, response.json()
    assert "the project was kept" in response.json()["message"]
    assert host.get_project("shop", "api") == other


def test_deleting_a_product_never_deletes_a_group_that_replaced_its_own(
    shop: APIClient, git_root: Path
) -> None:
    host = LocalGitHost(git_root)
    host.delete_group("shop")
    other = host.ensure_group(path="shop", name="Someone else's")

    response = shop.delete("/api/v1/products/shop")

    assert response.status_code == 409, response.json()
    assert host.get_group("shop") == other


# ---- GitLab backend ------------------------------------------------------------------------------


def test_gitlab_an_existing_group_is_not_taken_over(gitlab_mode: FakeGitLab) -> None:  # noqa: F811
    fake = gitlab_mode
    group = fake.create_group("team-b", name="Team B", description="bob's team", owner="bob")
    pat("bob-pat").get("/api/v1/products")  # bob is known to the portal

    assert_taken(pat("alice-pat").post("/api/v1/products/team-b", BODY, format="json"))

    assert (group.name, group.visibility, group.description) == ("Team B", "private", "bob's team")
    assert fake.user("alice").id not in group.members, "alice did not become a member"
    assert not Product.objects.filter(name="team-b").exists()


def test_gitlab_the_tenant_group_never_becomes_a_product_even_for_its_owner(
    gitlab_mode: FakeGitLab,  # noqa: F811
) -> None:
    fake = gitlab_mode
    tenant = fake.group("nautes")
    fake.add_member(tenant, "alice", OWNER)
    before = (tenant.name, tenant.visibility, tenant.description, dict(tenant.members))

    assert_taken(pat("alice-pat").post("/api/v1/products/nautes", BODY, format="json"))
    assert_taken(pat("carol-pat").post("/api/v1/products/nautes", BODY, format="json"))

    assert (tenant.name, tenant.visibility, tenant.description, dict(tenant.members)) == before
    assert not Product.objects.filter(name="nautes").exists()
    assert fake.project("nautes/tenant")


def test_gitlab_an_owner_imports_their_group_unchanged(gitlab_mode: FakeGitLab) -> None:  # noqa: F811
    fake = gitlab_mode
    group = fake.create_group(
        "team-b", name="Team B", visibility="internal", description="bob's team", owner="bob"
    )

    response = pat("bob-pat").post("/api/v1/products/team-b", BODY, format="json")

    assert response.status_code == 200, response.json()
    assert (group.name, group.visibility, group.description) == ("Team B", "internal", "bob's team")
    # No more open than the group it was imported into (BODY asked for public).
    assert fake.project("team-b/default.project").visibility == "internal"
    product = Product.objects.get(name="team-b")
    assert product.group_id == group.id and product.visibility == "internal"
    assert fake.project("team-b/default.project")
    assert pat("bob-pat").get("/api/v1/products/team-b").status_code == 200


def test_gitlab_a_maintainer_of_a_group_cannot_import_it(gitlab_mode: FakeGitLab) -> None:  # noqa: F811
    fake = gitlab_mode
    group = fake.create_group("team-b", name="Team B", owner="bob")
    fake.add_member(group, "alice", 40)

    assert_taken(pat("alice-pat").post("/api/v1/products/team-b", BODY, format="json"))
    assert group.name == "Team B" and not Product.objects.filter(name="team-b").exists()


def test_gitlab_a_code_repository_never_adopts_a_foreign_project(
    gitlab_mode: FakeGitLab,  # noqa: F811
) -> None:
    fake = gitlab_mode
    alice = pat("alice-pat")
    assert alice.post("/api/v1/products/shop", BODY, format="json").status_code == 200
    foreign = fake.create_project("shop/legacy", description="made in GitLab")

    assert_taken(
        alice.post("/api/v1/products/shop/coderepos/legacy", coderepo_body("legacy"), format="json")
    )

    assert foreign.description == "made in GitLab" and not foreign.deploy_keys
    assert not CodeRepo.objects.filter(repo_name="legacy").exists()


@pytest.mark.slow
@pytest.mark.parametrize("how", ["retry", "save again"])
def test_gitlab_a_group_creation_that_timed_out_stays_retryable(
    how: str,
    gitlab_mode: FakeGitLab,  # noqa: F811
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """GitLab made the group after the portal stopped waiting: the step never learnt its id,
    yet the creator's retry completes the product (the group is empty and only the portal's
    account is its member), while another account is still refused."""
    from tests.faults.test_gitlab_faults import wait_until_answered

    fake = gitlab_mode
    settings.GITLAB_TIMEOUT = 1.0
    fake.fail_next("POST", r"^/api/v4/groups$", status=None, delay=2.5)
    alice = pat("alice-pat")
    first = alice.post("/api/v1/products/acme", BODY, format="json")
    assert first.status_code == 502, first.json()
    wait_until_answered(fake, "POST", r"^/api/v4/groups$", 1)
    assert fake.group("acme")

    assert_taken(pat("bob-pat").post("/api/v1/products/acme", BODY, format="json"))
    if how == "retry":
        operation = first.json()["metadata"]["operation"]
        with django_capture_on_commit_callbacks(execute=True):
            assert alice.post(f"/api/v1/operations/{operation}/retry").status_code == 202
        assert Operation.objects.get(pk=operation).status == Operation.Status.SUCCEEDED
    else:
        again = alice.post("/api/v1/products/acme", BODY, format="json")
        assert again.status_code == 200, again.json()
    assert Product.objects.get(name="acme").group_id == fake.group("acme").id
    assert fake.user("alice").id in fake.group("acme").members


@pytest.mark.parametrize("backend", ["local", "gitlab"])
def test_create_group_never_touches_an_existing_group(
    backend: str, request: pytest.FixtureRequest, git_root: Path
) -> None:
    """The host primitive the group step uses: a taken path is GitLab's 409, nothing updated."""
    from nautes_portal.errors import Conflict
    from nautes_portal.integrations.gitlab import GitLabHost
    from tests.plugins.gitlab_fake import PORTAL_BOT_TOKEN

    host: Any = LocalGitHost(git_root)
    if backend == "gitlab":
        fake: FakeGitLab = request.getfixturevalue("fake_gitlab")
        host = GitLabHost(fake.url, PORTAL_BOT_TOKEN, timeout=5)
    before = host.create_group(path="victims", name="Victims", description="theirs")

    with pytest.raises(Conflict, match="path has already been taken"):
        host.create_group(path="victims", name="Mine", visibility="public")

    assert host.get_group("victims") == before


def test_gitlab_group_member_level_counts_inherited_ownership(fake_gitlab: FakeGitLab) -> None:
    from nautes_portal.integrations.gitlab import GitLabHost
    from tests.plugins.gitlab_fake import PORTAL_BOT_TOKEN

    fake = fake_gitlab
    owner = fake.add_user("olga", "Olga", "olga@example.com", "olga-pat")
    member = fake.add_user("mia", "Mia", "mia@example.com", "mia-pat")
    stranger = fake.add_user("sam", "Sam", "sam@example.com", "sam-pat")
    fake.create_group("corp", owner="olga")
    fake.add_member(fake.create_group("corp/platform"), "mia", 30)
    host = GitLabHost(fake.url, PORTAL_BOT_TOKEN, timeout=5)

    assert host.group_member_level("corp/platform", owner.id) == OWNER  # from the parent
    assert host.group_member_level("corp/platform", member.id) == 30
    assert host.group_member_level("corp/platform", stranger.id) == 0
    assert host.group_member_level("missing", owner.id) == 0


# ---- The wizard ----------------------------------------------------------------------------------


WIZARD_PRODUCT = {"name": "victims", "display_name": "Mine", "visibility": "public"}


@pytest.fixture
def browser(alice: Any) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def test_the_wizard_refuses_an_existing_group(browser: Client, git_root: Path) -> None:
    LocalGitHost(git_root).ensure_group(path="victims", name="Victims")
    before = group_meta(git_root, "victims")

    response = browser.post("/products/new/product/", {**WIZARD_PRODUCT, "action": "next"})

    assert response.status_code == 200
    assert "has already been taken" in response.content.decode()
    assert group_meta(git_root, "victims") == before


def test_the_wizard_create_refuses_a_group_that_appeared_meanwhile(
    browser: Client, git_root: Path
) -> None:
    response = browser.post("/products/new/product/", {**WIZARD_PRODUCT, "action": "next"})
    assert response.status_code == 302
    LocalGitHost(git_root).ensure_group(path="victims", name="Victims")
    before = group_meta(git_root, "victims")

    response = browser.post("/products/new/review/", {"action": "create"})

    assert response.status_code == 302
    done = browser.get(response["Location"]).content.decode()
    assert "has already been taken" in done
    assert group_meta(git_root, "victims") == before
    assert not Product.objects.filter(name="victims").exists()
