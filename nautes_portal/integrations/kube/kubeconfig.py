"""Parse and check a kubeconfig; its certificate data becomes an in-memory SSLContext.

The kubeconfig is never written to disk: certificate data is loaded into an SSLContext in
memory (client keys through an anonymous memory file where the OS has one).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import ssl
import tempfile
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from nautes_portal.errors import RuleViolation
from nautes_portal.integrations.kube.errors import KubeconfigInvalid
from nautes_portal.integrations.kube.interface import Obj
from nautes_portal.limits import load_yaml_bounded

# Kubeconfig features that would make the portal run a program or read a local file.
_UNSAFE_USER_KEYS = ("exec", "auth-provider", "tokenFile", "client-certificate", "client-key")
_UNSAFE_CLUSTER_KEYS = ("certificate-authority",)


@dataclass(frozen=True)
class _TlsData:
    ca: bytes | None = None
    cert: bytes | None = field(default=None, repr=False)
    key: bytes | None = field(default=None, repr=False)


def _named_entry(doc: Obj, section: str, name: Any) -> Obj:
    """The `cluster`/`user` body of the entry called `name` in `clusters`/`users`."""
    inner = section[:-1]
    for entry in doc.get(section) or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            body = entry.setdefault(inner, {})
            if not isinstance(body, dict):
                break
            return body
    raise KubeconfigInvalid(f"The kubeconfig's context names no usable {inner} entry.")


def _decode(value: Any, what: str) -> bytes | None:
    if value is None:
        return None
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise KubeconfigInvalid(f"The kubeconfig's {what} is not valid base64.") from None


def _prepare_kubeconfig(text: str, context: str | None) -> tuple[Obj, str, _TlsData]:
    """Parse and check the kubeconfig; take the certificate data out of it (kept in memory).

    Only a kubeconfig with exactly one context is used (registration stores them minified to
    one context, its cluster and its user): with several, which server gets the credentials
    would depend on `current-context` rather than on the address the portal shows. The
    document handed to the kubernetes library holds that context's cluster and user only.
    """
    try:
        doc = load_yaml_bounded(text, what="The kubeconfig")
    except RuleViolation as exc:  # an input limit; the message never quotes the kubeconfig
        raise KubeconfigInvalid(f"{exc.message}.") from None
    except yaml.YAMLError:
        raise KubeconfigInvalid("The kubeconfig is not valid YAML.") from None
    if not isinstance(doc, dict):
        raise KubeconfigInvalid("The kubeconfig must be a YAML mapping.")
    contexts = [entry for entry in doc.get("contexts") or [] if isinstance(entry, dict)]
    if len(contexts) > 1:
        raise KubeconfigInvalid(
            "The kubeconfig has more than one context; the portal uses a kubeconfig with exactly "
            "one context, its cluster and its user: save the cluster again with its kubeconfig."
        )
    name = contexts[0].get("name") if contexts else None
    selected = contexts[0].get("context") if contexts else None
    if not isinstance(selected, dict) or not name or context not in (None, name):
        raise KubeconfigInvalid("The kubeconfig has no usable context; set current-context.")
    if doc.get("current-context") not in (None, "", name):
        raise KubeconfigInvalid("The kubeconfig's current-context names no context in it.")
    cluster = _named_entry(doc, "clusters", selected.get("cluster"))
    user = _named_entry(doc, "users", selected.get("user"))
    # Nothing but the one context, its cluster and its user reaches the client library.
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": selected.get("cluster"), "cluster": cluster}],
        "users": [{"name": selected.get("user"), "user": user}],
        "contexts": [{"name": name, "context": selected}],
        "current-context": name,
    }
    for key in _UNSAFE_USER_KEYS:
        if key in user:
            raise KubeconfigInvalid(
                f"The kubeconfig's user uses '{key}', which the portal does not support; use a "
                "token or embedded client certificate data."
            )
    for key in _UNSAFE_CLUSTER_KEYS:
        if key in cluster:
            raise KubeconfigInvalid(
                f"The kubeconfig refers to a file with '{key}'; embed it as '{key}-data'."
            )
    if "proxy-url" in cluster:
        # The client would send every request, token included, to the proxy: an address the
        # portal never shows (#12, one address per cluster).
        raise KubeconfigInvalid(
            "The kubeconfig's cluster uses 'proxy-url', which the portal does not support: it "
            "talks to the API server address it shows, directly."
        )
    if not isinstance(cluster.get("server"), str) or not cluster["server"]:
        raise KubeconfigInvalid("The kubeconfig's cluster has no server address.")
    # Popped so that the kubernetes library never sees them: it would write them to temp files.
    tls = _TlsData(
        ca=_decode(cluster.pop("certificate-authority-data", None), "certificate authority"),
        cert=_decode(user.pop("client-certificate-data", None), "client certificate"),
        key=_decode(user.pop("client-key-data", None), "client key"),
    )
    return doc, str(name), tls


def kubeconfig_ca_pem(text: str, context: str | None = None) -> str:
    """The PEM of the CA the kubeconfig's cluster is verified with (its decoded
    `certificate-authority-data`); "" when it has none or skips verification
    (`insecure-skip-tls-verify`). Raises KubeconfigInvalid, whose message never quotes it.
    """
    doc, _name, tls = _prepare_kubeconfig(text, context)
    cluster = doc["clusters"][0]["cluster"]
    if cluster.get("insecure-skip-tls-verify") in (True, "true") or not tls.ca:
        return ""
    try:
        pem = tls.ca.decode("ascii")
    except UnicodeDecodeError:
        pem = ""
    if "-----BEGIN CERTIFICATE-----" not in pem:
        raise KubeconfigInvalid("The kubeconfig's certificate authority data is not PEM.")
    return pem


def kubeconfig_server(text: str, context: str | None = None) -> str:
    """The API server address of the kubeconfig's cluster, without any user-info.

    Raises KubeconfigInvalid, whose message never quotes the kubeconfig.
    """
    doc, _name, _tls = _prepare_kubeconfig(text, context)
    return display_server(str(doc["clusters"][0]["cluster"]["server"]))


def _ssl_context(tls: _TlsData, *, verify: bool) -> ssl.SSLContext:
    """An SSLContext with the kubeconfig's CA and client certificate, loaded in memory."""
    if bool(tls.cert) != bool(tls.key):
        raise KubeconfigInvalid("The kubeconfig needs both client-certificate and client-key data.")
    try:
        if tls.ca:
            context = ssl.create_default_context(cadata=tls.ca.decode("ascii"))
        else:
            context = ssl.create_default_context()
        if not verify:  # insecure-skip-tls-verify: true
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if tls.cert and tls.key:
            _load_client_certificate(context, tls.cert, tls.key)
    except (ssl.SSLError, ValueError, OSError):
        raise KubeconfigInvalid(
            "The certificate data in the kubeconfig cannot be loaded."
        ) from None
    return context


