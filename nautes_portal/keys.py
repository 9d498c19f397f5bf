"""SSH deploy keypairs for code repositories (upstream `Git.DefaultDeployKeyType`: ecdsa).

A keypair is generated with `cryptography`: an ECDSA P-256 key whose private half is in the
OpenSSH private-key format (what Argo CD and Tekton's git clients read from Vault) and whose
public half is an OpenSSH `ecdsa-sha2-nistp256 AAAA…` line (what GitLab accepts as a deploy key).

The private key is a secret: it goes to Vault and nowhere else. `DeployKeypair` therefore never
shows it in its repr, so a keypair that ends up in a log line, a traceback or an assertion
message does not leak it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

KEY_TYPE = "ecdsa-sha2-nistp256"


@dataclass(frozen=True)
class DeployKeypair:
    """A freshly generated SSH keypair; `private_openssh` is secret."""

    private_openssh: str = field(repr=False)
    public_openssh: str
    fingerprint_sha256: str

    def __repr__(self) -> str:
        # Explicit (not only `repr=False`): this repr is part of the security contract.
        return f"DeployKeypair(type={KEY_TYPE!r}, fingerprint_sha256={self.fingerprint_sha256!r})"

    __str__ = __repr__


def generate_deploy_keypair(comment: str = "") -> DeployKeypair:
    """Generate an ECDSA P-256 keypair in OpenSSH formats.

    `comment` (e.g. the deploy key title) is appended to the public key line; it does not change
    the fingerprint, which is OpenSSH's `SHA256:<unpadded base64>` of the public key blob, the
    format GitLab reports as `fingerprint_sha256`.
    """
    private_key = ec.generate_private_key(ec.SECP256R1())
    private_openssh = private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.OpenSSH,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode("ascii")
    public_openssh = (
        private_key.public_key()
        .public_bytes(
            encoding=serialization.Encoding.OpenSSH,
            format=serialization.PublicFormat.OpenSSH,
        )
        .decode("ascii")
    )
    if comment:
        public_openssh = f"{public_openssh} {' '.join(comment.split())}"
    return DeployKeypair(
        private_openssh=private_openssh,
        public_openssh=public_openssh,
        fingerprint_sha256=fingerprint_sha256(public_openssh),
    )


def fingerprint_sha256(public_openssh: str) -> str:
    """Return `SHA256:<base64>` of an OpenSSH public key line (as `ssh-keygen -l` and GitLab).

    Raises ValueError when the line is not `<type> <base64 blob> [comment]`.
    """
    parts = public_openssh.split()
    if len(parts) < 2:
        raise ValueError("not an OpenSSH public key line")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except binascii.Error as exc:
        raise ValueError("not an OpenSSH public key line") from exc
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii")
    return f"SHA256:{digest.rstrip('=')}"


def private_key_fingerprint(private_key: str) -> str | None:
    """Return the `SHA256:` fingerprint of the public half of a stored private key.

    Reads the OpenSSH format (ours, and upstream's: it runs `ssh-keygen -t ecdsa`) and PEM
    (`EC PRIVATE KEY`, `PRIVATE KEY`, from other tools). None when the text is not an
    unencrypted private key; the parser's error is dropped on purpose, since it could quote the
    key material.
    """
    data = private_key.encode("utf-8")
    try:
        key: Any = (
            serialization.load_ssh_private_key(data, password=None)
            if b"OPENSSH PRIVATE KEY" in data
            else serialization.load_pem_private_key(data, password=None)
        )
        # Some key types (DH) have no OpenSSH form: AttributeError/ValueError below.
        public = key.public_key().public_bytes(
            encoding=serialization.Encoding.OpenSSH,
            format=serialization.PublicFormat.OpenSSH,
        )
    except (ValueError, TypeError, AttributeError, UnsupportedAlgorithm):
        return None
    return fingerprint_sha256(public.decode("ascii"))


def public_key_material(public_openssh: str) -> str:
    """`<type> <base64>` of an OpenSSH public key line: the comment does not identify a key."""
    return " ".join(public_openssh.split()[:2])


__all__ = [
    "KEY_TYPE",
    "DeployKeypair",
    "fingerprint_sha256",
    "generate_deploy_keypair",
    "private_key_fingerprint",
    "public_key_material",
]
