"""Request bodies of the product-level `/api/v1` endpoints (upstream v0.4.2 JSON names).

They parse types only; the Nautes rules live in `products/rules.py`. Unknown fields are ignored,
as upstream's Kratos binding does.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from nautes_portal.limits import (
    DESCRIPTION_MAX,
    GIT_NAME_MAX,
    ITEMS_MAX,
    LABEL_MAX,
    NAME_MAX,
    PATH_MAX,
    TEXT_MAX,
    URL_MAX,
)

# Every string and list of a body has a length cap (#12): names as Kubernetes and GitLab allow
# them (the rules check their shape), free text as the portal's forms and GitLab allow it.
# A value over its cap answers 400 naming the field and the limit.


def _text(limit: int, **kwargs: Any) -> serializers.CharField:
    """A required string of at most `limit` characters."""
    return serializers.CharField(max_length=limit, **kwargs)


def _optional(limit: int) -> serializers.CharField:
    """An optional string (default "") of at most `limit` characters."""
    return serializers.CharField(required=False, allow_blank=True, default="", max_length=limit)


def _many(child: type[serializers.Serializer], **kwargs: Any) -> Any:
    """A list of at most `ITEMS_MAX` `child` objects (DRF's `many=True`, whose list keywords
    the stubs do not know)."""
    make: Any = child
    return make(many=True, max_length=ITEMS_MAX, **kwargs)


def _strings(limit: int, **kwargs: Any) -> serializers.ListField:
    """A list of at most `ITEMS_MAX` strings of at most `limit` characters each."""
    return serializers.ListField(
        child=serializers.CharField(max_length=limit), max_length=ITEMS_MAX, **kwargs
    )


class GitlabSerializer(serializers.Serializer):
    name = _optional(GIT_NAME_MAX)
    path = _optional(GIT_NAME_MAX)
    visibility = _optional(TEXT_MAX)
    description = _optional(DESCRIPTION_MAX)


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
    cluster = _text(LABEL_MAX, allow_blank=False)  # cluster names are labels
    env_type = _text(TEXT_MAX, allow_blank=False)


class ProjectBodySerializer(serializers.Serializer):
    language = _optional(TEXT_MAX)


class WebhookSerializer(serializers.Serializer):
    events = _strings(TEXT_MAX, allow_empty=True)


class CodeRepoBodySerializer(serializers.Serializer):
    project = _optional(NAME_MAX)
    webhook = WebhookSerializer(required=False, allow_null=True, default=None)
    deployment_runtime = serializers.BooleanField(required=False, default=False)
    pipeline_runtime = serializers.BooleanField(required=False, default=False)
    git = GitSerializer()


class CodeRepoBindingBodySerializer(serializers.Serializer):
    product = _optional(LABEL_MAX)
    projects = _strings(NAME_MAX, required=False, allow_null=True, default=list)
    permissions = serializers.ChoiceField(choices=["readonly", "readwrite"])
    coderepo = _text(GIT_NAME_MAX, allow_blank=False)


@extend_schema_field(OpenApiTypes.OBJECT)
class StringOrObjectField(serializers.Field):
    """A destination: the v0.4.2 object, or the v0.3 string (the environment name)."""

    def __init__(self, keys: tuple[str, ...], **kwargs: Any) -> None:
        self.keys = keys
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, str):
            data = {"environment": data}
        if not isinstance(data, dict):
            raise serializers.ValidationError("must be an object or an environment name")
        value = {key: data[key] for key in self.keys if key in data}
        for key, item in value.items():  # the rules check types and names; here only lengths
            names = item if isinstance(item, list) else [item]
            if len(names) > ITEMS_MAX:
                raise serializers.ValidationError({key: f"at most {ITEMS_MAX} entries"})
            if any(isinstance(name, str) and len(name) > NAME_MAX for name in names):
                raise serializers.ValidationError(
                    {key: f"Ensure this field has no more than {NAME_MAX} characters."}
                )
        return value

    def to_representation(self, value: Any) -> Any:
        return value


class ManifestSourceSerializer(serializers.Serializer):
    code_repo = _text(GIT_NAME_MAX, allow_blank=False)
    target_revision = _text(TEXT_MAX, allow_blank=False)
    path = _text(PATH_MAX, allow_blank=False)


class DeploymentRuntimeBodySerializer(serializers.Serializer):
    projects_ref = _strings(NAME_MAX, required=False, allow_null=True, default=list)
    manifest_source = ManifestSourceSerializer()
    destination = StringOrObjectField(keys=("environment", "namespaces"), required=False)
    account = _optional(NAME_MAX)


class PipelineSerializer(serializers.Serializer):
    name = _text(NAME_MAX, allow_blank=True)
    label = _optional(TEXT_MAX)  # type: ignore[assignment]  # a body field, not Field.label
    path = _text(PATH_MAX, allow_blank=True)


class GitlabEventSourceSerializer(serializers.Serializer):
    repo_name = _text(GIT_NAME_MAX, allow_blank=True)
    revision = _optional(TEXT_MAX)
    events = _strings(TEXT_MAX, required=False, default=list)


class CalendarSerializer(serializers.Serializer):
    schedule = _optional(TEXT_MAX)
    interval = _optional(TEXT_MAX)
    exclusion_dates = _strings(TEXT_MAX, required=False, allow_null=True, default=list)
    timezone = _optional(TEXT_MAX)


class EventSourceSerializer(serializers.Serializer):
    name = _text(NAME_MAX, allow_blank=True)
    gitlab = GitlabEventSourceSerializer(required=False, allow_null=True, default=None)
    calendar = CalendarSerializer(required=False, allow_null=True, default=None)


class InputSourceSerializer(serializers.Serializer):
    built_in_var = _optional(TEXT_MAX)
    from_event = _optional(TEXT_MAX)


class KustomizationSerializer(serializers.Serializer):
    path = _text(PATH_MAX, allow_blank=True)


class TransmissionSerializer(serializers.Serializer):
    kustomization = KustomizationSerializer(required=False, allow_null=True, default=None)


class InputSerializer(serializers.Serializer):
    source = InputSourceSerializer(  # type: ignore[assignment]  # a body field, not Field.source
        required=False, allow_null=True, default=None
    )
    transmission_method = TransmissionSerializer(required=False, allow_null=True, default=None)


class TriggerSerializer(serializers.Serializer):
    event_source = _text(NAME_MAX, allow_blank=True)
    pipeline = _text(NAME_MAX, allow_blank=True)
    revision = _optional(TEXT_MAX)
    inputs = _many(InputSerializer, required=False, allow_null=True, default=list)


class AdditionalGitSerializer(serializers.Serializer):
    coderepo = _optional(GIT_NAME_MAX)
    url = _optional(URL_MAX)
    revision = _optional(TEXT_MAX)
    path = _optional(PATH_MAX)


class AdditionalResourcesSerializer(serializers.Serializer):
    git = AdditionalGitSerializer(required=False, allow_null=True, default=None)


class HookSerializer(serializers.Serializer):
    name = _text(NAME_MAX, allow_blank=True)
    alias = _optional(NAME_MAX)
    vars = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=URL_MAX), required=False
    )

    def validate_vars(self, value: dict[str, str]) -> dict[str, str]:
        if len(value) > ITEMS_MAX or any(len(key) > NAME_MAX for key in value):
            raise serializers.ValidationError(
                f"at most {ITEMS_MAX} variables with names of at most {NAME_MAX} characters"
            )
        return value


class HooksSerializer(serializers.Serializer):
    pre_hooks = _many(HookSerializer, required=False, allow_null=True, default=list)
    post_hooks = _many(HookSerializer, required=False, allow_null=True, default=list)


class ProjectPipelineRuntimeBodySerializer(serializers.Serializer):
    project = _text(NAME_MAX, allow_blank=False)
    pipeline_source = _text(GIT_NAME_MAX, allow_blank=False)
    pipelines = _many(PipelineSerializer, allow_empty=False)
    event_sources = _many(EventSourceSerializer, allow_empty=False)
    pipeline_triggers = _many(TriggerSerializer, allow_empty=False)
    destination = StringOrObjectField(keys=("environment", "namespace"), required=False)
    isolation = serializers.ChoiceField(choices=["shared", "exclusive"])
    additional_resources = AdditionalResourcesSerializer(required=False, allow_null=True)
    account = _optional(NAME_MAX)
    hooks = HooksSerializer(required=False, allow_null=True)
