"""Code repository provisioning: deploy keys, access tokens, hooks and deploy-key authorization.

Run against the fake GitLab (`fake_gitlab`) and a real OpenBao dev server (`secret_store`), through
the operation runner, as the portal runs them. `plan_authorization` (upstream's
`refreshAuthorization`, reference §5.6) is also tested on its own, without any server.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pytest_django.fixtures import Settings

from nautes_portal.errors import PermissionDenied
from nautes_portal.integrations import git_host
from nautes_portal.integrations.gitlab import GitLabHost
from nautes_portal.integrations.vault import SecretStore, repo_secret_location
from nautes_portal.keys import (
    DeployKeypair,
    fingerprint_sha256,
    generate_deploy_keypair,
    private_key_fingerprint,
)
from nautes_portal.operations import operation_create, operation_run
from nautes_portal.operations.models import Operation, OperationStep
from products import repo_provisioning as rp
from products.models import CodeRepo, CodeRepoBinding, Product
from products.repo_provisioning import (
    AuthorizationPlan,
    BindingInfo,
    DeployKeyInfo,
    RepoInfo,
    plan_authorization,
)
from tests.fakes.gitlab_server import FakeGitLab
from tests.plugins.gitlab_fake import PORTAL_BOT_TOKEN
from tests.plugins.openbao import OpenBaoDevServer

HOOK_URL = "https://portal.example.com/webhooks/gitlab"
HOOK_SECRET = "hook-secret-4f1c9a"
PRODUCT = "acme"


# ---- Keypairs ----------------------------------------------------------------------------------


def test_keypair_is_ecdsa_p256_in_openssh_formats() -> None:
    pair = generate_deploy_keypair("repo-7-readonly")
    assert pair.private_openssh.startswith("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    key_type, blob, comment = pair.public_openssh.split(" ")
    assert (key_type, comment) == ("ecdsa-sha2-nistp256", "repo-7-readonly")
    public = serialization.load_ssh_public_key(pair.public_openssh.encode())
    assert public.curve.name == "secp256r1"  # type: ignore[union-attr]
    private = serialization.load_ssh_private_key(pair.private_openssh.encode(), password=None)
    assert private.public_key() == public
    assert pair.fingerprint_sha256 == fingerprint_sha256(f"{key_type} {blob}")
    assert pair.fingerprint_sha256.startswith("SHA256:") and "=" not in pair.fingerprint_sha256
    assert private_key_fingerprint(pair.private_openssh) == pair.fingerprint_sha256
    assert generate_deploy_keypair().fingerprint_sha256 != pair.fingerprint_sha256


def test_keypair_repr_hides_the_private_key() -> None:
    pair = generate_deploy_keypair()
    body = pair.private_openssh.splitlines()[1]
    for text in (repr(pair), str(pair), f"{pair}", repr([pair])):
        assert body not in text and "PRIVATE" not in text
    assert pair.fingerprint_sha256 in repr(pair)
    assert isinstance(pair, DeployKeypair)


def test_unreadable_private_keys_have_no_fingerprint() -> None:
    assert private_key_fingerprint("not a key") is None
    assert private_key_fingerprint("-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n") is None
    with pytest.raises(ValueError):
        fingerprint_sha256("ecdsa-sha2-nistp256")


# ---- plan_authorization (pure) -----------------------------------------------------------------

# Repositories repo-1..repo-4; key ids: readonly 1x, readwrite 2x (repo-1: 11 and 21, ...).
A = RepoInfo("repo-1", 1, "shop")
B = RepoInfo("repo-2", 2, "shop")
C = RepoInfo("repo-3", 3, "billing")
D = RepoInfo("repo-4", 4, "")
REPOS = [A, B, C, D]


def _own(repo: RepoInfo) -> list[DeployKeyInfo]:
    n = repo.project_id
    return [
        DeployKeyInfo(10 + n, f"repo-{n}-readonly", False),
        DeployKeyInfo(20 + n, f"repo-{n}-readwrite", True),
    ]


def _enabled(**extra: list[DeployKeyInfo]) -> dict[int, list[DeployKeyInfo]]:
    """Each repository's own keys, plus `r<n>=[...]` keys enabled on repo-<n>."""
    keys = {r.project_id: _own(r) for r in REPOS}
    for name, more in extra.items():
        keys[int(name[1:])] += more
    return keys


