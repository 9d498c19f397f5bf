"""Translate between upstream's API JSON (snake_case, repository names) and manifest specs
(camelCase, `repo-<pid>` ids)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nautes_portal.errors import RuleViolation


class RepoNames:
    """Two-way lookup between repository names and `repo-<pid>` ids of one product."""

    def __init__(self, ids_by_name: Mapping[str, str]) -> None:
        self.ids_by_name = dict(ids_by_name)
        self.names_by_id = {v: k for k, v in ids_by_name.items()}

    def to_id(self, name: str, *, context: str) -> str:
        if not name:
            return ""
        if name in self.ids_by_name:
            return self.ids_by_name[name]
        raise RuleViolation(
            f"failed to get codeRepo name when converting {context}: "
            f"repository {name} does not exist in this product",
            reason="RESOURCE_NOT_EXIST",
        )

    def to_name(self, repo_id: str) -> str:
        return self.names_by_id.get(repo_id, repo_id)


def _drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v not in (None, "", [], {})}


# ---- Requests → specs -------------------------------------------------------------------


def environment_spec(body: dict[str, Any]) -> dict[str, Any]:
    return {"cluster": body["cluster"], "envType": body["env_type"]}


def project_spec(body: dict[str, Any]) -> dict[str, Any]:
    return {"language": body.get("language", "")}


def coderepo_spec(body: dict[str, Any]) -> dict[str, Any]:
    webhook = body.get("webhook")
    return {
        "project": body.get("project", ""),
        "deploymentRuntime": bool(body.get("deployment_runtime")),
        "pipelineRuntime": bool(body.get("pipeline_runtime")),
        "webhook": {"events": list(webhook.get("events") or [])} if webhook else None,
    }


def binding_spec(body: dict[str, Any], repos: RepoNames) -> dict[str, Any]:
    repo_id = repos.ids_by_name.get(body["coderepo"])
    if repo_id is None:
        raise RuleViolation(
            f"failed to convert repository name {body['coderepo']} to codeRepo name, "
            "err: the repository does not exist in this product",
            reason="RESOURCE_NOT_EXIST",
        )
    return {
        "codeRepo": repo_id,
        "projects": list(body.get("projects") or []),
        "permissions": body["permissions"],
    }


def deployment_runtime_spec(body: dict[str, Any], repos: RepoNames) -> dict[str, Any]:
    source = body["manifest_source"]
    repo_id = repos.ids_by_name.get(source["code_repo"])
    if repo_id is None:
        raise RuleViolation(
            f"failed to get repository {source['code_repo']}, err: the repository does not "
            "exist in this product",
            reason="RESOURCE_NOT_EXIST",
        )
    spec: dict[str, Any] = {
        "projectsRef": list(body.get("projects_ref") or []),
        "manifestSource": {
            "codeRepo": repo_id,
            "targetRevision": source["target_revision"],
            "path": source["path"],
        },
        "account": body.get("account", ""),
    }
    if "destination" in body:
        destination = body["destination"]
        spec["destination"] = {
            "environment": destination.get("environment", ""),
            "namespaces": list(destination.get("namespaces") or []),
        }
    return spec


def pipeline_runtime_spec(body: dict[str, Any], repos: RepoNames) -> dict[str, Any]:
    event_sources = []
    for source in body.get("event_sources") or []:
        item: dict[str, Any] = {"name": source["name"]}
        if gitlab := source.get("gitlab"):
            item["gitlab"] = {
                "repoName": repos.to_id(gitlab["repo_name"], context="event source repository"),
                "revision": gitlab.get("revision", ""),
                "events": list(gitlab.get("events") or []),
            }
        if calendar := source.get("calendar"):
            item["calendar"] = _drop_empty(
                {
                    "schedule": calendar.get("schedule", ""),
                    "interval": calendar.get("interval", ""),
                    "timezone": calendar.get("timezone", ""),
                }
            ) | {"exclusionDates": list(calendar.get("exclusion_dates") or [])}
        event_sources.append(item)
    triggers = []
    for trigger in body.get("pipeline_triggers") or []:
        item = {"eventSource": trigger["event_source"], "pipeline": trigger["pipeline"]}
        if trigger.get("revision"):
            item["revision"] = trigger["revision"]
        if inputs := trigger.get("inputs"):
            item["inputs"] = [_input_spec(i) for i in inputs]
        triggers.append(item)
    spec: dict[str, Any] = {
        "project": body["project"],
        "pipelineSource": repos.to_id(body["pipeline_source"], context="pipeline source"),
        "pipelines": [
            _drop_empty({"name": p["name"], "label": p.get("label", ""), "path": p["path"]})
            | {"name": p["name"], "path": p["path"]}
            for p in body.get("pipelines") or []
        ],
        "eventSources": event_sources,
        "isolation": body["isolation"],
        "pipelineTriggers": triggers,
        "account": body.get("account", ""),
    }
    if "destination" in body:
        destination = body["destination"]
        spec["destination"] = {
            "environment": destination.get("environment", ""),
            "namespace": destination.get("namespace", ""),
        }
    additional = (body.get("additional_resources") or {}).get("git")
    if additional:
        spec["additionalResources"] = {
            "git": _drop_empty(
                {
                    "codeRepo": repos.to_id(
                        additional.get("coderepo", ""), context="additional resources"
                    ),
                    "url": additional.get("url", ""),
                }
            )
            | {"revision": additional.get("revision", ""), "path": additional.get("path", "")}
        }
    hooks = body.get("hooks")
    if hooks and (hooks.get("pre_hooks") or hooks.get("post_hooks")):
        spec["hooks"] = _drop_empty(
            {
                "preHooks": [_hook_spec(h) for h in hooks.get("pre_hooks") or []],
                "postHooks": [_hook_spec(h) for h in hooks.get("post_hooks") or []],
            }
        )
    return spec


def _input_spec(value: dict[str, Any]) -> dict[str, Any]:
    source = value.get("source") or {}
    method = value.get("transmission_method") or {}
    result: dict[str, Any] = {
        "source": _drop_empty(
            {
                "builtInVar": source.get("built_in_var", ""),
                "fromEvent": source.get("from_event", ""),
            }
        )
    }
    if method.get("kustomization") is not None:
        result["transmissionMethod"] = {"kustomization": {"path": method["kustomization"]["path"]}}
    return result


def _hook_spec(hook: dict[str, Any]) -> dict[str, Any]:
    return (
        _drop_empty({"name": hook["name"], "alias": hook.get("alias", "")})
        | ({"vars": dict(hook["vars"])} if hook.get("vars") else {})
        | {"name": hook["name"]}
    )


# ---- Specs → replies ---------------------------------------------------------------------


def _s(spec: dict[str, Any], key: str) -> str:
    value = spec.get(key)
    return value if isinstance(value, str) else ""


def _l(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def coderepo_reply(product: str, row: Any) -> dict[str, Any]:
    """From the index columns (no JSON document to decode on list pages)."""
    events = row.webhook_events
    return {
        "product": product,
        "name": row.repo_name,
        "project": row.project,
        "webhook": {"events": list(events)} if events is not None else None,
        "deployment_runtime": row.deployment_runtime,
        "pipeline_runtime": row.pipeline_runtime,
        "git": {
            "gitlab": {
                "name": row.git_name or row.repo_name,
                "path": row.repo_name,
                "visibility": row.git_visibility,
                "description": row.git_description,
                "ssh_url_to_repo": row.ssh_url,
                "http_url_to_repo": row.http_url,
            }
        },
    }


def binding_row_reply(product: str, row: Any, repos: RepoNames) -> dict[str, Any]:
    """From the index columns (no JSON document to decode on list pages)."""
    return {
        "product": product,
        "name": row.name,
        "projects": list(row.projects or []),
        "permissions": row.permissions,
        "coderepo": repos.to_name(row.code_repo),
    }


def deployment_runtime_row_reply(product: str, row: Any, repos: RepoNames) -> dict[str, Any]:
    """From the index columns (no JSON document to decode on list pages)."""
    return {
        "product": product,
        "name": row.name,
        "projects_ref": list(row.projects_ref or []),
        "manifest_source": {
            "code_repo": repos.to_name(row.manifest_code_repo),
            "target_revision": row.manifest_target_revision,
            "path": row.manifest_path,
        },
        "destination": {
            "environment": row.destination_environment,
            "namespaces": list(row.destination_namespaces or []),
        },
        "account": row.account,
    }


def pipeline_runtime_reply(
    product: str, name: str, spec: dict[str, Any], repos: RepoNames
) -> dict[str, Any]:
    destination = _d(spec.get("destination"))
    additional = _d(_d(spec.get("additionalResources")).get("git"))
    hooks = _d(spec.get("hooks"))
    return {
        "product": product,
        "name": name,
        "project": _s(spec, "project"),
        "pipeline_source": repos.to_name(_s(spec, "pipelineSource")),
        "pipelines": [
            {"name": _s(p, "name"), "label": _s(p, "label"), "path": _s(p, "path")}
            for p in map(_d, _l(spec.get("pipelines")))
        ],
        "event_sources": [
            _event_source_reply(e, repos) for e in map(_d, _l(spec.get("eventSources")))
        ],
        "pipeline_triggers": [_trigger_reply(t) for t in map(_d, _l(spec.get("pipelineTriggers")))],
        "destination": {
            "environment": _s(destination, "environment"),
            "namespace": _s(destination, "namespace"),
        },
        "isolation": _s(spec, "isolation"),
        "additional_resources": {
            "git": {
                "coderepo": repos.to_name(_s(additional, "codeRepo")),
                "url": _s(additional, "url"),
                "revision": _s(additional, "revision"),
                "path": _s(additional, "path"),
            }
        }
        if additional
        else None,
        "account": _s(spec, "account"),
        "hooks": {
            "pre_hooks": [_hook_reply(h) for h in map(_d, _l(hooks.get("preHooks")))],
            "post_hooks": [_hook_reply(h) for h in map(_d, _l(hooks.get("postHooks")))],
        },
    }


def _event_source_reply(source: dict[str, Any], repos: RepoNames) -> dict[str, Any]:
    gitlab = source.get("gitlab")
    calendar = source.get("calendar")
    return {
        "name": _s(source, "name"),
        "gitlab": {
            "repo_name": repos.to_name(_s(gitlab, "repoName")),
            "revision": _s(gitlab, "revision"),
            "events": _l(gitlab.get("events")),
        }
        if isinstance(gitlab, dict)
        else None,
        "calendar": {
            "schedule": _s(calendar, "schedule"),
            "interval": _s(calendar, "interval"),
            "exclusion_dates": _l(calendar.get("exclusionDates")),
            "timezone": _s(calendar, "timezone"),
        }
        if isinstance(calendar, dict)
        else None,
    }


def _trigger_reply(trigger: dict[str, Any]) -> dict[str, Any]:
    # Upstream panics on triggers with inputs (§8.4); render them plainly instead.
    inputs = []
    for value in map(_d, _l(trigger.get("inputs"))):
        source = _d(value.get("source"))
        kustomization = _d(_d(value.get("transmissionMethod")).get("kustomization"))
        inputs.append(
            {
                "source": {
                    "built_in_var": _s(source, "builtInVar"),
                    "from_event": _s(source, "fromEvent"),
                },
                "transmission_method": {"kustomization": {"path": _s(kustomization, "path")}},
            }
        )
    return {
        "event_source": _s(trigger, "eventSource"),
        "pipeline": _s(trigger, "pipeline"),
        "revision": _s(trigger, "revision"),
        "inputs": inputs,
    }


def _hook_reply(hook: dict[str, Any]) -> dict[str, Any]:
    return {"name": _s(hook, "name"), "alias": _s(hook, "alias"), "vars": _d(hook.get("vars"))}
