"""The setup (the wizard's "Create") and the revert of a commit are services (#13): called
directly here, with real Git and the real rules."""

from __future__ import annotations

from typing import Any

import pytest

from nautes_portal.integrations import git_host
from products import services
from products.models import Environment, Product, Project
from products.services.revert import NOTHING_TO_REVERT
from tests.ui.helpers import index_cluster

pytestmark = pytest.mark.django_db


def _save(kind: str, name: str, spec: dict[str, Any], actor: Any) -> services.SetupItem:
    def save(product: Product) -> object:
        return services.resource_save(
            product=product, kind=kind, name=name, spec=spec, actor=actor, host=git_host()
        )

    return services.SetupItem(kind=kind.lower(), name=name, save=save)


def test_setup_stops_at_the_first_failure_and_reports_every_step(alice: Any) -> None:
    index_cluster("cluster-dev")
    result = services.product_setup(
        name="shop",
        display_name="",
        visibility="",
        description="",
        items=[
            _save("Environment", "dev", {"cluster": "cluster-dev", "envType": "dev"}, alice),
            _save("Environment", "far", {"cluster": "nowhere", "envType": "dev"}, alice),
            _save("Project", "api", {"language": "go"}, alice),
        ],
        actor=alice,
    )
    assert [(a["status"], a["kind"], a["name"]) for a in result["actions"]] == [
        ("done", "Product", "shop"),
        ("done", "environment", "dev"),
        ("failed", "environment", "far"),
        ("skipped", "project", "api"),
    ]
    assert result["created"] and not result["ok"] and result["operation"] is not None
    assert "nowhere" in result["actions"][2]["detail"]
    product = Product.objects.get(name="shop")
    assert product.display_name == "shop" and product.visibility == "private"
    assert list(Environment.objects.values_list("name", flat=True)) == ["dev"]
    assert not Project.objects.exists()


def test_a_refused_product_skips_every_item(alice: Any) -> None:
    result = services.product_setup(
        name="new",
        display_name="",
        visibility="private",
        description="",
        items=[_save("Project", "api", {"language": "go"}, alice)],
        actor=alice,
    )
    assert [a["status"] for a in result["actions"]] == ["failed", "skipped"]
    assert not result["created"] and not result["ok"]
    assert not Product.objects.exists()


def test_a_revert_restores_the_previous_spec_once(alice: Any) -> None:
    product, _ = services.product_save(
        name="shop", display_name="", path="shop", visibility="private", description="", actor=alice
    )
    host = git_host()
    for language in ("go", "java"):
        services.resource_save(
            product=product,
            kind="Project",
            name="api",
            spec={"language": language},
            actor=alice,
            host=host,
        )
    repo = services.product_repository(product, host)
    first, changed = repo.history(limit=10)[-1], repo.history(limit=1)[0]

    assert not services.revert_plan(product=product, repo=repo, commit=first, host=host).supported
    plan = services.revert_plan(product=product, repo=repo, commit=changed, host=host)
    assert (plan.supported, plan.kind, plan.name) == (True, "Project", "api")
    assert plan.spec is not None and plan.spec["language"] == "go"
    preview = services.revert_preview(product=product, plan=plan)
    assert preview.problems == [] and "java" in preview.diff and not preview.gone

    services.revert_apply(product=product, plan=plan, actor=alice, host=host)
    assert Project.objects.get(product=product, name="api").spec["language"] == "go"
    assert services.revert_preview(product=product, plan=plan).problems == [NOTHING_TO_REVERT]


def test_reverting_a_creation_deletes_and_then_finds_it_gone(alice: Any) -> None:
    product, _ = services.product_save(
        name="shop", display_name="", path="shop", visibility="private", description="", actor=alice
    )
    host = git_host()
    services.resource_save(
        product=product, kind="Project", name="api", spec={"language": "go"}, actor=alice, host=host
    )
    repo = services.product_repository(product, host)
    plan = services.revert_plan(product=product, repo=repo, commit=repo.history()[0], host=host)
    assert plan.supported and plan.spec is None
    services.revert_apply(product=product, plan=plan, actor=alice, host=host)
    assert not Project.objects.exists()
    assert services.revert_preview(product=product, plan=plan).gone
