"""YAML in and out of Git, one way for every app: rendered like upstream Nautes, parsed within
the input limits. Each byte the portal commits goes through `dump_yaml`, so a file written by the
portal and a preview of it are the same bytes."""

from __future__ import annotations

from typing import Any

import yaml

from nautes_portal.limits import InputRefused, load_yaml_bounded


class ManifestError(ValueError):
    """A file in the repository is not a valid Nautes manifest; the message says why."""


class _UpstreamDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Write empty strings as `""`, as go-yaml (behind sigs.k8s.io/yaml) does."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if value == "":
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_str(value)


_UpstreamDumper.add_representer(str, _represent_str)


def dump_yaml(document: dict[str, Any]) -> bytes:
    """Render like upstream (JSON → sigs.k8s.io/yaml): keys sorted, block style."""
    return yaml.dump(
        document,
        Dumper=_UpstreamDumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
    ).encode()


def load_yaml(content: bytes, path: str) -> dict[str, Any]:
    """Parse one file read from Git, within the input limits (`nautes_portal.limits`)."""
    try:
        document = load_yaml_bounded(content.decode("utf-8"), what=path)
    except InputRefused as exc:  # the message names the file and the limit it broke
        raise ManifestError(exc.message) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: not valid YAML ({exc.__class__.__name__})") from exc
    if not isinstance(document, dict):
        raise ManifestError(f"{path}: expected a YAML mapping")
    return document
