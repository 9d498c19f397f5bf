"""The product setup wizard's draft: what the user entered, kept in the session, checked with
the same rules as a save, until "Create"."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase

from nautes_portal.errors import RuleViolation
from nautes_portal.yaml_io import dump_yaml
from products import rules, services
from products.api import codecs
from products.api.views import KIND_APIS
from products.forms.kinds import KIND_UIS
from products.forms.resources import Choices, suitable_clusters
from products.indexing import complete_state
from products.manifests import build_document, kustomization, resource_path
from products.state import ProductState, Resource

# ---- The product setup wizard --------------------------------------------------------------

# (step, title, collection) in the order the services must create them.
WIZARD_STEPS: tuple[tuple[str, str, str], ...] = (
    ("product", "Product", ""),
    ("environments", "Environments", "environments"),
    ("projects", "Projects", "projects"),
    ("coderepos", "Code repositories", "coderepos"),
    ("bindings", "Repository bindings", "coderepobindings"),
    ("runtimes", "Deployment runtimes", "deploymentruntimes"),
    ("review", "Review", ""),
)
STEP_NAMES: tuple[str, ...] = tuple(step for step, _, _ in WIZARD_STEPS)
LIST_STEPS: dict[str, str] = {
    step: collection for step, _, collection in WIZARD_STEPS if collection
}
# The product id and repository ids are assigned by Git when the wizard creates them; until then
# the draft uses these placeholders (valid names, so every rule can run on the draft).
DRAFT_PRODUCT_ID = "product-new"
DRAFT_REPO_PREFIX = "repo-new-"
SESSION_KEY = "product_wizard"


def repo_name_problems(name: str) -> list[str]:
    """The repository-name checks `services.coderepo_save` makes before its first write."""
    if name == settings.NAUTES_DEFAULT_PROJECT:
        return [f"'{name}' is reserved for the product configuration repository"]
    if not services.PRODUCT_NAME.match(name):
        return [
            f"code repository name '{name}' is invalid: use lowercase letters, digits and '-', "
            "starting and ending with a letter or digit (RFC 1123 label)"
        ]
    return []


@dataclass
class DraftFile:
    path: str
    content: str


@dataclass
class Draft:
    """What the user entered in the wizard so far, kept in the session (JSON, no secrets)."""

    product: dict[str, Any] = field(default_factory=dict)
    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)

    session_key: ClassVar[str] = SESSION_KEY

    # -- session

    @classmethod
    def load(cls, session: SessionBase) -> Draft:
        data = session.get(cls.session_key) or {}
        return cls(
            product=dict(data.get("product") or {}),
            items={step: list(data.get("items", {}).get(step) or []) for step in LIST_STEPS},
            pending=dict(data.get("pending") or {}),
        )

    def save(self, session: SessionBase) -> None:
        session[self.session_key] = {
            "product": self.product,
            "items": self.items,
            "pending": self.pending,
        }

    @classmethod
    def clear(cls, session: SessionBase) -> None:
        session.pop(cls.session_key, None)

    # -- contents

    @property
    def started(self) -> bool:
        return bool(self.product.get("name"))

    def entries(self, step: str) -> list[dict[str, Any]]:
        return self.items.setdefault(step, [])

    def names(self, step: str) -> list[str]:
        return [item["name"] for item in self.entries(step)]

    def find(self, step: str, name: str) -> dict[str, Any] | None:
        return next((item for item in self.entries(step) if item["name"] == name), None)

    def put(self, step: str, name: str, body: dict[str, Any]) -> None:
        """Add an item, or replace the one with the same name in place."""
        items = self.entries(step)
        for index, item in enumerate(items):
            if item["name"] == name:
                items[index] = {"name": name, "body": body}
                return
        items.append({"name": name, "body": body})

    def choices(self) -> Choices:
        return Choices(
            clusters=suitable_clusters(),
            environments=self.names("environments"),
            projects=self.names("projects"),
            repos=self.names("coderepos"),
        )

    def repo_names(self) -> codecs.RepoNames:
        return codecs.RepoNames(
            {name: DRAFT_REPO_PREFIX + name for name in self.names("coderepos")}
        )

    # -- rules

    def resource(self, step: str, name: str, body: Mapping[str, Any]) -> Resource:
        """The resource an item becomes (RuleViolation when it names an unknown repository)."""
        api = KIND_APIS[LIST_STEPS[step]]
        spec = api.to_spec(dict(body), self.repo_names())
        if api.kind == "CodeRepo":
            spec = {
                **spec,
                "repoName": name,
                "codeRepoProvider": settings.NAUTES_CODE_REPO_PROVIDER,
            }
            name = DRAFT_REPO_PREFIX + name
        if api.kind in services.KINDS_WITH_PRODUCT_FIELD:
            spec = {**spec, "product": DRAFT_PRODUCT_ID}
        return Resource(api.kind, name, resource_path(api.kind, name, spec), spec)

    def state(
        self, *, until: str | None = None, skip: tuple[str, str] | None = None
    ) -> tuple[ProductState, list[str]]:
        """The draft as the rules see it (steps up to `until`), and items that cannot convert."""
        # No runtime belongs to the draft yet (product_pk None): every indexed one is foreign.
        state = ProductState(product_name=self.product.get("name", ""), product_id=DRAFT_PRODUCT_ID)
        state.repo_ids_by_name = self.repo_names().ids_by_name
        unconvertible: list[str] = []
        for step in LIST_STEPS:
            for item in self.entries(step):
                if skip == (step, item["name"]):
                    continue
                try:
                    resource = self.resource(step, item["name"], item["body"])
                except RuleViolation as exc:
                    unconvertible.append(f"{item['name']}: {exc.message}")
                    continue
                state.of_kind(resource.kind)[resource.name] = resource
            if step == until:
                break
        return complete_state(state), unconvertible

    def check_item(
        self, step: str, name: str, body: Mapping[str, Any], *, replacing: str = ""
    ) -> list[str]:
        """Every problem adding (or replacing) this item would cause, in the draft so far."""
        messages: list[str] = []
        if name != replacing and name in self.names(step):
            what = KIND_UIS[LIST_STEPS[step]].a_singular
            messages.append(f"This product already has {what} named {name}.")
        if LIST_STEPS[step] == "coderepos":
            messages += repo_name_problems(name)
        try:
            resource = self.resource(step, name, body)
        except RuleViolation as exc:
            return [*messages, exc.message]
        state, _ = self.state(until=step, skip=(step, replacing or name))
        problems = rules.check_static(resource, state)
        if not problems:
            before = {p.message for p in rules.check_global(state)}
            problems = [
                p
                for p in rules.check_global(complete_state(state.with_saved(resource)))
                if p.message not in before
            ]
        return list(dict.fromkeys([*messages, *(p.message for p in problems)]))

    def problems(self) -> list[str]:
        """Everything that would stop the creation of the whole draft."""
        messages: list[str] = []
        if not self.started:
            messages.append("The product has no name yet.")
        state, unconvertible = self.state()
        messages += unconvertible
        for step in ("coderepos",):
            for name in self.names(step):
                messages += repo_name_problems(name)
        messages += [f"{p.kind} {p.name}: {p.message}" for p in rules.check_global(state)]
        return list(dict.fromkeys(messages))

    def files(self) -> list[DraftFile]:
        """The YAML files the creation will commit, in the order it commits them."""
        state, _ = self.state()
        order = {kind: index for index, kind in enumerate(rules.KIND_ORDER)}
        resources = sorted(state.all_resources(), key=lambda r: (order[r.kind], r.name))
        files = [
            DraftFile(r.path, dump_yaml(build_document(r.kind, r.name, r.spec)).decode())
            for r in resources
        ]
        index = kustomization(r.path for r in resources).decode()
        return [*files, DraftFile("production/kustomization.yaml", index)]


def pending_initial(form_class: type[forms.Form], data: Mapping[str, list[str]]) -> dict[str, Any]:
    """Turn posted values kept in the session back into a form's initial values."""
    initial: dict[str, Any] = {}
    for name, form_field in form_class.base_fields.items():
        if name not in data:
            if isinstance(form_field, forms.BooleanField):
                initial[name] = False
            continue
        values = data[name]
        if isinstance(form_field, forms.MultipleChoiceField):
            initial[name] = list(values)
        elif isinstance(form_field, forms.BooleanField):
            initial[name] = bool(values) and values[0] not in ("", "false", "off", "0")
        else:
            initial[name] = values[0] if values else ""
    return initial
