"""A stateful fake Kubernetes API server that the official `kubernetes` client drives unchanged.

`FakeKubeServer` is a real HTTP (or HTTPS) server on 127.0.0.1 run in a thread. It keeps objects
in memory and follows the API conventions the portal depends on: `Status` bodies for errors,
201 on create, `resourceVersion`/`uid`/`creationTimestamp`, optimistic concurrency, label and
field selectors, `limit`/`continue` pagination, discovery documents, SelfSubjectAccessReview
and Argo CD custom resources once their CRDs are installed.

Deliberate differences from a real API server (tests must not rely on these):

* Deleting a namespace removes it and everything in it at once; a real cluster first marks it
  `Terminating` (the DELETE reply does show `Terminating` and a `deletionTimestamp`).
* No watch, no deletecollection, no dry-run, no server-side apply, no admission, no
  finalizers, no OpenAPI schema validation of custom resources. Workloads (Deployments,
  ReplicaSets, Pods, Events, pod logs...) and their minimal controllers, garbage collection by
  `ownerReferences` included, are `kube_workloads.py`, with their own simplifications.
* Strategic merge patches are applied as JSON merge patches (lists are replaced, not merged by
  key); as on a real server they are refused with 415 for custom resources.
* Authentication: every request, `/version` and discovery included, needs the server's bearer
  token (or, with TLS, a client certificate signed by the test CA); anything else gets 401.
* Authorization is a deny list (`deny()`), consulted by SelfSubjectAccessReview and by every
  resource request (403); there are no Roles behind it.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import datetime as dt
import json
import re
import secrets
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import orjson
import yaml

JsonDict = dict[str, Any]

DEFAULT_GIT_VERSION = "v1.27.4+k3s1"
DEFAULT_USER = "system:serviceaccount:nautes:nautes-portal"
ARGOCD_GROUP = "argoproj.io"
ARGOCD_VERSION = "v1alpha1"
_CRUD_VERBS = ("create", "delete", "get", "list", "patch", "update")
_PROTECTED_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})
_INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")


# ---- Resource types ----------------------------------------------------------
@dataclass(frozen=True)
class ResourceType:
    """One served resource: where it lives in the API and how it behaves."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...] = _CRUD_VERBS
    short_names: tuple[str, ...] = ()
    status_subresource: bool = False
    custom: bool = False  # served because of a CRD: generation, no strategic merge, RV required
    name_pattern: re.Pattern[str] = _DNS_SUBDOMAIN
    subresources: tuple[tuple[str, tuple[str, ...]], ...] = ()  # besides status: (name, verbs)
    field_labels: tuple[str, ...] = ()  # field selectors besides metadata.name/namespace

    @property
    def api_version(self) -> str:
        """`v1` for the core group, `<group>/<version>` otherwise."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """The resource as API messages name it: `secrets`, `applications.argoproj.io`."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


_RBAC = "rbac.authorization.k8s.io"
_PATH_SEGMENT_NAME = re.compile(r"^(?!\.\.?$)[^/%]+$")
BUILTIN_TYPES: tuple[ResourceType, ...] = (
    ResourceType(
        "",
        "v1",
        "namespaces",
        "Namespace",
        namespaced=False,
        short_names=("ns",),
        status_subresource=True,
        name_pattern=_DNS_LABEL,
    ),
    ResourceType("", "v1", "secrets", "Secret", namespaced=True),
    ResourceType(
        "", "v1", "serviceaccounts", "ServiceAccount", namespaced=True, short_names=("sa",)
    ),
    ResourceType("", "v1", "configmaps", "ConfigMap", namespaced=True, short_names=("cm",)),
    ResourceType(
        _RBAC, "v1", "rolebindings", "RoleBinding", namespaced=True, name_pattern=_PATH_SEGMENT_NAME
    ),
    ResourceType(
        _RBAC,
        "v1",
        "clusterroles",
        "ClusterRole",
        namespaced=False,
        name_pattern=_PATH_SEGMENT_NAME,
    ),
    ResourceType(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        namespaced=False,
        short_names=("crd", "crds"),
        status_subresource=True,
    ),
    ResourceType(
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
        namespaced=False,
        verbs=("create",),
    ),
)
NAMESPACES = BUILTIN_TYPES[0]
CRDS = next(t for t in BUILTIN_TYPES if t.plural == "customresourcedefinitions")


# ---- Errors ------------------------------------------------------------------
def status_body(
    code: int, message: str, *, reason: str | None = None, details: Any = None
) -> JsonDict:
    """A failure `Status` object as the API server sends it."""
    body: JsonDict = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason or _REASONS.get(code, "Unknown"),
        "code": code,
    }
    if details is not None:
        body["details"] = details
    return body