def test_plan_with_no_sharing_is_empty() -> None:
    plan = plan_authorization([C, D], [], _enabled())
    assert plan == AuthorizationPlan(enable=[], revoke=[])
    assert not plan


def test_plan_shares_both_keys_between_repositories_of_one_project() -> None:
    plan = plan_authorization(REPOS, [], _enabled())
    # repo-1 and repo-2 (project shop) get each other's keys; the readwrite one pushes.
    assert plan.enable == [(1, 12, False), (1, 22, True), (2, 11, False), (2, 21, True)]
    assert plan.revoke == []


def test_plan_reflags_a_shared_readwrite_key_that_cannot_push() -> None:
    enabled = _enabled(
        r1=[
            DeployKeyInfo(12, "repo-2-readonly", False),
            DeployKeyInfo(22, "repo-2-readwrite", False),
        ],
        r2=[
            DeployKeyInfo(11, "repo-1-readonly", False),
            DeployKeyInfo(21, "repo-1-readwrite", True),
        ],
    )
    plan = plan_authorization(REPOS, [], enabled)
    assert plan.enable == [(1, 22, True)]
    assert plan.revoke == []


def test_plan_product_level_binding_enables_every_repositorys_key() -> None:
    bindings = [BindingInfo("repo-3", (), "readonly"), BindingInfo("repo-3", ("shop",), "readonly")]
    plan = plan_authorization([C, D, A], bindings, _enabled())
    # Every other repository's readonly key on repo-3; a project-level binding does not narrow.
    assert plan.enable == [(3, 11, False), (3, 14, False)]


def test_plan_project_level_binding_enables_only_the_listed_projects_repositories() -> None:
    bindings = [BindingInfo("repo-4", ("billing",), "readwrite")]
    plan = plan_authorization(REPOS, bindings, _enabled())
    assert [e for e in plan.enable if e[0] == 4] == [(4, 23, True)]  # repo-3 only, can push.
    bindings.append(BindingInfo("repo-4", ("shop", "ghost"), "readonly"))
    plan = plan_authorization(REPOS, bindings, _enabled())
    assert [e for e in plan.enable if e[0] == 4] == [(4, 11, False), (4, 12, False), (4, 23, True)]


def test_plan_revokes_keys_no_binding_grants_any_more() -> None:
    # repo-3 had a readwrite product binding and a readonly one for project shop; both removed.
    shared = [
        DeployKeyInfo(11, "repo-1-readonly", False),
        DeployKeyInfo(24, "repo-4-readwrite", True),
        DeployKeyInfo(99, "ci-bot", False),  # Not a portal key: never touched.
    ]
    plan = plan_authorization(REPOS, [], _enabled(r3=shared))
    assert (3, 11) in plan.revoke and (3, 24) in plan.revoke
    assert all(key_id != 99 for _, key_id in plan.revoke)
    # With a binding left for project shop, repo-1's key stays and repo-4's goes.
    left = [BindingInfo("repo-3", ("shop",), "readonly")]
    plan = plan_authorization(REPOS, left, _enabled(r3=shared))
    assert plan.revoke == [(3, 24)]
    shop = [(1, 12, False), (1, 22, True), (2, 11, False), (2, 21, True)]
    assert plan.enable == [*shop, (3, 12, False)]


def test_plan_removes_keys_of_deleted_repositories_and_replaced_keys() -> None:
    stale = [
        DeployKeyInfo(77, "repo-9-readonly", False),  # repo-9 no longer exists.
        DeployKeyInfo(5, "repo-2-readwrite", True),  # repo-2's old readwrite key (now 22).
    ]
    plan = plan_authorization(REPOS, [], _enabled(r1=stale))
    assert plan.revoke == [(1, 5), (1, 77)]
    assert (1, 22, True) in plan.enable


