"""The API server and CA read from a cluster's kubeconfig, for Vault's Kubernetes auth."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import yaml

from nautes_portal.integrations.kube import KubeconfigInvalid
from nautes_portal.integrations.kube.kubeconfig import kubeconfig_ca_pem, kubeconfig_server
from tests.fakes.kube_server import TlsMaterial

TOKEN = "kubeconfig-ca-test-token-5d0b7e"


def kubeconfig(cluster: dict[str, Any]) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "c", "cluster": {"server": "https://10.1.2.3:6443", **cluster}}],
            "users": [{"name": "u", "user": {"token": TOKEN}}],
            "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
            "current-context": "ctx",
        }
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_ca_is_the_decoded_certificate_authority_data(fake_kube_tls: TlsMaterial) -> None:
    text = kubeconfig({"certificate-authority-data": b64(fake_kube_tls.ca_cert)})

    assert kubeconfig_ca_pem(text) == fake_kube_tls.ca_cert.decode()
    assert kubeconfig_ca_pem(text, context="ctx") == fake_kube_tls.ca_cert.decode()


@pytest.mark.parametrize("insecure", [True, "true"])
def test_no_ca_when_verification_is_skipped(fake_kube_tls: TlsMaterial, insecure: object) -> None:
    text = kubeconfig(
        {
            "certificate-authority-data": b64(fake_kube_tls.ca_cert),
            "insecure-skip-tls-verify": insecure,
        }
    )

    assert kubeconfig_ca_pem(text) == ""


def test_no_ca_without_certificate_authority_data() -> None:
    assert kubeconfig_ca_pem(kubeconfig({})) == ""


@pytest.mark.parametrize("data", [b"\x30\x82\x01\x0a\xff", b"just some text"])
def test_ca_data_that_is_not_pem_is_refused(data: bytes) -> None:
    with pytest.raises(KubeconfigInvalid, match="not PEM") as error:
        kubeconfig_ca_pem(kubeconfig({"certificate-authority-data": b64(data)}))

    assert TOKEN not in error.value.message


def test_unusable_kubeconfigs_are_refused_without_quoting_them() -> None:
    with pytest.raises(KubeconfigInvalid) as error:
        kubeconfig_ca_pem(kubeconfig({"certificate-authority-data": "%%%"}))
    assert TOKEN not in error.value.message
    with pytest.raises(KubeconfigInvalid, match="no usable context"):
        kubeconfig_ca_pem(kubeconfig({}), context="other")


def test_server_is_the_clusters_address_without_user_info() -> None:
    assert kubeconfig_server(kubeconfig({})) == "https://10.1.2.3:6443"
    text = kubeconfig({"server": "https://admin:pw@k.example:6443/base"})
    assert kubeconfig_server(text) == "https://k.example:6443/base"