class ApiError(Exception):
    """A refusal answered with a `Status` object."""

    def __init__(
        self, code: int, message: str, *, reason: str | None = None, details: Any = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.body = status_body(code, message, reason=reason, details=details)


def _details(rtype: ResourceType, name: str) -> JsonDict:
    details: JsonDict = {"name": name, "kind": rtype.plural}
    if rtype.group:
        details["group"] = rtype.group
    return details


def _not_found(rtype: ResourceType, name: str) -> ApiError:
    return ApiError(404, f'{rtype.qualified} "{name}" not found', details=_details(rtype, name))


def _invalid(rtype: ResourceType, name: str, cause: str) -> ApiError:
    return ApiError(
        422, f'{rtype.kind} "{name}" is invalid: {cause}', details=_details(rtype, name)
    )


def _page_not_found() -> ApiError:
    # What a real API server answers for a path no registered group/resource serves.
    return ApiError(404, "the server could not find the requested resource")


# ---- Selectors ---------------------------------------------------------------
_KEY = r"[A-Za-z0-9][-A-Za-z0-9_./]*"
_VALUE = r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_REQUIREMENT = re.compile(
    rf"""^\s*(?:
        !\s*(?P<absent>{_KEY})
      | (?P<key>{_KEY})\s*(?:
            (?P<op>==|=|!=)\s*(?P<value>{_VALUE})
          | \s(?P<setop>in|notin)\s*\((?P<set>[^()]*)\)
        )?
    )\s*$""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Requirement:
    """One label selector requirement: `key op values`."""

    key: str
    op: str  # exists, !, =, !=, in, notin
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether a label set satisfies this requirement (absent keys satisfy != and notin)."""
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if self.op in ("=", "in"):
            return present and value in self.values
        return not present or value not in self.values


def _split_top_level(text: str) -> list[str]:
    """Split at commas that are not inside a `( ... )` value set."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse_label_selector(text: str) -> list[Requirement]:
    """Parse `a=b,c!=d,e,!f,g in (x,y),h notin (z)`; raise ApiError 400 when malformed."""
    if not text.strip():
        return []
    requirements = []
    for part in _split_top_level(text):
        match = _REQUIREMENT.match(part)
        if match is None:
            raise ApiError(400, f"unable to parse requirement: invalid label selector {part!r}")
        if match["absent"]:
            requirements.append(Requirement(match["absent"], "!"))
        elif match["op"]:
            op = "=" if match["op"] in ("=", "==") else "!="
            requirements.append(Requirement(match["key"], op, (match["value"],)))
        elif match["setop"]:
            values = tuple(value.strip() for value in match["set"].split(","))
            if not all(re.fullmatch(_VALUE, value) for value in values) or values == ("",):
                raise ApiError(400, f"unable to parse requirement: invalid value set in {part!r}")
            requirements.append(Requirement(match["key"], match["setop"], values))
        else:
            requirements.append(Requirement(match["key"], "exists"))
    return requirements


_FIELD_REQUIREMENT = re.compile(r"^\s*(?P<field>[A-Za-z.]+)\s*(?P<op>==|=|!=)\s*(?P<value>.*?)\s*$")
_SUPPORTED_FIELDS = ("metadata.name", "metadata.namespace")


def parse_field_selector(
    text: str, extra_fields: tuple[str, ...] = ()
) -> list[tuple[str, bool, str]]:
    """Parse `metadata.name=x,metadata.namespace!=y` into (field, equal, value) triples;
    `extra_fields` are the type's own field labels (events: `involvedObject.name`...)."""
    if not text.strip():
        return []
    result = []
    for part in text.split(","):
        match = _FIELD_REQUIREMENT.match(part)
        if match is None:
            raise ApiError(400, f"invalid field selector: {part!r}")
        if match["field"] not in _SUPPORTED_FIELDS + extra_fields:
            raise ApiError(400, f"field label not supported: {match['field']}")
        result.append((match["field"], match["op"] != "!=", match["value"]))
    return result


def _field_value(obj: JsonDict, field_path: str) -> str:
    if field_path == "source":  # the API's name for source.component
        field_path = "source.component"
    node: Any = obj
    for part in field_path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return "" if node is None else str(node)


# ---- Patches -----------------------------------------------------------------
def merge_patch(target: Any, patch: Any) -> Any:
    """Apply an RFC 7386 JSON merge patch (null deletes, objects merge, the rest replaces)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise ApiError(400, f"invalid JSON pointer in patch: {path!r}")
    return [token.replace("~1", "/").replace("~0", "~") for token in path.split("/")[1:]]


def _walk(doc: Any, tokens: list[str]) -> Any:
    node = doc
    for token in tokens:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise ApiError(422, f"the patch path /{'/'.join(tokens)} does not exist")
    return node


def _add(doc: Any, tokens: list[str], value: Any) -> Any:
    if not tokens:
        return value
    parent, last = _walk(doc, tokens[:-1]), tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list) and (
        last == "-" or (last.isdigit() and int(last) <= len(parent))
    ):
        parent.insert(len(parent) if last == "-" else int(last), value)
    else:
        raise ApiError(422, f"cannot add at /{'/'.join(tokens)}")
    return doc


def _remove(doc: Any, tokens: list[str]) -> Any:
    if not tokens:
        raise ApiError(422, "cannot remove the whole document")
    parent, last = _walk(doc, tokens[:-1]), tokens[-1]
    _walk(parent, [last])  # raises when absent
    return parent.pop(int(last) if isinstance(parent, list) else last)


def json_patch(document: Any, operations: Any) -> Any:
    """Apply an RFC 6902 JSON patch (add, remove, replace, move, copy, test)."""
    if not isinstance(operations, list):
        raise ApiError(400, "a JSON patch must be a list of operations")
    doc = copy.deepcopy(document)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation:
            raise ApiError(400, "every JSON patch operation needs an 'op' and a 'path'")
        op, path = operation["op"], _pointer(operation.get("path"))
        if op in ("add", "replace", "test") and "value" not in operation:
            raise ApiError(400, f"JSON patch operation {op!r} needs a 'value'")
        if op == "add":
            doc = _add(doc, path, copy.deepcopy(operation["value"]))
        elif op == "remove":
            _remove(doc, path)
        elif op == "replace":
            if path:
                _remove(doc, path)
            doc = _add(doc, path, copy.deepcopy(operation["value"]))
        elif op in ("move", "copy"):
            source = _pointer(operation.get("from"))
            value = _remove(doc, source) if op == "move" else copy.deepcopy(_walk(doc, source))
            doc = _add(doc, path, value)
        elif op == "test":
            if _walk(doc, path) != operation["value"]:
                raise ApiError(422, f"test operation failed at {operation['path']}")
        else:
            raise ApiError(400, f"unknown JSON patch operation {op!r}")
    return doc


# ---- TLS ---------------------------------------------------------------------
@dataclass(frozen=True)
class TlsMaterial:
    """A throw-away CA, a server certificate for 127.0.0.1 and a client certificate (PEM)."""

    ca_cert: bytes
    server_cert_file: Path
    server_key_file: Path
    client_cert: bytes
    client_key: bytes = field(repr=False)


_CA_CONFIG = """[req]
distinguished_name = dn
prompt = no
[dn]
CN = fake-kube-ca
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
"""
_LEAF_EXTENSIONS = {
    "server": "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    "client": "extendedKeyUsage=clientAuth\n",
}


def make_tls_material(directory: Path) -> TlsMaterial:
    """Create a CA, a server and a client certificate with the `openssl` command line."""
    import subprocess

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ca.cnf").write_text(_CA_CONFIG)
    key_args = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    openssl("req", "-x509", "-config", "ca.cnf", "-extensions", "v3_ca", *key_args,
            "-keyout", "ca.key", "-out", "ca.crt", "-days", "2")  # fmt: skip
    subjects = {"server": "/CN=kube-apiserver", "client": "/O=system:masters/CN=nautes-portal"}
    for serial, (leaf, subject) in enumerate(subjects.items(), start=2):
        (directory / f"{leaf}.ext").write_text(_LEAF_EXTENSIONS[leaf])
        openssl("req", "-new", *key_args, "-keyout", f"{leaf}.key", "-out", f"{leaf}.csr",
                "-subj", subject)  # fmt: skip
        openssl("x509", "-req", "-in", f"{leaf}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-set_serial", str(serial), "-days", "2", "-out", f"{leaf}.crt",
                "-extfile", f"{leaf}.ext")  # fmt: skip
    return TlsMaterial(
        ca_cert=(directory / "ca.crt").read_bytes(),
        server_cert_file=directory / "server.crt",
        server_key_file=directory / "server.key",
        client_cert=(directory / "client.crt").read_bytes(),
        client_key=(directory / "client.key").read_bytes(),
    )


# ---- Argo CD -----------------------------------------------------------------
def argocd_crds(*, status_subresource: bool = False) -> list[JsonDict]:
    """The Application and AppProject CRDs, reduced to what serving them needs.

    The real CRDs declare no status subresource (`subresources: {}`): Argo CD writes `status`
    through the main resource. `status_subresource=True` gives them one, for tests that want it.
    """

    def crd(kind: str, plural: str, short_names: list[str]) -> JsonDict:
        name = f"{plural}.{ARGOCD_GROUP}"
        return {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {
                "name": name,
                "labels": {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "argocd"},
            },
            "spec": {
                "group": ARGOCD_GROUP,
                "names": {
                    "kind": kind,
                    "listKind": f"{kind}List",
                    "plural": plural,
                    "singular": kind.lower(),
                    "shortNames": short_names,
                },
                "scope": "Namespaced",
                "versions": [
                    {
                        "name": ARGOCD_VERSION,
                        "served": True,
                        "storage": True,
                        "subresources": {"status": {}} if status_subresource else {},
                        "schema": {
                            "openAPIV3Schema": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            }
                        },
                    }
                ],
            },
        }

    return [
        crd("Application", "applications", ["app", "apps"]),
        crd("AppProject", "appprojects", ["appproj", "appprojs"]),
    ]


# ---- The server --------------------------------------------------------------
@dataclass(frozen=True)
class TextReply:
    """A `text/plain` answer (pod logs); `stream` makes it a chunked, streamed one (follow)."""

    body: bytes
    stream: Iterator[bytes] | None = None


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it (never its headers: they carry the token)."""

    method: str
    path: str
    query: dict[str, list[str]]
    content_type: str
    status: int


@dataclass(frozen=True)
class DenyRule:
    """Refuse `verb` on `resource` (`plural` or `plural/subresource`); `*` matches anything."""

    verb: str
    resource: str
    group: str = ""
    namespace: str | None = None  # None: every namespace and the cluster scope

    def matches(self, verb: str, group: str, resource: str, namespace: str | None) -> bool:
        """Whether this rule covers the request."""
        return (
            self.verb in ("*", verb)
            and self.group in ("*", group)
            and self.resource in ("*", resource)
            and (self.namespace is None or self.namespace == namespace)
        )


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    remaining: int
    message: str


Key = tuple[str, str, str, str]  # group, plural, namespace ("" when cluster-scoped), name


class FakeKubeServer:
    """An in-memory Kubernetes API server on 127.0.0.1 (HTTP, or HTTPS with `tls`)."""

    def __init__(
        self,
        *,
        token: str | None = None,
        git_version: str = DEFAULT_GIT_VERSION,
        argocd_installed: bool = False,
        argocd_namespace: str = "argocd",
        argocd_status_subresource: bool = False,
        username: str = DEFAULT_USER,
        tls: TlsMaterial | None = None,
        latency: float = 0.0,
    ) -> None:
        self.token = token or secrets.token_urlsafe(24)
        self.git_version = git_version
        self.username = username
        self.tls = tls
        self.latency = latency
        self.requests: list[RecordedRequest] = []
        # Every object version stored, in order (creates and updates, seeds included): shows
        # what was ever written, even when a later write or delete replaced it.
        self.history: list[JsonDict] = []
        self.port = 0
        self._lock = threading.RLock()
        self._objects: dict[Key, JsonDict] = {}
        self._resource_version = 0
        self._deny_rules: list[DenyRule] = []
        self._faults: list[_Fault] = []
        self._vanish_after: tuple[str, re.Pattern[str]] | None = None
        self._gone = False
        self._connections: set[socket.socket] = set()
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        from tests.fakes.kube_workloads import Workloads  # it builds on this module

        self.workloads = Workloads(self)
        for name in _INITIAL_NAMESPACES:
            self.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        if argocd_installed:
            self.install_argocd(
                namespace=argocd_namespace, status_subresource=argocd_status_subresource
            )

    def __repr__(self) -> str:
        return f"FakeKubeServer(url={self.url!r})"

    # -- Life cycle ----------------------------------------------------------
    def start(self) -> FakeKubeServer:
        """Listen on a free port (the same one again after stop()) and serve in a thread."""
        if self._httpd is not None and not self._stopped.is_set():
            raise RuntimeError("the fake API server is already started")
        self._stopped.clear()
        self._httpd = _HttpServer(self, self.port)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-kube-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: new connections are refused and open ones are cut (a dead cluster).

        The objects are kept: `start()` serves them again on the same port (the cluster is back).
        """
        if self._httpd is None or self._stopped.is_set():
            return
        self._stopped.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()

    def __enter__(self) -> FakeKubeServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The API server address a kubeconfig names."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def kubeconfig(
        self,
        *,
        token: str | None = None,
        client_certificate: bool = False,
        context: str = "fake",
        namespace: str | None = None,
    ) -> str:
        """A kubeconfig (YAML) for this server: bearer token, or the TLS client certificate."""
        cluster: JsonDict = {"server": self.url}
        if self.tls is not None:
            cluster["certificate-authority-data"] = _b64(self.tls.ca_cert)
        if client_certificate:
            if self.tls is None:
                raise ValueError("client certificates need a TLS server")
            user: JsonDict = {
                "client-certificate-data": _b64(self.tls.client_cert),
                "client-key-data": _b64(self.tls.client_key),
            }
        else:
            user = {"token": token if token is not None else self.token}
        context_body: JsonDict = {"cluster": context, "user": f"{context}-user"}
        if namespace:
            context_body["namespace"] = namespace
        return yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": context, "cluster": cluster}],
                "users": [{"name": f"{context}-user", "user": user}],
                "contexts": [{"name": context, "context": context_body}],
                "current-context": context,
            },
            sort_keys=False,
        )

    # -- Test controls -------------------------------------------------------
    def deny(self, verb: str, resource: str, group: str = "", namespace: str | None = None) -> None:
        """Refuse `verb` on `resource` (SelfSubjectAccessReview says no; requests get 403)."""
        with self._lock:
            self._deny_rules.append(DenyRule(verb, resource, group, namespace))

    def allow_all(self) -> None:
        """Drop every deny rule."""
        with self._lock:
            self._deny_rules.clear()

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        times: int = 1,
        *,
        message: str = "injected failure",
    ) -> None:
        """Answer the next `times` requests matching `method` (or `*`) and `path_regex` with
        `status` and a Status body; status 0 closes the connection without any answer."""
        with self._lock:
            self._faults.append(
                _Fault(method.upper(), re.compile(path_regex), status, times, message)
            )

    def vanish_after(self, method: str, path_regex: str) -> None:
        """Answer the next matching request, then drop every connection without an answer (a
        cluster that disappears in the middle of a deployment) until `reappear()`."""
        with self._lock:
            self._vanish_after = (method.upper(), re.compile(path_regex))

    def reappear(self) -> None:
        """Serve again after `vanish_after` struck; the objects are as they were."""
        with self._lock:
            self._gone = False
            self._vanish_after = None

    @property
    def gone(self) -> bool:
        return self._gone

    def clear_requests(self) -> None:
        """Forget the request log."""
        with self._lock:
            self.requests.clear()

    def install_argocd(
        self, *, namespace: str = "argocd", status_subresource: bool = False
    ) -> None:
        """Create the `argocd` namespace and the Application and AppProject CRDs."""
        with self._lock:
            if self.get(NAMESPACES, "", namespace) is None:
                self.create(
                    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
                )
            for crd in argocd_crds(status_subresource=status_subresource):
                if self.get(CRDS, "", crd["metadata"]["name"]) is None:
                    self.create(crd)

    def set_pod_log(
        self, namespace: str, pod: str, container: str, text: str, *, previous: bool = False
    ) -> None:
        """What `GET pods/{pod}/log` answers for the container (see `workloads` for more)."""
        self.workloads.set_pod_log(namespace, pod, container, text, previous=previous)

    def crash_loop(
        self, namespace: str, pod: str, container: str | None = None, **options: Any
    ) -> JsonDict:
        """Put a Pod's container into CrashLoopBackOff (`Workloads.crash_loop`)."""
        return self.workloads.crash_loop(namespace, pod, container, **options)

    # -- Direct access (no HTTP, no authorization) ---------------------------
    def create(self, obj: JsonDict) -> JsonDict:
        """Create an object as a POST would (validation included); return the stored copy."""
        with self._lock:
            rtype = self._type_for(obj.get("apiVersion", ""), obj.get("kind", ""))
            namespace = (obj.get("metadata") or {}).get("namespace") if rtype.namespaced else None
            return copy.deepcopy(self._create(rtype, namespace, copy.deepcopy(obj)))

    def get(
        self, rtype: ResourceType | tuple[str, str], namespace: str, name: str
    ) -> JsonDict | None:
        """A copy of a stored object; `rtype` may be a (group, plural) pair."""
        group, plural = (rtype.group, rtype.plural) if isinstance(rtype, ResourceType) else rtype
        with self._lock:
            obj = self._objects.get((group, plural, namespace or "", name))
            return copy.deepcopy(obj) if obj is not None else None

    def objects(self, group: str, plural: str, namespace: str | None = None) -> list[JsonDict]:
        """Copies of the stored objects of a type, optionally in one namespace."""
        with self._lock:
            return [
                copy.deepcopy(obj)
                for key, obj in sorted(self._objects.items())
                if key[:2] == (group, plural) and namespace in (None, key[2])
            ]

    def set_status(
        self, group: str, plural: str, namespace: str, name: str, status: JsonDict
    ) -> JsonDict:
        """Write an object's `status` (as Argo CD would) and bump its resourceVersion."""
        with self._lock:
            key = (group, plural, namespace or "", name)
            if key not in self._objects:
                raise KeyError(f"no {plural}.{group} {namespace}/{name} in the fake")
            obj = self._objects[key]
            obj["status"] = copy.deepcopy(status)
            obj["metadata"]["resourceVersion"] = self._next_resource_version()
            return copy.deepcopy(obj)

    def update_stored(
        self, group: str, plural: str, namespace: str, name: str, patch: JsonDict
    ) -> JsonDict:
        """Merge-patch a stored object directly, as another controller would (no checks)."""
        with self._lock:
            key = (group, plural, namespace or "", name)
            if key not in self._objects:
                raise KeyError(f"no {plural}.{group} {namespace}/{name} in the fake")
            obj = merge_patch(self._objects[key], patch)
            obj["metadata"]["resourceVersion"] = self._next_resource_version()
            self._objects[key] = obj
            return copy.deepcopy(obj)

    # -- Request handling ----------------------------------------------------
    def serve(
        self, method: str, raw_path: str, headers: Any, body: bytes, peer_cert: Any = None
    ) -> tuple[int, JsonDict | TextReply | None]:
        """Answer one request: (status, JSON body or text); status 0 means drop the connection."""
        if self.latency:
            time.sleep(self.latency)
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query, keep_blank_values=True)
        with self._lock:
            gone = self._gone
        if gone:
            status, payload = 0, None
        else:
            status, payload = self._answer(method, parts.path, query, headers, body, peer_cert)
        with self._lock:
            trigger = self._vanish_after
            if (
                not gone
                and trigger
                and trigger[0] in ("*", method)
                and trigger[1].search(parts.path)
            ):
                self._gone, self._vanish_after = True, None
            self.requests.append(
                RecordedRequest(
                    method, parts.path, query, headers.get("Content-Type") or "", status
                )
            )
        return status, payload

    def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: Any,
        body: bytes,
        peer_cert: Any,
    ) -> tuple[int, JsonDict | TextReply | None]:
        fault = self._take_fault(method, path)
        if fault is not None:
            return fault.status, status_body(fault.status, fault.message) if fault.status else None
        if not self._authenticated(headers.get("Authorization"), peer_cert):
            return 401, status_body(401, "Unauthorized")
        try:
            with self._lock:
                return self._route(method, path, query, headers, body)
        except ApiError as exc:
            return exc.code, exc.body

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method in ("*", method) and fault.pattern.search(path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _authenticated(self, authorization: str | None, peer_cert: Any) -> bool:
        if authorization is not None:
            scheme, _, credential = authorization.partition(" ")
            return scheme.lower() == "bearer" and secrets.compare_digest(credential, self.token)
        # With TLS a verified client certificate authenticates (CERT_OPTIONAL: {} when absent).
        return bool(peer_cert)

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: bytes
    ) -> tuple[int, JsonDict | TextReply]:
        segments = [unquote(segment) for segment in path.strip("/").split("/") if segment]
        if segments == ["version"] and method == "GET":
            return 200, self._version()
        if not segments or segments[0] not in ("api", "apis"):
            raise _page_not_found()
        if segments[0] == "api":
            if len(segments) == 1:
                return 200, self._core_versions()
            group, version, rest = "", segments[1], segments[2:]
        else:
            if len(segments) == 1:
                return 200, self._group_list()
            group = segments[1]
            if len(segments) == 2:
                return 200, self._group(group)
            version, rest = segments[2], segments[3:]
        types = {t.plural: t for t in self._types() if (t.group, t.version) == (group, version)}
        if not types:
            raise _page_not_found()
        if not rest:
            if method != "GET":
                raise ApiError(405, f"{method} is not supported on discovery documents")
            return 200, self._resource_list(group, version, types.values())
        namespace: str | None = None
        if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] in types:
            namespace, rest = rest[1], rest[2:]
        rtype = types.get(rest[0])
        if rtype is None or len(rest) > 3:
            raise _page_not_found()
        name = rest[1] if len(rest) > 1 else None
        subresource = rest[2] if len(rest) > 2 else None
        if subresource == "log" and rtype.plural == "pods" and namespace and name:
            if method != "GET":
                raise ApiError(
                    405, "the server does not allow this method on the requested resource"
                )
            if not self._allowed("get", "", "pods/log", namespace):
                raise self._forbidden("get", rtype, "pods/log", namespace, name)
            return 200, self.workloads.pod_log(namespace, name, query)
        if subresource is not None and not (subresource == "status" and rtype.status_subresource):
            raise _page_not_found()
        if rtype.namespaced and namespace is None and name is not None:
            raise _page_not_found()
        if not rtype.namespaced and namespace is not None:
            raise _page_not_found()
        return self._resource_request(
            method, rtype, namespace, name, subresource, query, headers, body
        )

    def _resource_request(
        self,
        method: str,
        rtype: ResourceType,
        namespace: str | None,
        name: str | None,
        subresource: str | None,
        query: dict[str, list[str]],
        headers: Any,
        body: bytes,
    ) -> tuple[int, JsonDict]:
        verb = {
            ("GET", False): "list",
            ("GET", True): "get",
            ("POST", False): "create",
            ("PUT", True): "update",
            ("PATCH", True): "patch",
            ("DELETE", True): "delete",
        }.get((method, name is not None))
        if verb is None or verb not in rtype.verbs:
            raise ApiError(405, "the server does not allow this method on the requested resource")
        if verb == "list" and _first(query, "watch") in ("true", "1"):
            raise ApiError(405, "the fake API server does not support watch")
        resource = f"{rtype.plural}/{subresource}" if subresource else rtype.plural
        if not self._allowed(verb, rtype.group, resource, namespace):
            raise self._forbidden(verb, rtype, resource, namespace, name)
        if verb == "list":
            return 200, self._list(rtype, namespace, query)
        if verb == "create":
            if rtype.plural == "selfsubjectaccessreviews":
                return 201, self._access_review(_json_body(body))
            if rtype.namespaced and namespace is None:
                raise ApiError(405, "create a namespaced object through its namespace's path")
            return 201, copy.deepcopy(self._create(rtype, namespace, _json_body(body)))
        assert name is not None
        existing = self._objects.get(_key(rtype, namespace, name))
        if existing is None:
            raise _not_found(rtype, name)
        if verb == "get":
            return 200, copy.deepcopy(existing)
        if verb == "update":
            new = _json_body(body)
            return 200, copy.deepcopy(self._update(rtype, existing, new, name, subresource))
        if verb == "patch":
            new = self._patched(rtype, existing, headers.get("Content-Type") or "", body)
            return 200, copy.deepcopy(
                self._update(rtype, existing, new, name, subresource, patch=True)
            )
        return 200, self._delete(rtype, existing, _json_body(body) if body else {})

    # -- Operations ----------------------------------------------------------
    def _create(self, rtype: ResourceType, namespace: str | None, obj: JsonDict) -> JsonDict:
        self._check_type_fields(rtype, obj)
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise ApiError(400, "metadata must be an object")
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = f"{meta['generateName']}{secrets.token_hex(3)[:5]}"
        name = meta.get("name") or ""
        if not name:
            raise _invalid(
                rtype, "", "metadata.name: Required value: name or generateName is required"
            )
        self._check_namespace_field(rtype, meta, namespace)
        if meta.get("resourceVersion"):
            raise ApiError(500, "resourceVersion should not be set on objects to be created")
        if not rtype.name_pattern.match(name) or len(name) > (63 if rtype is NAMESPACES else 253):
            raise _invalid(rtype, name, f'metadata.name: Invalid value: "{name}": not a valid name')
        if rtype.namespaced and (
            namespace is None or ("", "namespaces", "", namespace) not in self._objects
        ):
            raise _not_found(NAMESPACES, namespace or "")
        key = _key(rtype, namespace, name)
        if key in self._objects:
            raise ApiError(
                409,
                f'{rtype.qualified} "{name}" already exists',
                reason="AlreadyExists",
                details=_details(rtype, name),
            )
        if rtype.status_subresource and rtype.custom:
            obj.pop(
                "status", None
            )  # a real server resets status on create through the main resource
        meta.update(
            uid=str(uuid.uuid4()),
            creationTimestamp=_now(),
            resourceVersion=self._next_resource_version(),
        )
        for transient in ("deletionTimestamp", "managedFields", "selfLink"):
            meta.pop(transient, None)
        if rtype.custom:
            meta["generation"] = 1
        self._normalise(rtype, obj, None)
        self.workloads.prepare(rtype, obj, None)
        self._objects[key] = obj
        self.history.append(copy.deepcopy(obj))
        self.workloads.written(rtype, obj, None)  # controllers may have changed it meanwhile
        return self._objects.get(key, obj)

    def _update(
        self,
        rtype: ResourceType,
        existing: JsonDict,
        new: JsonDict,
        name: str,
        subresource: str | None,
        *,
        patch: bool = False,
    ) -> JsonDict:
        self._check_type_fields(rtype, new)
        meta = new.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise ApiError(400, "metadata must be an object")
        if meta.get("name") != name:
            raise ApiError(
                400,
                f"the name of the object ({meta.get('name')}) does not match the name on the URL "
                f"({name})",
            )
        old_meta = existing["metadata"]
        self._check_namespace_field(rtype, meta, old_meta.get("namespace"))
        version = meta.get("resourceVersion")
        if not version and rtype.custom and not patch:
            raise _invalid(
                rtype,
                name,
                "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update",
            )
        if version and version != old_meta["resourceVersion"]:
            raise ApiError(
                409,
                f'Operation cannot be fulfilled on {rtype.qualified} "{name}": the object has been '
                "modified; please apply your changes to the latest version and try again",
                details=_details(rtype, name),
            )
        if subresource == "status":
            result = copy.deepcopy(existing)
            if new.get("status") is None:
                result.pop("status", None)
            else:
                result["status"] = new["status"]
        else:
            result = new
            for kept in ("uid", "creationTimestamp", "namespace", "generation"):
                if kept in old_meta:
                    meta[kept] = old_meta[kept]
                else:
                    meta.pop(kept, None)
            if rtype.status_subresource:
                if "status" in existing:
                    result["status"] = copy.deepcopy(existing["status"])
                else:
                    result.pop("status", None)
            self._normalise(rtype, result, existing)
            self.workloads.prepare(rtype, result, existing)
            if rtype.custom and _spec_part(result) != _spec_part(existing):
                meta["generation"] = old_meta.get("generation", 1) + 1
        result["metadata"]["resourceVersion"] = old_meta["resourceVersion"]
        if result == existing:
            return existing  # a no-op update does not write: the resourceVersion stays
        result["metadata"]["resourceVersion"] = self._next_resource_version()
        key = _key(rtype, old_meta.get("namespace"), name)
        self._objects[key] = result
        self.history.append(copy.deepcopy(result))
        self.workloads.written(rtype, result, existing)
        return self._objects.get(key, result)

    def _patched(
        self, rtype: ResourceType, existing: JsonDict, content_type: str, body: bytes
    ) -> JsonDict:
        media = content_type.split(";")[0].strip().lower()
        patch = _json_body(body, allow_list=True)
        if media == "application/json-patch+json":
            result = json_patch(existing, patch)
        elif media == "application/merge-patch+json" or (
            media == "application/strategic-merge-patch+json" and not rtype.custom
        ):
            if not isinstance(patch, dict):
                raise ApiError(400, "a merge patch must be a JSON object")
            result = merge_patch(existing, patch)
        else:
            raise ApiError(
                415,
                "the body of the request was in an unknown format - accepted media types include: "
                "application/json-patch+json, application/merge-patch+json"
                + ("" if rtype.custom else ", application/strategic-merge-patch+json"),
            )
        if not isinstance(result, dict):
            raise ApiError(422, "the patched object is not a JSON object")
        # A resourceVersion in the patch is a precondition; without one the update is unconditional.
        patched_version = ((patch if isinstance(patch, dict) else {}).get("metadata") or {}).get(
            "resourceVersion"
        )
        result.setdefault("metadata", {})["resourceVersion"] = (
            patched_version or existing["metadata"]["resourceVersion"]
        )
        return result

    def _delete(self, rtype: ResourceType, existing: JsonDict, options: JsonDict) -> JsonDict:
        meta = existing["metadata"]
        name = meta["name"]
        preconditions = options.get("preconditions") or {}
        for field_name in ("uid", "resourceVersion"):
            expected = preconditions.get(field_name)
            if expected and expected != meta.get(field_name):
                raise ApiError(
                    409,
                    f'Operation cannot be fulfilled on {rtype.qualified} "{name}": Precondition '
                    f"failed: {field_name} in precondition: {expected}, {field_name} in object "
                    f"meta: {meta.get(field_name)}",
                    details=_details(rtype, name),
                )
        if rtype is NAMESPACES and name in _PROTECTED_NAMESPACES:
            raise ApiError(
                403, f'namespaces "{name}" is forbidden: this namespace may not be deleted'
            )
        del self._objects[_key(rtype, meta.get("namespace"), name)]
        self.workloads.deleted(rtype, existing)
        answer = copy.deepcopy(existing)
        if rtype is NAMESPACES:
            # Real clusters keep the namespace Terminating until its content is gone; here the
            # namespace and everything in it disappear at once.
            for key in [key for key in self._objects if key[2] == name]:
                del self._objects[key]
            answer["metadata"]["deletionTimestamp"] = _now()
            answer.setdefault("status", {})["phase"] = "Terminating"
        if rtype is CRDS:
            spec = existing.get("spec") or {}
            plural = (spec.get("names") or {}).get("plural")
            for key in [key for key in self._objects if key[:2] == (spec.get("group"), plural)]:
                del self._objects[key]
        return answer

    def _list(
        self, rtype: ResourceType, namespace: str | None, query: dict[str, list[str]]
    ) -> JsonDict:
        labels = parse_label_selector(_first(query, "labelSelector") or "")
        fields = parse_field_selector(_first(query, "fieldSelector") or "", rtype.field_labels)
        items = [
            obj
            for key, obj in sorted(
                (key, obj)
                for key, obj in self._objects.items()
                if key[:2] == (rtype.group, rtype.plural) and namespace in (None, key[2])
            )
        ]
        items = [
            obj
            for obj in items
            if all(r.matches(obj["metadata"].get("labels") or {}) for r in labels)
            and all((_field_value(obj, f) == v) == equal for f, equal, v in fields)
        ]
        token = _first(query, "continue")
        if token:
            start = _decode_continue(token)
            items = [obj for obj in items if _sort_key(obj) > start]
        metadata: JsonDict = {"resourceVersion": str(self._resource_version)}
        limit = _first(query, "limit")
        if limit:
            if not limit.isdigit():
                raise ApiError(400, f"invalid limit {limit!r}")
            if 0 < int(limit) < len(items):
                rest = len(items) - int(limit)
                items = items[: int(limit)]
                metadata["continue"] = _encode_continue(_sort_key(items[-1]))
                metadata["remainingItemCount"] = rest
        rendered = []
        for obj in items:
            item = _json_copy(obj)
            if not rtype.custom:
                # Real servers omit apiVersion/kind on the items of built-in lists.
                item.pop("apiVersion", None)
                item.pop("kind", None)
            rendered.append(item)
        return {
            "apiVersion": rtype.api_version,
            "kind": f"{rtype.kind}List",
            "metadata": metadata,
            "items": rendered,
        }

    def _access_review(self, review: JsonDict) -> JsonDict:
        spec = review.get("spec") or {}
        attributes = spec.get("resourceAttributes")
        if attributes is None and spec.get("nonResourceAttributes") is None:
            raise ApiError(
                422,
                'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: '
                "spec.resourceAttributes: Invalid value: exactly one of nonResourceAttributes or "
                "resourceAttributes must be specified",
            )
        allowed = True
        if attributes is not None:
            resource = attributes.get("resource") or ""
            if attributes.get("subresource"):
                resource = f"{resource}/{attributes['subresource']}"
            allowed = self._allowed(
                attributes.get("verb") or "",
                attributes.get("group") or "",
                resource,
                attributes.get("namespace") or None,
            )
        status: JsonDict = {"allowed": allowed}
        if allowed:
            status["reason"] = "allowed by the fake API server's default policy"
        return {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "metadata": {"creationTimestamp": None},
            "spec": spec,
            "status": status,
        }

    # -- Helpers -------------------------------------------------------------
    def _next_resource_version(self) -> str:
        self._resource_version += 1
        return str(self._resource_version)

    def _types(self) -> list[ResourceType]:
        """The built-in types plus one per served version of every stored CRD."""
        types = [*BUILTIN_TYPES, *self.workloads.types]
        for key, crd in self._objects.items():
            if key[:2] != (CRDS.group, CRDS.plural):
                continue
            spec = crd.get("spec") or {}
            names = spec.get("names") or {}
            for version in spec.get("versions") or []:
                if version.get("served", True):
                    types.append(
                        ResourceType(
                            spec["group"],
                            version["name"],
                            names["plural"],
                            names["kind"],
                            namespaced=spec.get("scope") == "Namespaced",
                            short_names=tuple(names.get("shortNames") or ()),
                            status_subresource="status" in (version.get("subresources") or {}),
                            custom=True,
                        )
                    )
        return types

    def _type_for(self, api_version: str, kind: str) -> ResourceType:
        for rtype in self._types():
            if (rtype.api_version, rtype.kind) == (api_version, kind):
                return rtype
        raise ValueError(f"the fake API server does not serve {api_version} {kind}")

    def _allowed(self, verb: str, group: str, resource: str, namespace: str | None) -> bool:
        return not any(rule.matches(verb, group, resource, namespace) for rule in self._deny_rules)

    def _forbidden(
        self, verb: str, rtype: ResourceType, resource: str, namespace: str | None, name: str | None
    ) -> ApiError:
        subject = f'{rtype.qualified} "{name}"' if name else rtype.qualified
        scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
        return ApiError(
            403,
            f'{subject} is forbidden: User "{self.username}" cannot {verb} resource '
            f'"{resource}" in API group "{rtype.group}" {scope}',
            details=_details(rtype, name or ""),
        )

    @staticmethod
    def _check_type_fields(rtype: ResourceType, obj: Any) -> None:
        if not isinstance(obj, dict):
            raise ApiError(400, "the request body must be a JSON object")
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if api_version and api_version != rtype.api_version:
            raise ApiError(
                400,
                f"the API version in the data ({api_version}) does not match the expected API "
                f"version ({rtype.api_version})",
            )
        if kind and kind != rtype.kind:
            raise ApiError(
                400,
                f"the kind in the data ({kind}) does not match the expected kind ({rtype.kind})",
            )
        obj["apiVersion"], obj["kind"] = rtype.api_version, rtype.kind

    @staticmethod
    def _check_namespace_field(rtype: ResourceType, meta: JsonDict, namespace: str | None) -> None:
        if not rtype.namespaced:
            meta.pop("namespace", None)
            return
        if meta.get("namespace") and meta["namespace"] != namespace:
            raise ApiError(
                400,
                "the namespace of the provided object does not match the namespace sent on the "
                "request",
            )
        meta["namespace"] = namespace

    def _normalise(self, rtype: ResourceType, obj: JsonDict, old: JsonDict | None) -> None:
        """Validate labels and apply the defaulting a real API server does for these types."""
        meta = obj["metadata"]
        name = meta["name"]
        for field_name in ("labels", "annotations"):
            values = meta.get(field_name)
            if values is None:
                continue
            if not isinstance(values, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in values.items()
            ):
                raise ApiError(400, f"metadata.{field_name} must map strings to strings")
            if field_name == "labels":
                for key, value in values.items():
                    _check_label(rtype, name, key, value)
        if rtype is NAMESPACES:
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
            obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
            obj.setdefault("status", {}).setdefault("phase", "Active")
        elif rtype.plural == "secrets":
            _normalise_secret(obj)
        elif rtype.plural == "rolebindings":
            if not isinstance(obj.get("roleRef"), dict):
                raise _invalid(rtype, name, "roleRef: Required value")
            if old is not None and obj["roleRef"] != old.get("roleRef"):
                raise _invalid(rtype, name, "roleRef: Invalid value: cannot change roleRef")
            for subject in obj.get("subjects") or []:
                if subject.get("kind") in ("User", "Group"):
                    subject.setdefault("apiGroup", "rbac.authorization.k8s.io")
        elif rtype is CRDS:
            spec = obj.get("spec") or {}
            names = spec.get("names") or {}
            if name != f"{names.get('plural')}.{spec.get('group')}":
                raise _invalid(
                    rtype, name, 'metadata.name: must be spec.names.plural+"."+spec.group'
                )
            obj["status"] = {
                "acceptedNames": copy.deepcopy(names),
                "conditions": [{"type": "Established", "status": "True"}],
                "storedVersions": [
                    v["name"] for v in spec.get("versions") or [] if v.get("storage")
                ],
            }

    # -- Discovery -----------------------------------------------------------
    def _version(self) -> JsonDict:
        match = re.match(r"v(\d+)\.(\d+)", self.git_version)
        major, minor = match.groups() if match else ("1", "0")
        return {
            "major": major,
            "minor": minor,
            "gitVersion": self.git_version,
            "gitCommit": "0" * 40,
            "gitTreeState": "clean",
            "buildDate": "2023-07-27T00:00:00Z",
            "goVersion": "go1.20.6",
            "compiler": "gc",
            "platform": "linux/amd64",
        }

    def _core_versions(self) -> JsonDict:
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{self.port}"}
            ],
        }

    def _groups(self) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = {}
        for rtype in self._types():
            if rtype.group and rtype.version not in groups.setdefault(rtype.group, []):
                groups[rtype.group].append(rtype.version)
        return groups

    def _group(self, group: str) -> JsonDict:
        versions = self._groups().get(group)
        if not versions:
            raise _page_not_found()
        entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {
            "kind": "APIGroup",
            "apiVersion": "v1",
            "name": group,
            "versions": entries,
            "preferredVersion": entries[0],
        }

    def _group_list(self) -> JsonDict:
        groups = []
        for name in self._groups():
            group = self._group(name)
            del group["kind"], group["apiVersion"]
            groups.append(group)
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    @staticmethod
    def _resource_list(group: str, version: str, types: Iterable[ResourceType]) -> JsonDict:
        resources = []
        for rtype in types:
            resources.append(
                {
                    "name": rtype.plural,
                    "singularName": rtype.kind.lower(),
                    "namespaced": rtype.namespaced,
                    "kind": rtype.kind,
                    "verbs": list(rtype.verbs),
                    **({"shortNames": list(rtype.short_names)} if rtype.short_names else {}),
                }
            )
            subresources = list(rtype.subresources)
            if rtype.status_subresource:
                subresources.insert(0, ("status", ("get", "patch", "update")))
            for subresource, verbs in subresources:
                resources.append(
                    {
                        "name": f"{rtype.plural}/{subresource}",
                        "singularName": "",
                        "namespaced": rtype.namespaced,
                        "kind": rtype.kind,
                        "verbs": list(verbs),
                    }
                )
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version,
            "resources": resources,
        }

    # -- Connections (for stop()) --------------------------------------------
    def _track(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def _untrack(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def _server_ssl_context(self) -> ssl.SSLContext | None:
        if self.tls is None:
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.tls.server_cert_file, self.tls.server_key_file)
        context.load_verify_locations(cadata=self.tls.ca_cert.decode())
        context.verify_mode = ssl.CERT_OPTIONAL
        return context


def start_fake_kube(**options: Any) -> FakeKubeServer:
    """Create and start a FakeKubeServer (see its constructor for the options)."""
    return FakeKubeServer(**options).start()


def stop_all(servers: Iterable[FakeKubeServer]) -> None:
    """Stop several servers concurrently (each stop waits for its accept loop)."""
    threads = [threading.Thread(target=server.stop) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# ---- Module helpers ----------------------------------------------------------
def _key(rtype: ResourceType, namespace: str | None, name: str) -> Key:
    return (rtype.group, rtype.plural, namespace or "", name)


def _sort_key(obj: JsonDict) -> tuple[str, str]:
    meta = obj["metadata"]
    return (meta.get("namespace") or "", meta["name"])


def _encode_continue(start: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(start)).encode()).decode()


def _decode_continue(token: str) -> tuple[str, str]:
    try:
        namespace, name = json.loads(base64.urlsafe_b64decode(token.encode()))
        return (str(namespace), str(name))
    except (ValueError, TypeError):
        raise ApiError(400, "continue key is not valid") from None


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _json_body(body: bytes, *, allow_list: bool = False) -> Any:
    try:
        value = json.loads(body or b"null")
    except ValueError:
        raise ApiError(400, "the request body is not valid JSON") from None
    if not isinstance(value, dict) and not (allow_list and isinstance(value, list)):
        raise ApiError(400, "the request body must be a JSON object")
    return value


def _spec_part(obj: JsonDict) -> JsonDict:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def _json_copy(obj: JsonDict) -> JsonDict:
    """A deep copy of a stored (JSON) object; a tenth of `copy.deepcopy`'s time, which lists
    of a thousand objects made this fake's largest cost in bench/reconcile.py."""
    copied: JsonDict = orjson.loads(orjson.dumps(obj))
    return copied


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _check_label(rtype: ResourceType, name: str, key: str, value: str) -> None:
    prefix, _, label = key.rpartition("/")
    valid_key = (
        0 < len(label) <= 63
        and bool(_LABEL_NAME.match(label))
        and (not prefix or (len(prefix) <= 253 and bool(_DNS_SUBDOMAIN.match(prefix))))
    )
    if not valid_key:
        raise _invalid(
            rtype, name, f'metadata.labels: Invalid value: "{key}": name part must be valid'
        )
    if len(value) > 63 or not _LABEL_NAME.match(value):
        raise _invalid(
            rtype,
            name,
            f'metadata.labels: Invalid value: "{value}": a valid label must be an empty '
            "string or consist of alphanumeric characters, '-', '_' or '.' (at most 63)",
        )


def _normalise_secret(obj: JsonDict) -> None:
    """Fold `stringData` into base64 `data` and default the type, as the API server does."""
    data = obj.get("data") or {}
    for key, value in (obj.pop("stringData", None) or {}).items():
        data[key] = _b64(str(value).encode())
    for value in data.values():
        try:
            base64.b64decode(value, validate=True)
        except (ValueError, TypeError):
            raise ApiError(400, "Secret data values must be base64-encoded") from None
    if data:
        obj["data"] = data
    obj.setdefault("type", "Opaque")


# ---- HTTP plumbing -----------------------------------------------------------
class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeKubeServer, port: int = 0) -> None:
        self.fake = fake
        self.ssl_context = fake._server_ssl_context()
        super().__init__(("127.0.0.1", port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up (or failing the TLS handshake) is routine here: stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real API server: the client pools connections
    # One write per response and no Nagle: otherwise delayed ACKs add 40 ms to every request.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    server: _HttpServer

    def setup(self) -> None:
        if self.server.ssl_context is not None:
            self.request = self.server.ssl_context.wrap_socket(self.request, server_side=True)
        self.server.fake._track(self.request)
        super().setup()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._untrack(self.request)
            if self.server.ssl_context is not None:
                self.request.close()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr log (the fake keeps its own request log)."""

    def _handle(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if fake._stopped.is_set():
            self.close_connection = True
            return
        peer_cert = (
            self.connection.getpeercert() if isinstance(self.connection, ssl.SSLSocket) else None
        )
        status, payload = fake.serve(self.command, self.path, self.headers, body, peer_cert)
        if status == 0:
            self.close_connection = True
            return
        if isinstance(payload, TextReply):
            self._send_text(status, payload)
            return
        data = orjson.dumps(payload)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_text(self, status: int, reply: TextReply) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        if reply.stream is None:
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in reply.stream:
            if chunk:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


__all__ = [
    "ARGOCD_GROUP",
    "ARGOCD_VERSION",
    "BUILTIN_TYPES",
    "ApiError",
    "DenyRule",
    "FakeKubeServer",
    "RecordedRequest",
    "Requirement",
    "ResourceType",
    "TextReply",
    "TlsMaterial",
    "argocd_crds",
    "json_patch",
    "make_tls_material",
    "merge_patch",
    "parse_field_selector",
    "parse_label_selector",
    "start_fake_kube",
    "status_body",
    "stop_all",
]