def test_plan_skips_repositories_whose_keys_are_unknown_and_honours_given_key_ids() -> None:
    enabled = _enabled()
    del enabled[2]  # Listing repo-2's keys failed: nothing is planned on it ...
    b_with_ids = RepoInfo("repo-2", 2, "shop", key_ids={"readonly": 12, "readwrite": 22})
    plan = plan_authorization([A, b_with_ids], [], enabled)
    # ... but its keys, known from elsewhere, are still shared with repo-1.
    assert plan.enable == [(1, 12, False), (1, 22, True)]
    # Without them, repo-2 has no known keys to share.
    assert plan_authorization([A, B], [], enabled).enable == []


# ---- Fixtures for the steps --------------------------------------------------------------------


@pytest.fixture
def gitlab(
    fake_gitlab: FakeGitLab, settings: Settings, secret_store: SecretStore, db: None
) -> Iterator[FakeGitLab]:
    """The portal on the fake GitLab and OpenBao, with the product group `acme` indexed."""
    settings.NAUTES_GIT_BACKEND = "gitlab"
    settings.GITLAB_URL = fake_gitlab.url
    settings.GITLAB_TOKEN = PORTAL_BOT_TOKEN
    settings.GITLAB_TIMEOUT = 5
    settings.GITLAB_WEBHOOK_SECRET = HOOK_SECRET
    assert isinstance(git_host(), GitLabHost)
    group = fake_gitlab.create_group(PRODUCT)
    Product.objects.create(name=PRODUCT, group_id=group.id)
    yield fake_gitlab


@pytest.fixture
def add_repo(gitlab: FakeGitLab) -> Callable[..., int]:
    """Create a GitLab project in `acme` and its CodeRepo index row; return the project id."""

    def make(path: str, project: str = "") -> int:
        pid = gitlab.create_project(f"{PRODUCT}/{path}").id
        CodeRepo.objects.create(
            product=Product.objects.get(name=PRODUCT),
            name=f"repo-{pid}",
            path=f"code-repos/repo-{pid}/repo-{pid}.yaml",
            repo_name=path,
            project=project,
            git_project_id=pid,
        )
        return pid

    return make


def _bind(name: str, pid: int, permissions: str, projects: list[str] | None = None) -> None:
    CodeRepoBinding.objects.create(
        product=Product.objects.get(name=PRODUCT),
        name=name,
        path=f"code-repos/repo-{pid}/{name}.yaml",
        code_repo=f"repo-{pid}",
        projects=projects or [],
        permissions=permissions,
    )


def _run(kind: str, params: dict[str, Any]) -> Operation:
    target = params.get("repo_id") or params["product"]
    operation = operation_create(kind=kind, target=target, params=params, actor=None)
    return operation_run(operation.pk)


def _provision(pid: int, path: str, **extra: Any) -> Operation:
    params = {
        "product": PRODUCT,
        "repo_name": path,
        "repo_id": f"repo-{pid}",
        "project_id": pid,
        "webhook_events": ["push_events", "tag_push_events"],
        "webhook_url": HOOK_URL,
        "webhook_token_configured": True,
        **extra,
    }
    return _run(rp.CODEREPO_PROVISION, params)


def _deprovision(pid: int, path: str) -> Operation:
    params = {"product": PRODUCT, "repo_name": path, "repo_id": f"repo-{pid}", "project_id": pid}
    return _run(rp.CODEREPO_DEPROVISION, params)


def _steps(operation: Operation) -> dict[str, tuple[str, str, str]]:
    return {s.name: (s.status, s.detail, s.error) for s in operation.steps.order_by("position")}


