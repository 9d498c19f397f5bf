"""Response shapes of the upstream-compatible endpoints, for the OpenAPI document (and the
schemathesis conformance check). The views build plain dicts; these only describe them."""

from __future__ import annotations

from rest_framework import serializers


class _GitlabProduct(serializers.Serializer):
    path = serializers.CharField()
    visibility = serializers.CharField()
    description = serializers.CharField(allow_blank=True)


class _GitProduct(serializers.Serializer):
    gitlab = _GitlabProduct()


class ProductReply(serializers.Serializer):
    name = serializers.CharField()
    git = _GitProduct()


class EnvironmentReply(serializers.Serializer):
    product = serializers.CharField()
    name = serializers.CharField()
    cluster = serializers.CharField(allow_blank=True)
    env_type = serializers.CharField(allow_blank=True)


class ProjectReply(serializers.Serializer):
    product = serializers.CharField()
    name = serializers.CharField()
    language = serializers.CharField(allow_blank=True)


class _Webhook(serializers.Serializer):
    events = serializers.ListField(child=serializers.CharField())


class _GitlabRepo(serializers.Serializer):
    name = serializers.CharField(allow_blank=True)
    path = serializers.CharField()
    visibility = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    ssh_url_to_repo = serializers.CharField(allow_blank=True)
    http_url_to_repo = serializers.CharField(allow_blank=True)


class _GitRepo(serializers.Serializer):
    gitlab = _GitlabRepo()


class CodeRepoReply(serializers.Serializer):
    product = serializers.CharField()
    name = serializers.CharField()
    project = serializers.CharField(allow_blank=True)
    webhook = _Webhook(allow_null=True)
    deployment_runtime = serializers.BooleanField()
    pipeline_runtime = serializers.BooleanField()
    git = _GitRepo()


class CodeRepoBindingReply(serializers.Serializer):
    product = serializers.CharField()
    name = serializers.CharField()
    projects = serializers.ListField(child=serializers.CharField())
    permissions = serializers.CharField(allow_blank=True)
    coderepo = serializers.CharField(allow_blank=True)


class _ManifestSource(serializers.Serializer):
    code_repo = serializers.CharField(allow_blank=True)
    target_revision = serializers.CharField(allow_blank=True)
    path = serializers.CharField(allow_blank=True)


class _DrDestination(serializers.Serializer):
    environment = serializers.CharField(allow_blank=True)
    namespaces = serializers.ListField(child=serializers.CharField())


class DeploymentRuntimeReply(serializers.Serializer):
    product = serializers.CharField()
    name = serializers.CharField()
    projects_ref = serializers.ListField(child=serializers.CharField())
    manifest_source = _ManifestSource()
    destination = _DrDestination()
    account = serializers.CharField(allow_blank=True)


class _PprDestination(serializers.Serializer):
    environment = serializers.CharField(allow_blank=True)
    namespace = serializers.CharField(allow_blank=True)


class ProjectPipelineRuntimeReply(serializers.Serializer):
    product = serializers.CharField()
    name = serializers.CharField()
    project = serializers.CharField(allow_blank=True)
    pipeline_source = serializers.CharField(allow_blank=True)
    pipelines = serializers.ListField(child=serializers.DictField())
    event_sources = serializers.ListField(child=serializers.DictField())
    pipeline_triggers = serializers.ListField(child=serializers.DictField())
    destination = _PprDestination()
    isolation = serializers.CharField(allow_blank=True)
    additional_resources = serializers.DictField(allow_null=True)
    account = serializers.CharField(allow_blank=True)
    hooks = serializers.DictField()
