"""The deployments overview across the user's products: three hand-written SQL queries.

The page is polled every 10 s by every user, so its read path is the portal's hottest. The SQL
itself runs in about 1.5 ms at 1,000 products and 10,000 runtimes; building and compiling the
same queries with the ORM cost three times that (measured in bench/run.py, the scale section), so
these few are written out. The permission rule still comes from `nautes_portal.permissions`
(`visible_products_condition`, tested equal to `products_visible_to`), the state columns are the
ones the database derives on `RuntimeStatus`, and the table names come from the models.

* `count`: how many products the user may read (the paginator's total).
* `page`: one page of those products by name, with their index runtimes grouped by status
  state (a runtime never read counts as a runtime only; a status row whose runtime left the
  index is not counted).
* `attention`: the first runtimes needing attention, by product then runtime name, walking the
  products in name order so the cost does not grow with the tenant. `OFFSET 0` keeps its EXISTS
  a per-product probe: PostgreSQL otherwise turns it into a semi-join, and with the statistics
  of a freshly loaded tenant (before autovacuum's ANALYZE) it planned that as a nested loop over
  every status row for every product: 350 ms instead of 1 ms at 1,000 products.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import connection

from deployments.models import RuntimeStatus
from nautes_portal import permissions
from products.models import DeploymentRuntime, Product

ATTENTION_LIMIT = 10  # the first ones by product and runtime; the page says when there are more

PRODUCTS = Product._meta.db_table
RUNTIMES = DeploymentRuntime._meta.db_table
STATUSES = RuntimeStatus._meta.db_table

# The SQL is built from constants and the models' table names only; every value is a parameter.
# A status row counts only while its runtime is in the index (a removal may still be running).
INDEXED = f"JOIN {RUNTIMES} r ON r.product_id = s.product_id AND r.name = s.runtime_name"

COUNT_SQL = f"SELECT COUNT(*) FROM {PRODUCTS} p WHERE {{visible}}"  # noqa: S608

PAGE_SQL = f"""
WITH page AS (
    SELECT p.id, p.name FROM {PRODUCTS} p WHERE {{visible}} ORDER BY p.name LIMIT %s OFFSET %s
)
SELECT page.name, s.sync_state, s.health_state, COUNT(r.id), MAX(s.deployed_at), MIN(s.read_at)
FROM page
LEFT JOIN {RUNTIMES} r ON r.product_id = page.id
LEFT JOIN {STATUSES} s ON s.product_id = r.product_id AND s.runtime_name = r.name
GROUP BY page.id, page.name, s.sync_state, s.health_state
ORDER BY page.name
"""  # noqa: S608

ATTENTION_SQL = f"""
WITH first AS (
    SELECT p.id, p.name FROM {PRODUCTS} p
    WHERE {{visible}}
      AND EXISTS (SELECT 1 FROM {STATUSES} s {INDEXED}
                  WHERE s.product_id = p.id AND s.needs_attention LIMIT 1 OFFSET 0)
    ORDER BY p.name LIMIT %s
)
SELECT first.name, s.runtime_name, s.cluster, s.environment, s.sync_status, s.health_status,
       s.reachable, s.read_at, s.application_found, s.operation_phase
FROM first JOIN {STATUSES} s ON s.product_id = first.id {INDEXED}
WHERE s.needs_attention
ORDER BY first.name, s.runtime_name
LIMIT %s
"""  # noqa: S608


@dataclass
class ProductSummary:
    name: str
    runtimes: int = 0
    synced: int = 0
    out_of_sync: int = 0
    healthy: int = 0
    progressing: int = 0
    degraded: int = 0
    unknown: int = 0
    last_change: dt.datetime | None = None
    oldest_read: dt.datetime | None = None


@dataclass(frozen=True)
class AttentionRow:
    """A runtime needing attention: the status columns the overview shows (and RuntimeView's
    `state` reads)."""

    product: str
    runtime_name: str
    cluster: str
    environment: str
    sync_status: str
    health_status: str
    reachable: bool
    read_at: dt.datetime | None
    application_found: bool
    operation_phase: str


@dataclass
class Overview:
    page: Page
    products: list[ProductSummary]
    attention: list[AttentionRow]
    more_attention: bool  # more runtimes need attention than `attention` lists


def _moment(value: Any) -> dt.datetime | None:
    """A timestamp as the driver returns it, made aware: PostgreSQL gives aware datetimes;
    SQLite gives naive UTC ones for columns and ISO strings for MIN/MAX."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


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


def _summaries(visible: str, params: list[Any], limit: int, offset: int) -> list[ProductSummary]:
    summaries: dict[str, ProductSummary] = {}
    for name, sync_state, health_state, n, last_change, oldest_read in _rows(
        PAGE_SQL.format(visible=visible), [*params, limit, offset]
    ):
        summary = summaries.get(name) or summaries.setdefault(name, ProductSummary(name=name))
        _add_group(summary, sync_state, health_state, n, _moment(last_change), _moment(oldest_read))
    return list(summaries.values())


def _attention_row(row: tuple[Any, ...]) -> AttentionRow:
    product, runtime, cluster, environment, sync, health, reachable, read_at, found, phase = row
    return AttentionRow(
        product=product,
        runtime_name=runtime,
        cluster=cluster,
        environment=environment,
        sync_status=sync,
        health_status=health,
        reachable=bool(reachable),
        read_at=_moment(read_at),
        application_found=bool(found),
        operation_phase=phase,
    )


def _attention(visible: str, params: list[Any]) -> list[AttentionRow]:
    """ATTENTION_LIMIT + 1 rows (to tell whether there are more); they lie within the first
    ATTENTION_LIMIT + 1 products having such a runtime."""
    limit = ATTENTION_LIMIT + 1
    rows = _rows(ATTENTION_SQL.format(visible=visible), [*params, limit, limit])
    return [_attention_row(row) for row in rows]


def deployment_overview(user: Any, *, page: int | str | None = 1, per_page: int = 25) -> Overview:
    """The user's products (paged) with runtime counts, and runtimes needing attention. `page`
    may be the raw `?page=` value: Paginator.get_page turns anything unusable into a page."""
    visible, params = permissions.visible_products_condition(user, "p")
    (total,) = _rows(COUNT_SQL.format(visible=visible), params)[0]
    # A range stands for the products: the paginator needs only their number to settle the page.
    current = Paginator(range(total), per_page).get_page(page)
    offset = current.start_index() - 1 if total else 0
    summaries = _summaries(visible, params, per_page, offset)
    current.object_list = summaries  # type: ignore[assignment]  # the page shows these rows
    attention = _attention(visible, params)
    return Overview(
        page=current,
        products=summaries,
        attention=attention[:ATTENTION_LIMIT],
        more_attention=len(attention) > ATTENTION_LIMIT,
    )