def _load_client_certificate(context: ssl.SSLContext, cert: bytes, key: bytes) -> None:
    """Load a client certificate and key: Python's ssl only reads them from files.

    Anonymous memory files (Linux memfd) keep the key off every disk; elsewhere a private
    temporary directory holds them for the instant `load_cert_chain` needs.
    """
    if hasattr(os, "memfd_create"):
        with contextlib.ExitStack() as stack:
            paths = []
            for label, data in (("cert", cert), ("key", key)):
                fd = os.memfd_create(f"kube-client-{label}", os.MFD_CLOEXEC)
                stack.callback(os.close, fd)
                with os.fdopen(os.dup(fd), "wb") as handle:
                    handle.write(data)
                paths.append(f"/proc/self/fd/{fd}")
            with contextlib.suppress(FileNotFoundError):  # no /proc: use the fallback
                context.load_cert_chain(*paths)
                return
    with tempfile.TemporaryDirectory(prefix="nautes-kube-") as directory:
        paths = []
        for label, data in (("cert", cert), ("key", key)):
            path = os.path.join(directory, f"client.{label}")
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
                f.write(data)
            paths.append(path)
        context.load_cert_chain(*paths)


def display_server(url: str) -> str:
    """The API server address without any user-info, safe for messages and logs."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
