"""Keep the index (database rows) equal to what `default.project` holds at a commit."""

from __future__ import annotations

import json
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from products.manifests import ParsedResource, ParsedTree, index_fields
from products.models import MODEL_BY_KIND, CodeRepo, Product
from products.state import ProductState, Resource


def row_values(resource: ParsedResource | Resource, document: dict[str, Any]) -> dict[str, Any]:
    """Column values of the index row for one resource document."""
    spec = document.get("spec") if isinstance(document.get("spec"), dict) else {}
    return {
        "path": resource.path,
        "manifest": document,
        **index_fields(resource.kind, spec or {}),
    }


def upsert_row(
    product: Product, kind: str, name: str, values: dict[str, Any], commit_sha: str
) -> None:
    """Write one index row. Callers hold the product row's lock (index updates of a product
    happen one at a time), so an UPDATE, and an INSERT when it matched nothing, are enough:
    update_or_create's savepoint and row lock cost three more round trips on every save."""
    model = MODEL_BY_KIND[kind]
    values = {**values, "commit_sha": commit_sha}
    rows = model.objects.filter(product=product, name=name)
    if not rows.update(**values, updated_at=timezone.now()):
        model.objects.create(product=product, name=name, **values)


def delete_row(product: Product, kind: str, name: str) -> None:
    MODEL_BY_KIND[kind].objects.filter(product=product, name=name).delete()


def shadowed_code_repos(
    resources: list[ParsedResource], preferred: set[str]
) -> dict[str, tuple[str, str]]:
    """CodeRepos that cannot be indexed because another one has the same `repoName` (one
    repository, one row): name -> the message. Of several, a `preferred` one (verified in
    Git) is kept, else the first file. Values are (path, message)."""
    by_repo_name: dict[str, list[ParsedResource]] = {}
    for resource in resources:
        if resource.kind == "CodeRepo":
            repo_name = index_fields("CodeRepo", resource.spec)["repo_name"]
            by_repo_name.setdefault(repo_name, []).append(resource)
    shadowed: dict[str, tuple[str, str]] = {}
    for repo_name, group in by_repo_name.items():
        kept = next((r for r in group if r.name in preferred), group[0])
        for resource in group:
            if resource.name not in (kept.name, *shadowed):
                shadowed[resource.name] = (
                    resource.path,
                    f"CodeRepo {resource.name} is not indexed: repoName {repo_name!r} is "
                    f"already CodeRepo {kept.name}'s ({kept.path})",
                )
    return shadowed


@transaction.atomic
def replace_index(
    product: Product,
    tree: ParsedTree,
    commit_sha: str,
    problems_by_resource: dict[tuple[str, str], list[str]],
    preferred_code_repos: set[str] | frozenset[str] = frozenset(),
) -> None:
    """Make the product's rows equal to `tree` read at `commit_sha`.

    Rows whose document did not change keep the commit they were last written in. A CodeRepo
    whose `repoName` another one has is left out, as a problem of the sync (see
    `shadowed_code_repos`); a pushed file must never make the import fail.
    """
    keep: dict[str, set[str]] = {kind: set() for kind in MODEL_BY_KIND}
    shadowed = shadowed_code_repos(tree.resources, set(preferred_code_repos))
    sync_problems = tree.problems + [
        {"path": path, "message": message} for path, message in shadowed.values()
    ]
    # Rows that leave, or whose repoName changes, go first: the new rows may take their names.
    new_repo_names = {
        r.name: index_fields("CodeRepo", r.spec)["repo_name"]
        for r in tree.resources
        if r.kind == "CodeRepo" and r.name not in shadowed
    }
    for row in CodeRepo.objects.filter(product=product).only("name", "repo_name"):
        if new_repo_names.get(row.name) != row.repo_name:
            row.delete()
    existing_rows = {
        kind: {row.name: row for row in model.objects.filter(product=product)}
        for kind, model in MODEL_BY_KIND.items()
    }
    for resource in tree.resources:
        if resource.name in keep[resource.kind]:
            continue  # a duplicate: upstream keeps the first file
        if resource.kind == "CodeRepo" and resource.name in shadowed:
            continue
        keep[resource.kind].add(resource.name)
        model = MODEL_BY_KIND[resource.kind]
        values = row_values(resource, resource.document)
        problems = resource.problems + problems_by_resource.get((resource.kind, resource.name), [])
        values["problems"] = problems
        existing = existing_rows[resource.kind].get(resource.name)
        unchanged = existing is not None and existing.manifest == resource.document
        if existing is not None and unchanged and existing.path == resource.path:
            if existing.problems != problems:
                model.objects.filter(pk=existing.pk).update(problems=problems)
            continue
        upsert_row(product, resource.kind, resource.name, values, commit_sha)
    for kind, model in MODEL_BY_KIND.items():
        model.objects.filter(product=product).exclude(name__in=keep[kind]).delete()
    Product.objects.filter(pk=product.pk).update(
        commit_sha=commit_sha, synced_at=timezone.now(), sync_problems=sync_problems
    )


