"""Read side of deployment status: a fixed number of queries whatever the number of rows.

* `product_matrix(product)`: "what is deployed where": projects × environments, each cell the
  runtimes deploying that project to that environment with sync, health, revision, last change,
  age, and whether the revision differs from the environment before (4 queries).
* `runtime_statuses(product)`: every runtime of a product with its status row (2 queries).
* `deployment_overview(user)`: the user's products with runtime counts by sync and health, and
  the runtimes needing attention across them (4 queries; permission-scoped in SQL).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, Max, Min, OuterRef, QuerySet
from django.utils import timezone

from deployments.models import RuntimeStatus
from nautes_portal import permissions
from products.models import DeploymentRuntime, Environment, Product, Project

NO_PROJECT = ""  # the matrix row of runtimes that name no project
ATTENTION_LIMIT = 10  # the first ones by product and runtime; the page says when there are more


def age_text(now: dt.datetime, moment: dt.datetime) -> str:
    """How long ago, short: `4 s`, `3 min`, `2 h`, `5 d`."""
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


@dataclass(frozen=True)
class RuntimeView:
    """A runtime with its status, as pages and the API show it."""

    name: str
    environment: str
    projects: list[str]
    status: RuntimeStatus | None
    now: dt.datetime

    @property
    def state(self) -> str:
        """One word for the badge: unknown, missing, healthy, degraded, out-of-sync..."""
        s = self.status
        if s is None or s.read_at is None:
            return "unknown"
        if not s.reachable:
            return "unknown"
        if not s.application_found:
            return "missing"
        if s.health_status in ("Degraded", "Missing") or s.operation_phase in ("Failed", "Error"):
            return "failing"
        if s.sync_status != "Synced" or s.health_status != "Healthy":
            return "pending"
        return "ok"

    @property
    def age_seconds(self) -> int | None:
        """Seconds since the status was last read successfully."""
        if self.status is None or self.status.read_at is None:
            return None
        return max(0, int((self.now - self.status.read_at).total_seconds()))

    @property
    def age(self) -> str:
        """`updated N s ago` text; empty when never read."""
        if self.status is None or self.status.read_at is None:
            return ""
        return age_text(self.now, self.status.read_at)

    @property
    def short_revision(self) -> str:
        return (self.status.revision if self.status else "")[:8]


@dataclass
class Cell:
    """The runtimes deploying one project to one environment."""

    runtimes: list[RuntimeView] = field(default_factory=list)
    drift: bool = False  # the revisions differ from the nearest environment to the left

    @property
    def revisions(self) -> set[str]:
        return {v.status.revision for v in self.runtimes if v.status and v.status.revision}


@dataclass
class MatrixRow:
    project: str  # NO_PROJECT for runtimes without one
    cells: list[Cell] = field(default_factory=list)


@dataclass
class Matrix:
    environments: list[Environment]
    rows: list[MatrixRow]
    runtimes: int
    oldest_read: dt.datetime | None


# The large columns only the runtime page shows; lists leave them in the database.
DETAIL_COLUMNS = ("operation", "resources", "history")
MESSAGE_COLUMNS = ("conditions", "health_message", "operation_message", "error", "source_version")


def _statuses(product: Product, *, defer: tuple[str, ...]) -> dict[str, RuntimeStatus]:
    rows = RuntimeStatus.objects.filter(product=product).defer(*defer)
    return {s.runtime_name: s for s in rows}


def product_matrix(product: Product) -> Matrix:
    """Projects × environments of a product (4 queries)."""
    now = timezone.now()
    environments = list(Environment.objects.filter(product=product).order_by("name"))
    projects = list(
        Project.objects.filter(product=product).order_by("name").values_list("name", flat=True)
    )
    runtimes = list(
        DeploymentRuntime.objects.filter(product=product)
        .order_by("name")
        .only("name", "destination_environment", "projects_ref")
    )
    statuses = _statuses(product, defer=DETAIL_COLUMNS + MESSAGE_COLUMNS)
    column = {env.name: i for i, env in enumerate(environments)}
    rows = {name: _row(name, len(environments)) for name in projects}
    views = [_view(runtime, statuses, now) for runtime in runtimes]
    for view in views:
        index = column.get(view.environment)
        if index is None:
            continue  # an environment the index does not have: the product page flags it
        for project in view.projects or [NO_PROJECT]:
            if project not in rows:  # a project name the index does not have, or none
                rows[project] = _row(project, len(environments))
            rows[project].cells[index].runtimes.append(view)
    reads = [v.status.read_at for v in views if v.status is not None and v.status.read_at]
    ordered = sorted(rows.values(), key=lambda r: (r.project == NO_PROJECT, r.project))
    for row in ordered:
        _mark_drift(row.cells)
    return Matrix(
        environments=environments,
        rows=ordered,
        runtimes=len(runtimes),
        oldest_read=min(reads) if reads else None,
    )


def _row(project: str, columns: int) -> MatrixRow:
    return MatrixRow(project=project, cells=[Cell() for _ in range(columns)])


def _view(
    runtime: DeploymentRuntime, statuses: dict[str, RuntimeStatus], now: dt.datetime
) -> RuntimeView:
    return RuntimeView(
        name=runtime.name,
        environment=runtime.destination_environment,
        projects=list(runtime.projects_ref or []),
        status=statuses.get(runtime.name),
        now=now,
    )


def _mark_drift(cells: list[Cell]) -> None:
    """Flag cells whose revisions differ from those of the nearest filled cell to the left."""
    before: set[str] = set()
    for cell in cells:
        revisions = cell.revisions
        cell.drift = bool(before and revisions and revisions != before)
        before = revisions or before


def runtime_statuses(product: Product) -> list[RuntimeView]:
    """Every runtime of the product with its status row, by name (2 queries)."""
    now = timezone.now()
    statuses = _statuses(product, defer=DETAIL_COLUMNS)
    runtimes = (
        DeploymentRuntime.objects.filter(product=product)
        .order_by("name")
        .only("name", "destination_environment", "projects_ref")
    )
    return [_view(r, statuses, now) for r in runtimes]


def runtime_view(product: Product, runtime: DeploymentRuntime) -> RuntimeView:
    """One runtime with its status row (1 query)."""
    status = RuntimeStatus.objects.filter(product=product, runtime_name=runtime.name).first()
    return _view(runtime, {runtime.name: status} if status else {}, timezone.now())


# ---- Overview across products -------------------------------------------------------
@dataclass
class ProductSummary:
    product: Product
    runtimes: int = 0
    synced: int = 0
    out_of_sync: int = 0
    healthy: int = 0
    progressing: int = 0
    degraded: int = 0
    unknown: int = 0
    last_change: dt.datetime | None = None
    oldest_read: dt.datetime | None = None


@dataclass
class Overview:
    page: Page
    products: list[ProductSummary]
    attention: list[RuntimeStatus]
    more_attention: bool  # more runtimes need attention than `attention` lists


def _visible(user: Any) -> QuerySet[Product]:
    return permissions.products_visible_to(user).order_by("name")


def _attention(user: Any) -> list[RuntimeStatus]:
    """The first runtimes needing attention, by product then runtime name (one query).

    Sorting every status row of every visible product would cost as much as the tenant is
    large; instead the products are walked in name order and only the first ones having such a
    runtime are read. ATTENTION_LIMIT + 1 rows lie within the first ATTENTION_LIMIT + 1 of them.
    """
    # Only rows whose runtime is still in the index (a removal may still be running): the
    # join to the runtime row decides, not the (always set) columns it joins on.
    needing = RuntimeStatus.objects.filter(runtime__id__isnull=False, needs_attention=True)
    first_products = (
        _visible(user)
        .filter(Exists(needing.filter(product_id=OuterRef("pk"))))
        .values("pk")[: ATTENTION_LIMIT + 1]
    )
    return list(
        needing.filter(product_id__in=first_products)
        .select_related("product")
        .only(
            "product__name",
            "runtime_name",
            "cluster",
            "environment",
            "sync_status",
            "health_status",
            "reachable",
            "read_at",
            "application_found",
            "operation_phase",
        )
        .order_by("product__name", "runtime_name")[: ATTENTION_LIMIT + 1]
    )


def _add_group(
    summary: ProductSummary,
    sync_state: str | None,
    health_state: str | None,
    n: int,
    last_change: dt.datetime | None,
    oldest_read: dt.datetime | None,
) -> None:
    """Count `n` runtimes of one (sync state, health state) into the product's summary; the
    states are None for runtimes whose status was never recorded."""
    summary.runtimes += n
    if sync_state is None:
        return
    if sync_state == "unknown":
        summary.unknown += n
    elif sync_state == "synced":
        summary.synced += n
    else:
        summary.out_of_sync += n
    if health_state in ("healthy", "progressing", "degraded"):
        setattr(summary, health_state, getattr(summary, health_state) + n)
    if last_change is not None and (
        summary.last_change is None or last_change > summary.last_change
    ):
        summary.last_change = last_change
    if oldest_read is not None and (
        summary.oldest_read is None or oldest_read < summary.oldest_read
    ):
        summary.oldest_read = oldest_read


def deployment_overview(user: Any, *, page: int | str | None = 1, per_page: int = 25) -> Overview:
    """The user's products (paged) with runtime counts, and runtimes needing attention. `page`
    may be the raw `?page=` value: Paginator.get_page turns anything unusable into a page."""
    paginator = Paginator(_visible(user).only("name", "display_name", "group_id"), per_page)
    current = paginator.get_page(page)
    products = list(current.object_list)
    ids = [p.pk for p in products]
    summaries = {p.pk: ProductSummary(product=p) for p in products}
    # The index's runtimes of the page, each with its status row if any, counted by state.
    groups = (
        DeploymentRuntime.objects.filter(product_id__in=ids)
        .values_list("product_id", "statuses__sync_state", "statuses__health_state")
        .annotate(
            n=Count("id"),
            last_change=Max("statuses__deployed_at"),
            oldest_read=Min("statuses__read_at"),
        )
        .order_by()
    )
    for product_id, sync_state, health_state, n, last_change, oldest_read in groups:
        _add_group(summaries[product_id], sync_state, health_state, n, last_change, oldest_read)
    attention = _attention(user)
    return Overview(
        page=current,
        products=list(summaries.values()),
        attention=attention[:ATTENTION_LIMIT],
        more_attention=len(attention) > ATTENTION_LIMIT,
    )
