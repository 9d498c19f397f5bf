"""Git host capabilities are explicit flags on `GitHost`: every adapter declares every flag, and
callers branch on the flag, never on which methods a host happens to have."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_type_hints

import pytest

from nautes_portal.integrations.config_repo import GitHost
from nautes_portal.integrations.git_local import LocalGitHost
from nautes_portal.integrations.gitlab import GitLabHost
from nautes_portal.models import OidcIdentity
from nautes_portal.operations.models import Operation
from products.adoption import caller_owns_group
from products.models import Product
from products.provisioning import ensure_owner, made_by_this_operation
from products.repo_provisioning.webhooks import ensure_webhook
from products.services.provision import authorization_refresh

FLAGS = {name for name, kind in get_type_hints(GitHost).items() if kind is bool}

ADAPTERS: dict[type, bool] = {LocalGitHost: False, GitLabHost: True}


def test_the_protocol_has_capability_flags() -> None:
    assert {"manages_project_access", "manages_group_members"} == FLAGS


@pytest.mark.parametrize("adapter", list(ADAPTERS), ids=lambda cls: cls.__name__)
def test_each_adapter_declares_every_flag_in_its_own_body(adapter: type) -> None:
    for flag in FLAGS:
        assert flag in vars(adapter), f"{adapter.__name__} does not declare {flag}"
        assert vars(adapter)[flag] is ADAPTERS[adapter]


class _DuckHost(LocalGitHost):
    """A local host that has GitLab's method names but not the capabilities: the old
    `hasattr` checks would have taken the GitLab path with it."""

    calls: list[str] = []

    def _called(self, name: str) -> Any:
        _DuckHost.calls.append(name)
        raise AssertionError(f"{name} called on a host without the capability")

    def ensure_deploy_key(self, *args: Any, **kwargs: Any) -> Any:
        return self._called("ensure_deploy_key")

    def ensure_hook(self, *args: Any, **kwargs: Any) -> Any:
        return self._called("ensure_hook")

    def group_members(self, *args: Any, **kwargs: Any) -> Any:
        return self._called("group_members")

    def group_member_level(self, *args: Any, **kwargs: Any) -> Any:
        return self._called("group_member_level")

    def add_group_member(self, *args: Any, **kwargs: Any) -> Any:
        return self._called("add_group_member")


def test_subclasses_inherit_the_flags(git_root: Path) -> None:
    host = _DuckHost(git_root)
    assert not host.manages_project_access
    assert not host.manages_group_members


@pytest.mark.django_db
def test_a_host_without_a_capability_takes_the_no_capability_path(
    alice: Any, git_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = _DuckHost(git_root)
    _DuckHost.calls = []
    monkeypatch.setattr("products.provisioning.git_host", lambda: host)
    monkeypatch.setattr("products.repo_provisioning.base.git_host", lambda: host)
    group = host.create_group(path="acme", name="acme")
    product = Product.objects.create(name="acme", group_id=group.id)
    from nautes_portal.identity import identity_issuer

    OidcIdentity.objects.create(user=alice, issuer=identity_issuer(), subject="7", username="a")

    # Project access: no deploy-key sharing operation, no hook.
    assert authorization_refresh(product=product, actor=alice, host=host) == ""
    assert not Operation.objects.exists()
    hook = Operation(kind="test", target="app", params={"project_id": 1, "webhook_url": "u"})
    assert ensure_webhook(hook) == "local backend: webhooks are not managed"

    # Group members: ownership is the portal's, a group sent for creation is this one's.
    assert caller_owns_group(host, group, alice) is False
    save = Operation(kind="test", target="acme", created_by=alice, params={"name": "acme"})
    assert ensure_owner(save) == "local backend: ownership is recorded in the portal"
    save.params["group_create_sent"] = True
    assert made_by_this_operation(save, host, group) is True
    assert _DuckHost.calls == []
