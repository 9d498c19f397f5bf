"""Browser forms for clusters: the registration wizard's steps, and the cluster list filters.

The forms build the API body of `POST /api/v1/clusters/<name>` (snake_case, upstream v0.4.2),
which `clusters.services.cluster_save` takes; the rules stay in `clusters.rules`.
The kubeconfig never goes into the wizard's state: it is kept encrypted in the session until
"Register" (see `KubeconfigVault`) and never rendered back into a page.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import django_filters  # type: ignore[import-untyped]  # its typeshed stubs need Django 6
import yaml
from cryptography.fernet import Fernet, InvalidToken
from django import forms
from django.contrib.sessions.backends.base import SessionBase
from django.db.models import Q, QuerySet
from django.utils.crypto import salted_hmac

from clusters import catalogue
from clusters.kubeconfig import MAX_KUBECONFIG_BYTES
from clusters.models import Cluster
from nautes_portal.limits import InputRefused, load_yaml_bounded
from nautes_portal.ui.forms import AccessibleForm, set_choices

# ---- Filters -----------------------------------------------------------------------------------


class ClusterFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or API server…"}),
    )
    usage = django_filters.ChoiceFilter(choices=Cluster.Usage.choices, empty_label="Any usage")
    worker_type = django_filters.ChoiceFilter(
        choices=[("deployment", "Deployment"), ("pipeline", "Pipeline")],
        empty_label="Any worker type",
    )
    cluster_type = django_filters.ChoiceFilter(
        choices=Cluster.ClusterType.choices, empty_label="Any type"
    )

    class Meta:
        model = Cluster
        fields = ["q", "usage", "worker_type", "cluster_type"]

    def search(self, queryset: QuerySet[Cluster], name: str, value: str) -> QuerySet[Cluster]:
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(api_server__icontains=value))

    @property
    def active(self) -> bool:
        data = self.form.cleaned_data if self.form.is_valid() else {}
        return any(value not in (None, "") for value in data.values())


# ---- Wizard steps --------------------------------------------------------------------------------

STEPS: tuple[tuple[str, str], ...] = (
    ("basics", "Basics"),
    ("kubeconfig", "Kubeconfig"),
    ("components", "Components and allow-lists"),
    ("review", "Review"),
)
STEP_NAMES = tuple(step for step, _ in STEPS)


class BasicsForm(AccessibleForm):
    name = forms.CharField(
        max_length=63,
        help_text="Lowercase letters, digits and '-'; also the Argo CD and Vault name.",
    )
    api_server = forms.CharField(
        label="API server",
        max_length=2048,
        help_text="For example https://10.0.0.1:6443.",
        widget=forms.TextInput(attrs={"inputmode": "url", "spellcheck": "false"}),
    )
    cluster_type = forms.ChoiceField(
        label="Cluster type",
        choices=Cluster.ClusterType.choices,
        initial="physical",
        widget=forms.RadioSelect,
        help_text="A virtual cluster (vcluster) runs inside a host cluster.",
    )
    usage = forms.ChoiceField(
        choices=Cluster.Usage.choices, initial="worker", widget=forms.RadioSelect
    )
    worker_type = forms.ChoiceField(
        label="Worker type",
        required=False,
        choices=[("deployment", "Deployment"), ("pipeline", "Pipeline"), ("", "None (host)")],
        initial="deployment",
        widget=forms.RadioSelect,
        help_text="Workers run deployments or pipelines; host clusters have none.",
    )
    host_cluster = forms.ChoiceField(
        label="Host cluster", required=False, help_text="Virtual clusters only."
    )
    https_node_port = forms.CharField(
        label="vcluster HTTPS node port",
        required=False,
        max_length=5,
        help_text="Virtual clusters only; empty: the port of the API server.",
    )
    primary_domain = forms.CharField(
        label="Primary domain",
        required=False,
        max_length=255,
        help_text="Empty: the API server's host name (an IP address gets .nip.io).",
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        hosts = Cluster.objects.filter(usage="host").order_by("name").values_list("name", flat=True)
        current = str(self.initial.get("host_cluster") or "")
        options = [(name, name) for name in hosts]
        if current and current not in hosts:
            options.append((current, f"{current} (not registered)"))
        set_choices(self.fields["host_cluster"], [("", "—"), *options])
        if editing:
            self.fields["name"].disabled = True
            self.fields["name"].help_text = "The name cannot change."
        self._describe()

    def body(self) -> dict[str, Any]:
        data = self.cleaned_data
        virtual = data["cluster_type"] == "virtual"
        body: dict[str, Any] = {
            "api_server": data["api_server"].strip(),
            "cluster_kind": "kubernetes",
            "cluster_type": data["cluster_type"],
            "usage": data["usage"],
            "worker_type": data["worker_type"] if data["usage"] == "worker" else "",
            "host_cluster": data["host_cluster"] if virtual else "",
            "primary_domain": data["primary_domain"].strip(),
        }
        if virtual and data["https_node_port"].strip():
            body["vcluster"] = {"https_node_port": data["https_node_port"].strip()}
        return body

    @staticmethod
    def initial_from(name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "name": name,
            "api_server": body.get("api_server", ""),
            "cluster_type": body.get("cluster_type") or "physical",
            "usage": body.get("usage") or "worker",
            "worker_type": body.get("worker_type", ""),
            "host_cluster": body.get("host_cluster", ""),
            "https_node_port": (body.get("vcluster") or {}).get("https_node_port", ""),
            "primary_domain": body.get("primary_domain", ""),
        }


class SecretTextarea(forms.Textarea):
    """A textarea that never renders a value back (like `PasswordInput(render_value=False)`)."""

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        return super().get_context(name, None, attrs)


class KubeconfigForm(AccessibleForm):
    """Upload or paste; both empty is fine when a kubeconfig is already held (or stored)."""

    kubeconfig_file = forms.FileField(
        label="Upload a kubeconfig file",
        required=False,
        help_text="The cluster's admin kubeconfig (YAML, or base64 of it).",
    )
    kubeconfig_text = forms.CharField(
        label="…or paste it",
        required=False,
        widget=SecretTextarea(attrs={"rows": 8, "spellcheck": "false", "autocomplete": "off"}),
        help_text="It is kept encrypted in your session until you register the cluster, then "
        "stored in Vault only; it is never shown again.",
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        upload = data.get("kubeconfig_file")
        text = data.get("kubeconfig_text") or ""
        if upload is not None:
            if upload.size > MAX_KUBECONFIG_BYTES:
                raise forms.ValidationError("The file is larger than 1 MiB.", code="too_big")
            try:
                text = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError(
                    "The file is not UTF-8 text.", code="encoding"
                ) from None
        data["kubeconfig"] = text.strip()
        return data


def _additions_text(additions: Mapping[str, Any]) -> str:
    return "\n".join(f"{key}={value}" for key, value in additions.items())


def parse_additions(text: str) -> dict[str, str]:
    """`key=value` lines (blank lines ignored)."""
    additions: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise forms.ValidationError(
                "Line %(line)s is not key=value.", code="additions", params={"line": number}
            )
        additions[key.strip()] = value.strip()
    return additions


ALLOW_LIST_HELP = {
    "reserved": "YAML: a component namespace → the products allowed to deploy into it, e.g.\n"
    "argocd: [nautes-labs]",
    "resources": "YAML: a product → the cluster-scoped resources it may create, e.g.\n"
    "nautes-labs:\n  - {kind: ClusterRole, group: authorization.k8s.io}",
}


class ComponentsForm(AccessibleForm):
    """One fieldset per component category of the cluster's shape, plus the two allow-lists."""

    reserved = forms.CharField(
        label="Reserved namespaces allowed to products",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text=ALLOW_LIST_HELP["reserved"],
    )
    resources = forms.CharField(
        label="Cluster resources allowed to products",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text=ALLOW_LIST_HELP["resources"],
    )

    def __init__(self, *args: Any, categories: list[str], **kwargs: Any) -> None:
        self.categories = categories
        super().__init__(*args, **kwargs)
        for api_key in categories:
            crd = catalogue.API_TO_CRD[api_key]
            names = [c.name for c in catalogue.COMPONENTS if c.category == crd]
            current = str(self.initial.get(f"{api_key}__name") or "")
            if current and current not in names:
                names.append(current)
            title = api_key.replace("_", " ")
            self.fields[f"{api_key}__name"] = forms.ChoiceField(
                label=f"{title.capitalize()} component",
                choices=[(n, n) for n in names],
            )
            self.fields[f"{api_key}__namespace"] = forms.CharField(label="Namespace", max_length=63)
            self.fields[f"{api_key}__additions"] = forms.CharField(
                label="Additions",
                required=False,
                widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
                help_text="key=value per line.",
            )
        self._describe()

    def groups(self) -> list[dict[str, Any]]:
        """The fields of each category, for one fieldset each."""
        return [
            {
                "key": api_key,
                "title": api_key.replace("_", " ").capitalize(),
                "fields": [
                    self[f"{api_key}__{part}"] for part in ("name", "namespace", "additions")
                ],
            }
            for api_key in self.categories
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for api_key in self.categories:
            name = f"{api_key}__additions"
            try:
                data[name] = parse_additions(data.get(name) or "")
            except forms.ValidationError as error:
                self.add_error(name, error)
        for name in ("reserved", "resources"):
            text = data.get(name) or ""
            try:
                data[name] = load_yaml_bounded(text, what="This field") if text.strip() else None
            except InputRefused as error:
                self.add_error(name, error.message)
                continue
            except yaml.YAMLError:
                self.add_error(name, "This is not valid YAML.")
                continue
            if data[name] is not None and not isinstance(data[name], dict):
                self.add_error(name, "Expected a mapping (key: value lines).")
        return data

    def body(self) -> dict[str, Any]:
        data = self.cleaned_data
        body: dict[str, Any] = {
            "components_list": {
                api_key: {
                    "name": data[f"{api_key}__name"],
                    "namespace": data[f"{api_key}__namespace"].strip(),
                    "additions": data[f"{api_key}__additions"],
                }
                for api_key in self.categories
            }
        }
        if data["reserved"] is not None:
            body["reserved_namespaces_allowed_products"] = data["reserved"]
        if data["resources"] is not None:
            body["product_allowed_cluster_resources"] = data["resources"]
        return body

    @staticmethod
    def initial_from(body: Mapping[str, Any], components: Mapping[str, Any]) -> dict[str, Any]:
        """Initial values from the body's allow-lists and the resolved components (API keys)."""
        initial: dict[str, Any] = {}
        for api_key, component in components.items():
            initial[f"{api_key}__name"] = component.get("name", "")
            initial[f"{api_key}__namespace"] = component.get("namespace", "")
            initial[f"{api_key}__additions"] = _additions_text(component.get("additions") or {})
        for name, key in (
            ("reserved", "reserved_namespaces_allowed_products"),
            ("resources", "product_allowed_cluster_resources"),
        ):
            value = body.get(key)
            initial[name] = (
                yaml.safe_dump(value, sort_keys=False, default_flow_style=None) if value else ""
            )
        return initial


def shape_categories(body: Mapping[str, Any]) -> list[str]:
    """The API keys of the component categories a user chooses for the body's shape."""
    categories = catalogue.categories_for(
        str(body.get("usage") or ""),
        str(body.get("cluster_type") or ""),
        str(body.get("worker_type") or ""),
    )
    return [
        catalogue.CRD_TO_API[crd]
        for crd in categories or ()
        if crd not in catalogue.PLATFORM_CATEGORIES and crd in catalogue.CRD_TO_API
    ]


# ---- Wizard state --------------------------------------------------------------------------------


class KubeconfigVault:
    """The kubeconfig of a registration in progress: encrypted in the session, for 30 minutes.

    The session is server-side, but sessions are stored in the database: encrypting with a key
    derived from SECRET_KEY keeps a plain kubeconfig out of it. It is removed on "Register"
    and on "Cancel".
    """

    ttl_seconds: ClassVar[int] = 30 * 60

    def __init__(self, session: SessionBase, mode: str) -> None:
        self.session = session
        self.key = f"cluster_wizard_kubeconfig:{mode}"

    @staticmethod
    def _fernet() -> Fernet:
        digest = salted_hmac(
            "nautes.clusters.wizard.kubeconfig", "session key", algorithm="sha256"
        ).digest()
        return Fernet(base64.urlsafe_b64encode(digest))

    def put(self, kubeconfig: str) -> None:
        self.session[self.key] = self._fernet().encrypt(kubeconfig.encode()).decode()

    def get(self) -> str | None:
        token = self.session.get(self.key)
        if not token:
            return None
        try:
            return self._fernet().decrypt(token.encode(), ttl=self.ttl_seconds).decode()
        except InvalidToken:
            self.clear()
            return None

    def clear(self) -> None:
        self.session.pop(self.key, None)


@dataclass
class ClusterDraft:
    """A registration (mode "new") or an edit (mode "edit:<name>") in progress (JSON only)."""

    mode: str
    name: str = ""
    body: dict[str, Any] = field(default_factory=dict)
    kubeconfig_summary: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def key(mode: str) -> str:
        return f"cluster_wizard:{mode}"

    @classmethod
    def load(cls, session: SessionBase, mode: str) -> ClusterDraft:
        data = session.get(cls.key(mode)) or {}
        return cls(
            mode=mode,
            name=data.get("name", ""),
            body=dict(data.get("body") or {}),
            kubeconfig_summary=dict(data.get("kubeconfig_summary") or {}),
        )

    def save(self, session: SessionBase) -> None:
        session[self.key(self.mode)] = {
            "name": self.name,
            "body": self.body,
            "kubeconfig_summary": self.kubeconfig_summary,
        }

    def clear(self, session: SessionBase) -> None:
        session.pop(self.key(self.mode), None)
        KubeconfigVault(session, self.mode).clear()

    @property
    def editing(self) -> bool:
        return self.mode.startswith("edit:")

    @property
    def physical(self) -> bool:
        return self.body.get("cluster_type") == "physical"

    @property
    def started(self) -> bool:
        return bool(self.name and self.body.get("api_server") is not None)
