"""Shared pieces of the REST API, used by every app's `api/` package: authentication, the error
body and its OpenAPI shape, common replies and query parameters, and the audit endpoint."""