def _keys(fake: FakeGitLab, pid: int) -> dict[str, tuple[int, bool]]:
    """title → (key id, can_push) of the keys enabled on project `pid`."""
    project = fake.projects[pid]
    return {fake.deploy_keys[k].title: (k, push) for k, push in project.deploy_keys.items()}


def _secret(store: SecretStore, pid: int, kind: str) -> dict[str, str] | None:
    location = repo_secret_location(f"repo-{pid}", kind)
    return store.read(engine=location.engine, path=location.path)


def _version(server: OpenBaoDevServer, pid: int, kind: str) -> int:
    metadata = server.client().secrets.kv.v2.read_secret_metadata(
        path=f"gitlab/repo-{pid}/default/{kind}", mount_point="git"
    )
    return int(metadata["data"]["current_version"])


def _policies(server: OpenBaoDevServer) -> set[str]:
    return set(server.client().sys.list_policies()["data"]["policies"])


def _secret_values(store: SecretStore, pids: list[int]) -> list[str]:
    """Every private key and token value Vault holds for these repositories."""
    values = []
    for pid in pids:
        for kind, field_name in (
            ("readonly", "deploykey"),
            ("readwrite", "deploykey"),
            ("accesstoken-api", "accesstoken"),
        ):
            secret = _secret(store, pid, kind)
            if secret:
                values.append(secret[field_name])
    return values


def _assert_nothing_leaked(values: list[str], caplog: pytest.LogCaptureFixture) -> None:
    """No secret (or a recognisable part of a private key) in logs, operation rows or errors."""
    needles = [HOOK_SECRET]
    for value in values:
        lines = [line for line in value.splitlines() if "PRIVATE KEY" not in line]
        needles += [value, *(line for line in lines if len(line) >= 20)]
    rows = [str(o.params) + o.error for o in Operation.objects.all()]
    rows += [s.detail + s.error + s.title for s in OperationStep.objects.all()]
    haystacks = [caplog.text, *rows, *(r.getMessage() for r in caplog.records)]
    for needle in needles:
        assert all(needle not in text for text in haystacks)


# ---- coderepo.provision ------------------------------------------------------------------------


