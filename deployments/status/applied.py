"""What the portal applied to the cluster for a runtime, against what Git holds now: the
commit of the last reconcile pass, whether the cluster is behind the index, and the pass's
result (pure: reads only the rows it is given)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from deployments.models import PassResult, RuntimeStatus


@dataclass(frozen=True)
class Applied:
    commit: str  # the index commit the last pass applied ("" before any pass applied it)
    index_commit: str  # the product's index now
    behind: bool  # Git moved on since the cluster was last made to match it
    result: str  # a PassResult value, "" before the first pass
    message: str
    pass_at: dt.datetime | None

    @property
    def problem(self) -> bool:
        return self.result in (PassResult.REFUSED, PassResult.CONFLICT)


def applied_state(product: Any, status: RuntimeStatus | None) -> Applied:
    index_commit = str(getattr(product, "commit_sha", "") or "")
    if status is None or not status.pass_at:
        return Applied("", index_commit, bool(index_commit), "", "", None)
    commit = status.applied_commit
    admitted = status.pass_result in (PassResult.APPLIED, PassResult.UNCHANGED)
    behind = not admitted or (bool(index_commit) and commit != index_commit)
    return Applied(
        commit=commit,
        index_commit=index_commit,
        behind=behind,
        result=status.pass_result,
        message=status.pass_message,
        pass_at=status.pass_at,
    )
