"""Read side of deployment status: a fixed number of queries whatever the number of rows.

* `product_matrix(product)`: "what is deployed where": projects × environments, each cell the
  runtimes deploying that project to that environment with sync, health, revision, last change,
  age, and whether the revision differs from the environment before (4 queries).
* `runtime_statuses(product)`: every runtime of a product with its status row (2 queries).

The overview across products is `deployments.overview` (hand-written SQL).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from deployments.models import RuntimeStatus
from products.models import DeploymentRuntime, Environment, Product, Project

NO_PROJECT = ""  # the matrix row of runtimes that name no project


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
# What a matrix cell shows and RuntimeView.state reads: named rather than deferred, as the
# matrix is polled every 10 s and every further column is a field to load per runtime.
MATRIX_COLUMNS = (
    "runtime_name",
    "sync_status",
    "health_status",
    "revision",
    "read_at",
    "deployed_at",
    "reachable",
    "application_found",
    "operation_phase",
)


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
    statuses = {
        s.runtime_name: s
        for s in RuntimeStatus.objects.filter(product=product).only(*MATRIX_COLUMNS)
    }
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
    statuses = {
        s.runtime_name: s
        for s in RuntimeStatus.objects.filter(product=product).defer(*DETAIL_COLUMNS)
    }
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
