"""Validate rendered manifests against the upstream CRD schemas (copies in tests/data/crds/).

The CRDs' openAPIV3Schema is close to JSON Schema draft 7. Two Kubernetes extensions need a
translation: `nullable: true` (null is allowed too) and `x-kubernetes-*` keywords (dropped;
they steer pruning and merging, not validity).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jsonschema
import yaml

CRD_DIR = Path(__file__).parent / "data" / "crds"


def _to_json_schema(node: Any) -> Any:
    """Translate a Kubernetes structural schema into draft-7 JSON Schema."""
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    schema = {
        key: _to_json_schema(value)
        for key, value in node.items()
        if not key.startswith("x-kubernetes-") and key != "nullable"
    }
    if node.get("nullable") is True:
        if "type" in schema:
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            schema["type"] = [*types, "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    return schema


def _crd_file_for_kind(kind: str) -> Path:
    """The CRD file in CRD_DIR whose `spec.names.kind` is `kind`."""
    for path in sorted(CRD_DIR.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        if crd.get("spec", {}).get("names", {}).get("kind") == kind:
            return path
    raise LookupError(f"no CRD for kind {kind} in {CRD_DIR}")


@functools.cache
def crd_schema(crd_file: str) -> dict[str, Any]:
    """The draft-7 schema of the first version of a CRD file (a name in CRD_DIR or a path)."""
    path = Path(crd_file)
    if not path.is_absolute():
        path = CRD_DIR / path
    crd = yaml.safe_load(path.read_text())
    return _to_json_schema(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])


def validate_against_crd(doc: dict[str, Any], crd_file: str | None = None) -> None:
    """Raise `jsonschema.ValidationError` when `doc` breaks its CRD's schema.

    Without `crd_file` the CRD is found by the document's `kind`.
    """
    if crd_file is None:
        crd_file = _crd_file_for_kind(doc["kind"]).name
    jsonschema.Draft7Validator(crd_schema(crd_file)).validate(doc)
