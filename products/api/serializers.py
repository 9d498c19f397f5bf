"""Request bodies of the product-level `/api/v1` endpoints (upstream v0.4.2 JSON names).

They parse types only; the Nautes rules live in `products/rules.py`. Unknown fields are ignored,
as upstream's Kratos binding does.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class GitlabSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, default="")
    path = serializers.CharField(required=False, allow_blank=True, default="")
    visibility = serializers.CharField(required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")


class GitSerializer(serializers.Serializer):
    gitlab = GitlabSerializer(required=False, allow_null=True)
    github = GitlabSerializer(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("github") and not attrs.get("gitlab"):
            raise serializers.ValidationError("coming soon to support github")
        if not attrs.get("gitlab"):
            raise serializers.ValidationError({"gitlab": "value is required"})
        visibility = attrs["gitlab"].get("visibility", "")
        if visibility not in ("public", "private"):
            raise serializers.ValidationError(
                {
                    "gitlab": {
                        "visibility": f"value must be in list [public private], not '{visibility}'"
                    }
                }
            )
        return attrs


class ProductBodySerializer(serializers.Serializer):
    git = GitSerializer()


class EnvironmentBodySerializer(serializers.Serializer):
    cluster = serializers.CharField(allow_blank=False)
    env_type = serializers.CharField(allow_blank=False)


class ProjectBodySerializer(serializers.Serializer):
    language = serializers.CharField(required=False, allow_blank=True, default="")


class WebhookSerializer(serializers.Serializer):
    events = serializers.ListField(child=serializers.CharField(), allow_empty=True)


class CodeRepoBodySerializer(serializers.Serializer):
    project = serializers.CharField(required=False, allow_blank=True, default="")
    webhook = WebhookSerializer(required=False, allow_null=True, default=None)
    deployment_runtime = serializers.BooleanField(required=False, default=False)
    pipeline_runtime = serializers.BooleanField(required=False, default=False)
    git = GitSerializer()


class CodeRepoBindingBodySerializer(serializers.Serializer):
    product = serializers.CharField(required=False, allow_blank=True, default="")
    projects = serializers.ListField(
        child=serializers.CharField(), required=False, allow_null=True, default=list
    )
    permissions = serializers.ChoiceField(choices=["readonly", "readwrite"])
    coderepo = serializers.CharField(allow_blank=False)


@extend_schema_field(OpenApiTypes.OBJECT)
class StringOrObjectField(serializers.Field):
    """A destination: the v0.4.2 object, or the v0.3 string (the environment name)."""

    def __init__(self, keys: tuple[str, ...], **kwargs: Any) -> None:
        self.keys = keys
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, str):
            return {"environment": data}
        if not isinstance(data, dict):
            raise serializers.ValidationError("must be an object or an environment name")
        return {key: data[key] for key in self.keys if key in data}

    def to_representation(self, value: Any) -> Any:
        return value


class ManifestSourceSerializer(serializers.Serializer):
    code_repo = serializers.CharField(allow_blank=False)
    target_revision = serializers.CharField(allow_blank=False)
    path = serializers.CharField(allow_blank=False)


class DeploymentRuntimeBodySerializer(serializers.Serializer):
    projects_ref = serializers.ListField(
        child=serializers.CharField(), required=False, allow_null=True, default=list
    )
    manifest_source = ManifestSourceSerializer()
    destination = StringOrObjectField(keys=("environment", "namespaces"), required=False)
    account = serializers.CharField(required=False, allow_blank=True, default="")


class PipelineSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True)
    label = serializers.CharField(required=False, allow_blank=True, default="")
    path = serializers.CharField(allow_blank=True)


class GitlabEventSourceSerializer(serializers.Serializer):
    repo_name = serializers.CharField(allow_blank=True)
    revision = serializers.CharField(required=False, allow_blank=True, default="")
    events = serializers.ListField(child=serializers.CharField(), required=False, default=list)


class CalendarSerializer(serializers.Serializer):
    schedule = serializers.CharField(required=False, allow_blank=True, default="")
    interval = serializers.CharField(required=False, allow_blank=True, default="")
    exclusion_dates = serializers.ListField(
        child=serializers.CharField(), required=False, allow_null=True, default=list
    )
    timezone = serializers.CharField(required=False, allow_blank=True, default="")


class EventSourceSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True)
    gitlab = GitlabEventSourceSerializer(required=False, allow_null=True, default=None)
    calendar = CalendarSerializer(required=False, allow_null=True, default=None)


class InputSourceSerializer(serializers.Serializer):
    built_in_var = serializers.CharField(required=False, allow_blank=True, default="")
    from_event = serializers.CharField(required=False, allow_blank=True, default="")


class KustomizationSerializer(serializers.Serializer):
    path = serializers.CharField(allow_blank=True)


class TransmissionSerializer(serializers.Serializer):
    kustomization = KustomizationSerializer(required=False, allow_null=True, default=None)


class InputSerializer(serializers.Serializer):
    source = InputSourceSerializer(required=False, allow_null=True, default=None)
    transmission_method = TransmissionSerializer(required=False, allow_null=True, default=None)


class TriggerSerializer(serializers.Serializer):
    event_source = serializers.CharField(allow_blank=True)
    pipeline = serializers.CharField(allow_blank=True)
    revision = serializers.CharField(required=False, allow_blank=True, default="")
    inputs = InputSerializer(many=True, required=False, allow_null=True, default=list)


class AdditionalGitSerializer(serializers.Serializer):
    coderepo = serializers.CharField(required=False, allow_blank=True, default="")
    url = serializers.CharField(required=False, allow_blank=True, default="")
    revision = serializers.CharField(required=False, allow_blank=True, default="")
    path = serializers.CharField(required=False, allow_blank=True, default="")


class AdditionalResourcesSerializer(serializers.Serializer):
    git = AdditionalGitSerializer(required=False, allow_null=True, default=None)


class HookSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True)
    alias = serializers.CharField(required=False, allow_blank=True, default="")
    vars = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)


class HooksSerializer(serializers.Serializer):
    pre_hooks = HookSerializer(many=True, required=False, allow_null=True, default=list)
    post_hooks = HookSerializer(many=True, required=False, allow_null=True, default=list)


class ProjectPipelineRuntimeBodySerializer(serializers.Serializer):
    project = serializers.CharField(allow_blank=False)
    pipeline_source = serializers.CharField(allow_blank=False)
    pipelines = PipelineSerializer(many=True, allow_empty=False)
    event_sources = EventSourceSerializer(many=True, allow_empty=False)
    pipeline_triggers = TriggerSerializer(many=True, allow_empty=False)
    destination = StringOrObjectField(keys=("environment", "namespace"), required=False)
    isolation = serializers.ChoiceField(choices=["shared", "exclusive"])
    additional_resources = AdditionalResourcesSerializer(required=False, allow_null=True)
    account = serializers.CharField(required=False, allow_blank=True, default="")
    hooks = HooksSerializer(required=False, allow_null=True)
