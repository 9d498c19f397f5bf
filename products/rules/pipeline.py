"""Project pipeline runtimes: the static check (pipelines, event sources, triggers, inputs,
destination, additional resources, hooks), the global check (pipeline paths, references,
duplicates, hooks) and upstream's `ProjectPipelineRuntime.Validate`."""

from __future__ import annotations

from typing import Any

from products.rules.coderepo import permission_error
from products.rules.common import (
    ISOLATIONS,
    _cluster_problem,
    _dict,
    _env_of,
    _exists,
    _list,
    _Peers,
    _ppr_namespace,
    _runtime_cluster,
    _show,
    _spec,
    _str,
    dns_problem,
)
from products.rules.fields import _Static
from products.rules.messages import (
    ADDITIONAL_GIT_EMPTY,
    DEFAULT_NAMESPACE_FIELD,
    DUPLICATE_PIPELINE_PATH,
    DUPLICATE_REFERENCE,
    EVENT_SOURCE_DUPLICATE,
    HOOK_ALIAS_TAKEN,
    HOOK_DUPLICATE,
    HOOK_PREFIX,
    INPUT_SOURCE_BOTH,
    INPUT_SOURCE_EMPTY,
    INPUT_TRANSMISSION_NIL,
    PIPELINE_DUPLICATE,
    PPR_ADDITIONAL_NOT_PERMITTED,
    PPR_DESTINATION_MISSING,
    PPR_NAMESPACE_TAKEN,
    PPR_NO_PIPELINE_COMPONENT,
    PPR_PREFIX,
    TRIGGER_DUPLICATE,
    TRIGGER_PIPELINE_MISSING,
    TRIGGER_SOURCE_MISSING,
    UNAVAILABLE,
)
from products.rules.namespaces import _namespaces_in_use
from products.state import ProductState, Resource


def _static_ppr(c: _Static, spec: dict[str, Any], resource: Resource) -> None:
    """PGV rules of a pipeline runtime plus upstream's StaticCheck."""
    c.text(spec, "project", "project", needed=True)
    c.text(spec, "pipelineSource", "pipelineSource", needed=True)
    c.text(spec, "account", "account")
    c.choice(spec, "isolation", "isolation", ISOLATIONS)
    pipelines = _ppr_pipelines(c, spec)
    sources = _ppr_event_sources(c, spec)
    _ppr_triggers(c, spec, pipelines, sources)
    _ppr_destination(c, spec, resource)
    _ppr_additional_resources(c, spec)
    _ppr_hooks_shape(c, spec)


