"""What the portal does in a runtime cluster: the `ClusterApi` protocol; objects are dicts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

Obj = dict[str, Any]


class ClusterApi(Protocol):
    """What the portal does in a runtime cluster."""

    server: str

    def version(self) -> str: ...
    def can_i(
        self, verb: str, resource: str, group: str = "", namespace: str | None = None
    ) -> bool: ...
    def crd_exists(self, name: str) -> bool: ...
    def namespace_exists(self, name: str) -> bool: ...
    def ensure_namespace(
        self, name: str, labels: dict[str, str], *, owner_label: tuple[str, str] | None = None
    ) -> Obj: ...
    def delete_namespace(self, name: str, *, owner_label: tuple[str, str]) -> bool: ...
    def namespace_owned_or_absent(self, name: str, *, owner_label: tuple[str, str]) -> bool: ...
    def ensure_object(
        self,
        group: str,
        version: str,
        plural: str,
        namespace: str | None,
        body: Obj,
        *,
        owner_label: tuple[str, str],
    ) -> Obj: ...
    def get_object(
        self, group: str, version: str, plural: str, namespace: str | None, name: str
    ) -> Obj | None: ...
    def list_objects(
        self,
        group: str,
        version: str,
        plural: str,
        namespace: str | None,
        label_selector: str = "",
        *,
        field_selector: str = "",
    ) -> list[Obj]: ...
    def pod_log(
        self,
        namespace: str,
        pod: str,
        *,
        container: str,
        tail_lines: int,
        previous: bool = False,
        limit_bytes: int | None = None,
    ) -> str: ...
    def delete_object(
        self,
        group: str,
        version: str,
        plural: str,
        namespace: str | None,
        name: str,
        *,
        owner_label: tuple[str, str],
    ) -> bool: ...
    def apply_owned(
        self,
        group: str,
        version: str,
        plural: str,
        namespace: str | None,
        body: Obj,
        *,
        owner_label: tuple[str, str],
        current: Obj | None,
    ) -> Obj: ...
    def delete_listed(
        self, group: str, version: str, plural: str, current: Obj, *, owner_label: tuple[str, str]
    ) -> bool: ...
    def edit_config_map_key(
        self,
        namespace: str,
        name: str,
        key: str,
        edit: Callable[[str], str],
        *,
        labels: dict[str, str],
    ) -> bool: ...
    def read_secret_data(self, namespace: str, name: str) -> dict[str, str] | None: ...
    def patch_object(
        self, group: str, version: str, plural: str, namespace: str | None, name: str, patch: Obj
    ) -> Obj | None: ...
    def delete_pod(self, namespace: str, name: str, *, uid: str) -> bool: ...
    def close(self) -> None: ...
