"""What can go wrong with the secret store: `SecretStoreError` and its kinds."""

from __future__ import annotations

from nautes_portal.errors import IntegrationError

SYSTEM = "Vault"


class SecretStoreError(IntegrationError):
    """Vault failed or refused; the message is user-safe and says what to do."""

    status = 502
    reason = "SECRET_STORE_ERROR"
    default_retryable = True

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(
            SYSTEM,
            message,
            retryable=self.default_retryable if retryable is None else retryable,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class SecretStoreUnavailable(SecretStoreError):
    """Vault cannot be reached (down, wrong address, network): try again later."""

    status = 503
    reason = "SECRET_STORE_UNAVAILABLE"
    default_retryable = True


class SecretStoreSealed(SecretStoreUnavailable):
    """Vault answers but is sealed (or not initialized): someone must unseal it."""

    reason = "SECRET_STORE_SEALED"


class SecretStoreForbidden(SecretStoreError):
    """Vault rejected the portal's credentials or its policy forbids the operation."""

    status = 502
    reason = "SECRET_STORE_FORBIDDEN"
    default_retryable = False


class SecretStoreConflict(SecretStoreError):
    """Something at that place in Vault is not the portal's to change (another auth method, an
    operator's role): the portal leaves it as it is."""

    status = 409
    reason = "SECRET_STORE_CONFLICT"
    default_retryable = False