def _ppr_pipelines(c: _Static, spec: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for field, pipeline in c.objects(spec, "pipelines", "pipelines", min_items=1):
        name = c.text(pipeline, "name", f"{field}.name", needed=True, dns="subdomain")
        c.text(pipeline, "path", f"{field}.path", needed=True)
        c.text(pipeline, "label", f"{field}.label")
        if name and name in names:
            c.add(PPR_PREFIX + PIPELINE_DUPLICATE.format(name=name))
        names.add(name)
    return names


def _ppr_event_sources(c: _Static, spec: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for field, source in c.objects(spec, "eventSources", "eventSources", min_items=1):
        name = c.text(source, "name", f"{field}.name", needed=True, dns="subdomain")
        if name and name in names:
            c.add(PPR_PREFIX + EVENT_SOURCE_DUPLICATE.format(name=name))
        names.add(name)
        gitlab = c.mapping(source, "gitlab", f"{field}.gitlab")
        if gitlab is not None:
            c.text(gitlab, "repoName", f"{field}.gitlab.repoName", needed=True)
            c.text(gitlab, "revision", f"{field}.gitlab.revision")
            c.strings(gitlab, "events", f"{field}.gitlab.events")
        calendar = c.mapping(source, "calendar", f"{field}.calendar")
        if calendar is not None:
            for key in ("schedule", "interval", "timezone"):
                c.text(calendar, key, f"{field}.calendar.{key}")
            c.strings(calendar, "exclusionDates", f"{field}.calendar.exclusionDates")
    return names


def _ppr_triggers(c: _Static, spec: dict[str, Any], pipelines: set[str], sources: set[str]) -> None:
    seen: set[tuple[str, str, str]] = set()
    for field, trigger in c.objects(spec, "pipelineTriggers", "pipelineTriggers", min_items=1):
        source = c.text(
            trigger, "eventSource", f"{field}.eventSource", needed=True, dns="subdomain"
        )
        pipeline = c.text(trigger, "pipeline", f"{field}.pipeline", needed=True, dns="subdomain")
        revision = c.text(trigger, "revision", f"{field}.revision")
        if source and source not in sources:
            c.add(PPR_PREFIX + TRIGGER_SOURCE_MISSING.format(name=source))
        if pipeline and pipeline not in pipelines:
            c.add(PPR_PREFIX + TRIGGER_PIPELINE_MISSING.format(name=pipeline))
        tag = (source, pipeline, revision)
        if source and pipeline and tag in seen:
            message = TRIGGER_DUPLICATE.format(source=source, pipeline=pipeline, revision=revision)
            c.add(PPR_PREFIX + message)
        seen.add(tag)
        for input_field, item in c.objects(trigger, "inputs", f"{field}.inputs"):
            _ppr_input(c, item, input_field)


def _ppr_input(c: _Static, item: dict[str, Any], field: str) -> None:
    """An input takes exactly one source and needs a transmission method."""
    source = c.mapping(item, "source", f"{field}.source") or {}
    built_in = c.text(source, "builtInVar", f"{field}.source.builtInVar")
    from_event = c.text(source, "fromEvent", f"{field}.source.fromEvent")
    # Empty strings count as unset (upstream's pointers cannot say "set but empty" from the API).
    if not built_in and not from_event:
        c.add(PPR_PREFIX + INPUT_SOURCE_EMPTY)
    elif built_in and from_event:
        c.add(PPR_PREFIX + INPUT_SOURCE_BOTH)
    field = f"{field}.transmissionMethod"
    method = c.mapping(item, "transmissionMethod", field)
    # Kustomization is the only transmission method, so an object without it names none.
    if item.get("transmissionMethod") is None or (
        method is not None and not method.get("kustomization")
    ):
        c.add(PPR_PREFIX + INPUT_TRANSMISSION_NIL)
    elif method is not None:
        kustomization = c.mapping(method, "kustomization", f"{field}.kustomization")
        if kustomization is not None:
            c.text(kustomization, "path", f"{field}.kustomization.path", needed=True)


def _ppr_destination(c: _Static, spec: dict[str, Any], resource: Resource) -> None:
    if spec.get("destination") is None:
        c.add(PPR_DESTINATION_MISSING)
    destination = c.mapping(spec, "destination", "destination")
    if destination is None:
        return
    c.text(destination, "environment", "destination.environment", needed=True)
    c.text(destination, "namespace", "destination.namespace", dns="label")
    if destination.get("namespace") in (None, ""):
        # Upstream runs the pipelines in a namespace named after the runtime when none is given.
        field = DEFAULT_NAMESPACE_FIELD.format(field="destination.namespace")
        if problem := dns_problem(field, resource.name, "label"):
            c.add(problem)


def _ppr_additional_resources(c: _Static, spec: dict[str, Any]) -> None:
    additional = c.mapping(spec, "additionalResources", "additionalResources") or {}
    git = c.mapping(additional, "git", "additionalResources.git")
    if git is None:
        return
    repo = c.text(git, "codeRepo", "additionalResources.git.codeRepo")
    url = c.text(git, "url", "additionalResources.git.url")
    if not repo and not url:
        c.add(PPR_PREFIX + ADDITIONAL_GIT_EMPTY)
    c.text(git, "revision", "additionalResources.git.revision", needed=True)
    c.text(git, "path", "additionalResources.git.path", needed=True)


def _ppr_hooks_shape(c: _Static, spec: dict[str, Any]) -> None:
    """Hook types only; duplicates and aliases are checked globally, as upstream does."""
    hooks = c.mapping(spec, "hooks", "hooks") or {}
    for phase in ("preHooks", "postHooks"):
        for field, hook in c.objects(hooks, phase, f"hooks.{phase}"):
            c.text(hook, "name", f"{field}.name", needed=True)
            c.text(hook, "alias", f"{field}.alias")
            c.string_map(hook, "vars", f"{field}.vars")


def _ppr_target(ppr: Resource) -> tuple[str, str, str]:
    """Source, environment and namespace: runtimes alike in these may share a pipeline path."""
    spec = _spec(ppr)
    destination = _dict(spec, "destination")
    return (
        _str(spec, "pipelineSource"),
        _str(destination, "environment"),
        _str(destination, "namespace"),
    )


def _global_ppr(ppr: Resource, state: ProductState, clean: bool, peers: _Peers) -> list[str]:
    """Pipeline paths, references, duplicates, hooks, then upstream's `Validate`."""
    spec = _spec(ppr)
    project = _str(spec, "project")
    messages = _duplicate_paths(ppr)
    repos = [_str(spec, "pipelineSource")]
    repos += [_str(_dict(source, "gitlab"), "repoName") for source in _list(spec, "eventSources")]
    # Upstream fails later on a missing additional repo ("returned 0 results"); name it here.
    repos.append(_additional_repo(spec))
    wanted = [("Project", project), ("Environment", _env_of(spec))]
    wanted += [("CodeRepo", repo) for repo in repos]
    messages += [
        UNAVAILABLE.format(
            kind=kind,
            name=name,
            owner_kind=ppr.kind,
            owner=ppr.name,
            directory=f"projects/{project}",
        )
        for kind, name in dict.fromkeys(wanted)
        if name and not _exists(state, kind, name)
    ]
    references_ok = not messages
    messages += [
        DUPLICATE_REFERENCE.format(a=ppr.name, b=other.name)
        for other in peers.later(ppr, _ppr_target)
        if _ppr_duplicates(ppr, other)
    ]
    messages += [PPR_PREFIX + HOOK_PREFIX + m for m in _hook_problems(_dict(spec, "hooks"))]
    if clean and references_ok:
        messages += [PPR_PREFIX + m for m in _validate_ppr(ppr, state)]
    return messages


def _additional_repo(spec: dict[str, Any]) -> str:
    return _str(_dict(_dict(spec, "additionalResources"), "git"), "codeRepo")


def _duplicate_paths(ppr: Resource) -> list[str]:
    """No two pipelines of one runtime may share a path (upstream reports the first pair)."""
    seen: dict[str, str] = {}
    for pipeline in _list(_spec(ppr), "pipelines"):
        path, name = _str(pipeline, "path"), _str(pipeline, "name")
        if path in seen:
            project = _str(_spec(ppr), "project")
            return [
                DUPLICATE_PIPELINE_PATH.format(
                    runtime=ppr.name, project=project, a=seen[path], b=name, path=_show(path)
                )
            ]
        if path:
            seen[path] = name
    return []


def _ppr_duplicates(a: Resource, b: Resource) -> bool:
    """Upstream `Compare`: same pipelineSource and destination, and a shared pipeline path."""
    spec_a, spec_b = _spec(a), _spec(b)
    source = _str(spec_a, "pipelineSource")
    if not source or source != _str(spec_b, "pipelineSource"):
        return False
    dest_a, dest_b = _dict(spec_a, "destination"), _dict(spec_b, "destination")
    if any(_str(dest_a, key) != _str(dest_b, key) for key in ("environment", "namespace")):
        return False
    paths_a = {_str(p, "path") for p in _list(spec_a, "pipelines")} - {""}
    return bool(paths_a & {_str(p, "path") for p in _list(spec_b, "pipelines")})


def _hook_problems(hooks: dict[str, Any]) -> list[str]:
    """Upstream `validateHooks` without the hooks catalogue (the portal has no metadata)."""
    messages = []
    aliases: set[str] = set()
    for phase in ("preHooks", "postHooks"):
        names: set[str] = set()  # a hook may run once per phase; aliases are unique overall
        for hook in _list(hooks, phase):
            name = _str(hook, "name")
            alias = _str(hook, "alias") or name  # an empty alias counts as none
            if not name:
                continue
            if name in names:
                messages.append(HOOK_DUPLICATE.format(name=name))
            elif alias in aliases:
                messages.append(HOOK_ALIAS_TAKEN.format(alias=alias))
            names.add(name)
            aliases.add(alias)
    return messages


def _validate_ppr(ppr: Resource, state: ProductState) -> list[str]:
    """Upstream `ProjectPipelineRuntime.Validate` after StaticCheck (messages unprefixed)."""
    spec = _spec(ppr)
    project = _str(spec, "project")
    cluster_name = _runtime_cluster(state, ppr)
    cluster_problem = _cluster_problem(state, ppr, "pipeline")
    messages = [cluster_problem] if cluster_problem else []
    if error := permission_error(state, project, _str(spec, "pipelineSource")):
        messages.append(error)
    extra = _additional_repo(spec)
    if extra and (error := permission_error(state, project, extra)):
        messages.append(PPR_ADDITIONAL_NOT_PERMITTED.format(repo=extra, error=error))
    namespace = _ppr_namespace(ppr)
    # Other products' runtimes are namespace ownership (`namespace_problems`); here only this
    # product's other runtimes count.
    used = _namespaces_in_use(state, cluster_name, ppr, foreign=False)
    if not cluster_problem and namespace in used:
        messages.append(PPR_NAMESPACE_TAKEN.format(namespace=namespace))
    illegal = [
        error
        for source in _list(spec, "eventSources")
        if (repo := _str(_dict(source, "gitlab"), "repoName"))
        and (error := permission_error(state, project, repo))
    ]
    if illegal:
        messages.append("; ".join(dict.fromkeys(illegal)))
    components = _dict(state.clusters.get(cluster_name), "componentsList")
    if not cluster_problem and not isinstance(components.get("pipeline"), dict):
        messages.append(PPR_NO_PIPELINE_COMPONENT)
    return messages


def _ppr_repos(spec: dict[str, Any]) -> set[str]:
    """Every code repo a pipeline runtime uses: pipelines, event sources, extra resources."""
    repos = {_str(spec, "pipelineSource"), _additional_repo(spec)}
    repos.update(_str(_dict(s, "gitlab"), "repoName") for s in _list(spec, "eventSources"))
    return repos - {""}