def test_provision_creates_keys_token_and_hook_with_secrets_in_vault_only(
    gitlab: FakeGitLab,
    add_repo: Callable[..., int],
    secret_store: SecretStore,
    openbao_dev: OpenBaoDevServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    pid = add_repo("api", "shop")
    operation = _provision(pid, "api")
    assert operation.status == Operation.Status.SUCCEEDED, operation.error
    steps = _steps(operation)
    assert list(steps) == ["deploy_keys", "access_token", "webhook", "authorization"]
    assert "new" in steps["deploy_keys"][1] and "new" in steps["access_token"][1]

    keys = _keys(gitlab, pid)
    assert {t: push for t, (_, push) in keys.items()} == {
        f"repo-{pid}-readonly": False,
        f"repo-{pid}-readwrite": True,
    }
    for permission in ("readonly", "readwrite"):
        secret = _secret(secret_store, pid, permission)
        assert secret is not None and set(secret) == {"deploykey", "fingerprint", "id"}
        key = gitlab.deploy_keys[int(secret["id"])]
        assert key.title == f"repo-{pid}-{permission}"
        assert key.key.startswith("ecdsa-sha2-nistp256 ")
        assert private_key_fingerprint(secret["deploykey"]) == key.fingerprint_sha256
        assert secret["fingerprint"] == key.fingerprint_sha256

    (token,) = gitlab.projects[pid].tokens.values()
    assert (token.name, token.scopes, token.access_level) == ("accesstoken-api", ["api"], 40)
    assert token.expires_at == dt.datetime.now(dt.UTC).date() + dt.timedelta(days=365)
    stored = _secret(secret_store, pid, "accesstoken-api")
    assert stored == {"accesstoken": gitlab.users[token.user_id].token, "id": str(token.id)}
    assert {f"gitlab-repo-{pid}-default-{kind}" for kind in rp.PERMISSIONS} | {
        f"gitlab-repo-{pid}-default-accesstoken-api"
    } <= _policies(openbao_dev)

    (hook,) = gitlab.projects[pid].hooks.values()
    assert hook.url == HOOK_URL and hook.token == HOOK_SECRET
    assert sorted(e for e, on in hook.events.items() if on) == ["push_events", "tag_push_events"]

    _assert_nothing_leaked(_secret_values(secret_store, [pid]), caplog)


def test_provision_twice_changes_nothing(
    gitlab: FakeGitLab,
    add_repo: Callable[..., int],
    secret_store: SecretStore,
    openbao_dev: OpenBaoDevServer,
) -> None:
    pid = add_repo("api")
    assert _provision(pid, "api").status == Operation.Status.SUCCEEDED
    keys, tokens = _keys(gitlab, pid), set(gitlab.projects[pid].tokens)
    versions = {kind: _version(openbao_dev, pid, kind) for kind in ("readonly", "readwrite")}
    versions["accesstoken-api"] = _version(openbao_dev, pid, "accesstoken-api")
    gitlab.requests.clear()

    again = _provision(pid, "api")
    assert again.status == Operation.Status.SUCCEEDED, again.error
    assert "kept" in _steps(again)["deploy_keys"][1] and "kept" in _steps(again)["access_token"][1]
    assert _keys(gitlab, pid) == keys
    assert set(gitlab.projects[pid].tokens) == tokens
    assert all(t.active() for t in gitlab.projects[pid].tokens.values())
    assert {k: _version(openbao_dev, pid, k) for k in versions} == versions
    writes = [r for r in gitlab.requests if r.method in ("POST", "DELETE")]
    assert writes == []  # Only reads, and the hook update (GitLab never returns its secret).


def test_a_deleted_vault_secret_regenerates_the_key_and_removes_the_old_one_everywhere(
    gitlab: FakeGitLab, add_repo: Callable[..., int], secret_store: SecretStore
) -> None:
    api, web = add_repo("api", "shop"), add_repo("web", "shop")
    assert _provision(api, "api").status == Operation.Status.SUCCEEDED
    assert _provision(web, "web").status == Operation.Status.SUCCEEDED
    old_id, _ = _keys(gitlab, api)[f"repo-{api}-readonly"]
    assert _keys(gitlab, web)[f"repo-{api}-readonly"] == (old_id, False)  # Same project: shared.
    readwrite = _keys(gitlab, api)[f"repo-{api}-readwrite"]

    location = repo_secret_location(f"repo-{api}", "readonly")
    secret_store.delete(engine=location.engine, path=location.path)
    assert _provision(api, "api").status == Operation.Status.SUCCEEDED

    new_id, can_push = _keys(gitlab, api)[f"repo-{api}-readonly"]
    assert new_id != old_id and not can_push
    assert old_id not in gitlab.deploy_keys  # Removed from every project, so GitLab forgot it.
    assert _keys(gitlab, web)[f"repo-{api}-readonly"] == (new_id, False)
    assert _keys(gitlab, api)[f"repo-{api}-readwrite"] == readwrite
    secret = _secret(secret_store, api, "readonly")
    assert secret is not None and secret["id"] == str(new_id)
    assert (
        private_key_fingerprint(secret["deploykey"])
        == gitlab.deploy_keys[new_id].fingerprint_sha256
    )


def test_a_key_written_by_upstream_nautes_is_kept(
    gitlab: FakeGitLab,
    add_repo: Callable[..., int],
    secret_store: SecretStore,
    openbao_dev: OpenBaoDevServer,
) -> None:
    # Upstream stores the public key line as the "fingerprint" (`coderepo.go`); the private key
    # is PEM here to cover keys made by other tools too.
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    pid = add_repo("api")
    host = git_host()
    key = host.ensure_deploy_key(pid, f"repo-{pid}-readonly", public.decode(), False)  # type: ignore[attr-defined]
    location = repo_secret_location(f"repo-{pid}", "readonly")
    data = {"deploykey": pem, "fingerprint": key.key, "id": str(key.id)}
    secret_store.write(engine=location.engine, path=location.path, data=data)

    kept, created = rp.ensure_repo_deploy_key(
        host,  # type: ignore[arg-type]
        secret_store,
        project_id=pid,
        repo_id=f"repo-{pid}",
        permission="readonly",
    )
    assert (kept.id, created) == (key.id, False)
    assert _version(openbao_dev, pid, "readonly") == 1  # Nothing rewritten.


def test_a_lost_token_value_rotates_the_token(
    gitlab: FakeGitLab, add_repo: Callable[..., int], secret_store: SecretStore
) -> None:
    pid = add_repo("api")
    assert _provision(pid, "api").status == Operation.Status.SUCCEEDED
    (old,) = gitlab.projects[pid].tokens.values()
    location = repo_secret_location(f"repo-{pid}", "accesstoken-api")
    secret_store.delete(engine=location.engine, path=location.path)

    assert _provision(pid, "api").status == Operation.Status.SUCCEEDED
    assert old.revoked
    (new,) = [t for t in gitlab.projects[pid].tokens.values() if t.active()]
    stored = _secret(secret_store, pid, "accesstoken-api")
    assert stored == {"accesstoken": gitlab.users[new.user_id].token, "id": str(new.id)}


def test_webhook_without_events_removes_the_hook_and_local_backend_is_a_no_op(
    gitlab: FakeGitLab, add_repo: Callable[..., int], settings: Settings
) -> None:
    pid = add_repo("api")
    assert _provision(pid, "api").status == Operation.Status.SUCCEEDED
    assert len(gitlab.projects[pid].hooks) == 1
    operation = _provision(pid, "api", webhook_events=[])
    assert operation.status == Operation.Status.SUCCEEDED
    assert gitlab.projects[pid].hooks == {}
    assert "removed 1 hook" in _steps(operation)["webhook"][1]

    settings.NAUTES_GIT_BACKEND = "local"
    operation = _provision(pid, "api")
    assert operation.status == Operation.Status.SUCCEEDED
    assert all(detail.startswith("local backend: ") for _, detail, _ in _steps(operation).values())


# ---- Authorization over the product ------------------------------------------------------------


def test_bindings_share_keys_and_removing_them_revokes(
    gitlab: FakeGitLab, add_repo: Callable[..., int]
) -> None:
    lib, api, web = add_repo("lib"), add_repo("api", "shop"), add_repo("web", "pay")
    for pid, path in ((lib, "lib"), (api, "api"), (web, "web")):
        assert _provision(pid, path).status == Operation.Status.SUCCEEDED
    assert set(_keys(gitlab, lib)) == {f"repo-{lib}-readonly", f"repo-{lib}-readwrite"}

    # lib: readonly for the whole product, readwrite for project pay only.
    _bind("lib-all", lib, "readonly")
    _bind("lib-pay", lib, "readwrite", ["pay"])
    refresh = _run(rp.PRODUCT_AUTHORIZATION, {"product": PRODUCT})
    assert refresh.status == Operation.Status.SUCCEEDED, refresh.error
    keys = _keys(gitlab, lib)
    assert keys[f"repo-{api}-readonly"][1] is False
    assert keys[f"repo-{web}-readonly"][1] is False
    assert keys[f"repo-{web}-readwrite"][1] is True
    assert f"repo-{api}-readwrite" not in keys

    CodeRepoBinding.objects.filter(name="lib-all").delete()
    assert _run(rp.PRODUCT_AUTHORIZATION, {"product": PRODUCT}).status == "succeeded"
    assert set(_keys(gitlab, lib)) == {
        f"repo-{lib}-readonly",
        f"repo-{lib}-readwrite",
        f"repo-{web}-readwrite",
    }
    CodeRepoBinding.objects.all().delete()
    again = _run(rp.PRODUCT_AUTHORIZATION, {"product": PRODUCT})
    assert "1 revoked" in _steps(again)["authorization"][1]
    assert set(_keys(gitlab, lib)) == {f"repo-{lib}-readonly", f"repo-{lib}-readwrite"}


def test_refresh_collects_gitlab_403s_into_one_error_after_doing_the_rest(
    gitlab: FakeGitLab,
    add_repo: Callable[..., int],
    secret_store: SecretStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    lib, api, web = add_repo("lib"), add_repo("api"), add_repo("web")
    for pid, path in ((lib, "lib"), (api, "api"), (web, "web")):
        assert _provision(pid, path).status == Operation.Status.SUCCEEDED
    _bind("lib-all", lib, "readonly")
    assert _run(rp.PRODUCT_AUTHORIZATION, {"product": PRODUCT}).status == "succeeded"
    assert len(_keys(gitlab, lib)) == 4
    # Share api instead of lib: enabling keys on api is refused, revoking on lib still happens.
    CodeRepoBinding.objects.all().delete()
    _bind("api-all", api, "readonly")
    lib_key = _keys(gitlab, lib)[f"repo-{lib}-readonly"][0]
    enable_on_api = rf"/projects/{api}/deploy_keys/\d+/enable$"
    gitlab.fail_next("POST", enable_on_api, 403, times=2)  # Both enables on api.

    operation = _run(rp.PRODUCT_AUTHORIZATION, {"product": PRODUCT})
    assert operation.status == Operation.Status.FAILED
    status, _, error = _steps(operation)["authorization"]
    assert status == "failed"
    assert error.startswith("GitLab denied permission while refreshing deploy-key authorization")
    assert f"enabling deploy key {lib_key} on repo-{api}" in error
    assert set(_keys(gitlab, lib)) == {f"repo-{lib}-readonly", f"repo-{lib}-readwrite"}

    repos, bindings = rp.read_index(PRODUCT)
    gitlab.fail_next("POST", enable_on_api, 403, times=2)
    with pytest.raises(PermissionDenied) as caught:
        rp.refresh_authorization(git_host(), repos, bindings)  # type: ignore[arg-type]
    assert (caught.value.reason, caught.value.status) == ("REFRESH_PERMISSIONS_ACCESS_DENIED", 403)
    assert len(caught.value.metadata["denied"]) == 2  # lib's and web's readonly keys on api.

    assert _run(rp.PRODUCT_AUTHORIZATION, {"product": PRODUCT}).status == "succeeded"
    assert f"repo-{lib}-readonly" in _keys(gitlab, api)
    secrets = _secret_values(secret_store, [lib, api, web])
    _assert_nothing_leaked(secrets, caplog)
    assert all(value not in str(caught.value) for value in secrets)


# ---- Failures and retries ----------------------------------------------------------------------


def test_gitlab_503_during_deploy_keys_fails_readably_and_a_retry_completes(
    gitlab: FakeGitLab, add_repo: Callable[..., int], secret_store: SecretStore
) -> None:
    pid = add_repo("api")
    gitlab.fail_next("POST", rf"/projects/{pid}/deploy_keys$", 503)
    operation = _provision(pid, "api")
    assert operation.status == Operation.Status.FAILED
    status, _, error = _steps(operation)["deploy_keys"]
    assert status == "failed"
    assert error == (
        f"GitLab failed (HTTP 503) while adding deploy key 'repo-{pid}-readonly' to project {pid}; "
        "try again."
    )
    assert operation.error.startswith("Create the repository's deploy keys: GitLab failed")
    from django_q.models import Schedule

    assert Schedule.objects.filter(args=str(operation.pk)).exists()  # Retryable: scheduled.

    retried = operation_run(operation.pk)
    assert retried.status == Operation.Status.SUCCEEDED, retried.error
    keys = _keys(gitlab, pid)
    assert len(keys) == 2
    for permission in rp.PERMISSIONS:
        secret = _secret(secret_store, pid, permission)
        assert secret is not None
        assert int(secret["id"]) == keys[f"repo-{pid}-{permission}"][0]


# ---- coderepo.deprovision ----------------------------------------------------------------------


def test_deprovision_removes_keys_secrets_policies_and_the_project(
    gitlab: FakeGitLab,
    add_repo: Callable[..., int],
    secret_store: SecretStore,
    openbao_dev: OpenBaoDevServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    api, web = add_repo("api", "shop"), add_repo("web", "shop")
    for pid, path in ((api, "api"), (web, "web")):
        assert _provision(pid, path).status == Operation.Status.SUCCEEDED
    secrets = _secret_values(secret_store, [api, web])
    assert f"repo-{api}-readwrite" in _keys(gitlab, web)
    api_keys = {k for k, _ in _keys(gitlab, api).values()} - {
        k for k, _ in _keys(gitlab, web).values()
    }
    CodeRepo.objects.filter(name=f"repo-{api}").delete()  # The index no longer has it.

    operation = _deprovision(api, "api")
    assert operation.status == Operation.Status.SUCCEEDED, operation.error
    assert list(_steps(operation)) == ["secrets", "deploy_keys", "project", "authorization"]
    assert api not in gitlab.projects
    for kind in ("readonly", "readwrite", "accesstoken-api"):
        assert _secret(secret_store, api, kind) is None
        assert f"gitlab-repo-{api}-default-{kind}" not in _policies(openbao_dev)
    assert set(_keys(gitlab, web)) == {f"repo-{web}-readonly", f"repo-{web}-readwrite"}
    assert not (api_keys & set(gitlab.deploy_keys))
    assert _secret(secret_store, web, "readonly") is not None

    again = _deprovision(api, "api")  # Idempotent: everything is already gone.
    assert again.status == Operation.Status.SUCCEEDED, again.error
    assert "already deleted" in _steps(again)["project"][1]
    _assert_nothing_leaked(secrets, caplog)


# ---- Product-level steps -----------------------------------------------------------------------


def test_product_steps_protect_main_and_add_the_default_project_readonly_key(
    gitlab: FakeGitLab, secret_store: SecretStore, openbao_dev: OpenBaoDevServer
) -> None:
    project = gitlab.create_project(f"{PRODUCT}/default.project")
    operation = SimpleNamespace(params={"name": PRODUCT})

    detail = rp.protect_default_branch(operation)  # type: ignore[arg-type]
    assert "protected" in detail
    rule = project.protected["main"]
    assert (rule.push_access_level, rule.merge_access_level) == (40, 40)

    detail = rp.ensure_default_project_key(operation)  # type: ignore[arg-type]
    assert "new" in detail
    assert {t: push for t, (_, push) in _keys(gitlab, project.id).items()} == {
        f"repo-{project.id}-readonly": False
    }
    secret = _secret(secret_store, project.id, "readonly")
    assert secret is not None
    key_id, _ = _keys(gitlab, project.id)[f"repo-{project.id}-readonly"]
    assert secret["id"] == str(key_id)
    assert (
        private_key_fingerprint(secret["deploykey"])
        == gitlab.deploy_keys[key_id].fingerprint_sha256
    )
    assert f"gitlab-repo-{project.id}-default-readonly" in _policies(openbao_dev)
    assert "kept" in rp.ensure_default_project_key(operation)  # type: ignore[arg-type]
    assert rp.protect_default_branch(operation)  # type: ignore[arg-type]
    assert secret["deploykey"] not in detail


def test_every_kind_is_registered_with_its_steps() -> None:
    from nautes_portal.operations import steps_for

    assert [s.name for s in steps_for(rp.CODEREPO_PROVISION)] == [
        "deploy_keys",
        "access_token",
        "webhook",
        "authorization",
    ]
    assert [s.name for s in steps_for(rp.CODEREPO_DEPROVISION)] == [
        "secrets",
        "deploy_keys",
        "project",
        "authorization",
    ]
    assert [s.name for s in steps_for(rp.PRODUCT_AUTHORIZATION)] == ["authorization"]