def product_state(product: Product) -> ProductState:
    """Build the rules' snapshot of a product from the index (no Git).

    Only the clusters the product's environments use are loaded, with the other products'
    runtimes on them, so the cost follows the product, not the tenant.
    """
    state = ProductState(
        product_name=product.name, product_id=product.resource_name, product_pk=product.pk
    )
    for name, path, manifest, kind in _resource_rows(product):
        spec = dict(manifest.get("spec") or {})
        resource = Resource(kind=kind, name=name, path=path, spec=spec, manifest=manifest)
        state.of_kind(kind)[name] = resource
    state.repo_ids_by_name = dict(
        CodeRepo.objects.filter(product=product).values_list("repo_name", "name")
    )
    return complete_state(state)


# Every resource of a product as (name, path, manifest, kind), kind by kind and by name, in one
# query: every save and preview reads them. Written out because building the ORM's six-way
# UNION cost 2.8 ms a save against 0.7 ms for running it (and one query per kind cost a round
# trip each on PostgreSQL). Only the models' table names and kinds (constants) are in the text;
# the product id is a parameter.
_SELECTS = [
    f"SELECT name, path, manifest, '{kind}', {rank} FROM {model._meta.db_table}"  # noqa: S608
    " WHERE product_id = %s"
    for rank, (kind, model) in enumerate(MODEL_BY_KIND.items())
]
RESOURCE_ROWS_SQL = " UNION ALL ".join(_SELECTS) + " ORDER BY 5, 1"


def _resource_rows(product: Product) -> list[tuple[str, str, dict[str, Any], str]]:
    with connection.cursor() as cursor:
        cursor.execute(RESOURCE_ROWS_SQL, [product.pk] * len(MODEL_BY_KIND))
        rows = cursor.fetchall()
    # The drivers hand JSON columns over as text (the ORM's field would decode them).
    return [
        (name, path, manifest if isinstance(manifest, dict) else json.loads(manifest), kind)
        for name, path, manifest, kind, _rank in rows
    ]


def complete_state(state: ProductState) -> ProductState:
    """Load the clusters the state's environments name that are not loaded yet (one query each
    for clusters and their foreign runtimes); call it again after adding an environment."""
    from clusters.models import Cluster

    missing = state.environment_clusters() - state.loaded_clusters
    if missing:
        for cluster in Cluster.objects.filter(name__in=missing).only("name", "manifest"):
            state.clusters[cluster.name] = cluster.spec
        state.foreign_runtimes.extend(_foreign_runtimes(state.product_pk, missing))
        state.loaded_clusters |= missing
    return state


def _foreign_runtimes(product_pk: int | None, clusters: set[str]) -> list[Any]:
    # A product not saved yet (pk None) has no runtimes: exclude nothing of the others.
    """Runtimes of other products on `clusters`, for the cross-product namespace rules."""
    from products.models import DeploymentRuntime, Environment, ProjectPipelineRuntime
    from products.state import ForeignRuntime

    environments = Environment.objects.filter(cluster__in=clusters)
    if product_pk is not None:
        environments = environments.exclude(product_id=product_pk)
    cluster_of = {
        (e.product_id, e.name): e.cluster
        for e in environments.only("product_id", "name", "cluster")
    }
    if not cluster_of:
        return []
    product_ids = {product_id for product_id, _ in cluster_of}
    group_ids = dict(Product.objects.filter(pk__in=product_ids).values_list("pk", "group_id"))
    env_names = {name for _, name in cluster_of}
    result: list[ForeignRuntime] = []
    for dr in DeploymentRuntime.objects.filter(
        product_id__in=product_ids, destination_environment__in=env_names
    ).only("product_id", "name", "destination_environment", "destination_namespaces"):
        if cluster := cluster_of.get((dr.product_id, dr.destination_environment)):
            result.append(
                ForeignRuntime(
                    product_id=f"product-{group_ids[dr.product_id]}",
                    kind="DeploymentRuntime",
                    name=dr.name,
                    cluster=cluster,
                    namespaces=tuple(dr.destination_namespaces or [dr.name]),
                )
            )
    for ppr in ProjectPipelineRuntime.objects.filter(
        product_id__in=product_ids, destination_environment__in=env_names
    ).only("product_id", "name", "destination_environment", "destination_namespace"):
        if cluster := cluster_of.get((ppr.product_id, ppr.destination_environment)):
            result.append(
                ForeignRuntime(
                    product_id=f"product-{group_ids[ppr.product_id]}",
                    kind="ProjectPipelineRuntime",
                    name=ppr.name,
                    cluster=cluster,
                    namespaces=(ppr.destination_namespace or ppr.name,),
                )
            )
    return result
