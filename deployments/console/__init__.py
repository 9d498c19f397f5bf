"""The deployment console's reads (#15): a runtime's resource tree, events, pod logs and diffs,
read live from its cluster for the product's readers.

This is the one place where a read touches a cluster (pages and the API otherwise read the
status table the collector fills): a person debugging a Degraded runtime needs the cluster as it
is now. Every read goes through a `Console` (`open_console`), which limits it to the runtime's
Application and the runtime's own namespaces, with a short timeout; an unreachable cluster is a
`ClusterUnreachable` (503), never a traceback.

The package, one module per job: `scope` (`Console`, `open_console`: where a runtime may be
read), `kinds` (API places of the kinds it knows), `health` (Argo CD's built-in health rules),
`pods` (a pod's summary), `tree` (`resource_tree`), `events` (`runtime_events`), `logs`
(`pod_logs`) and `diff` (`resource_diffs`).
"""

from __future__ import annotations

from deployments.console.diff import DiffReading, ResourceDiff, resource_diffs
from deployments.console.events import EventReading, EventRow, runtime_events
from deployments.console.health import Health, resource_health
from deployments.console.logs import (
    DEFAULT_TAIL_LINES,
    MAX_TAIL_LINES,
    PodLog,
    find_pod,
    pod_logs,
    tail_lines_from,
)
from deployments.console.pods import ContainerInfo, PodInfo, pod_info
from deployments.console.scope import CONSOLE_TIMEOUT, Console, open_console
from deployments.console.tree import ApplicationSummary, ResourceTree, TreeNode, resource_tree

__all__ = [
    "CONSOLE_TIMEOUT",
    "DEFAULT_TAIL_LINES",
    "MAX_TAIL_LINES",
    "ApplicationSummary",
    "Console",
    "ContainerInfo",
    "DiffReading",
    "EventReading",
    "EventRow",
    "Health",
    "PodInfo",
    "PodLog",
    "ResourceDiff",
    "ResourceTree",
    "TreeNode",
    "find_pod",
    "open_console",
    "pod_info",
    "pod_logs",
    "resource_diffs",
    "resource_health",
    "resource_tree",
    "runtime_events",
    "tail_lines_from",
]
