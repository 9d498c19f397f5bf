"""Response shape of the upstream-compatible cluster endpoints, for the OpenAPI document (and
the schemathesis conformance check). The views build plain dicts; this only describes them."""

from __future__ import annotations

from rest_framework import serializers


class _Component(serializers.Serializer):
    name = serializers.CharField()
    namespace = serializers.CharField()
    additions = serializers.DictField(child=serializers.CharField())


class ClusterReply(serializers.Serializer):
    name = serializers.CharField()
    cluster_kind = serializers.CharField()
    cluster_type = serializers.CharField()
    usage = serializers.CharField()
    host_cluster = serializers.CharField(allow_blank=True)
    primary_domain = serializers.CharField(allow_blank=True)
    worker_type = serializers.CharField(allow_blank=True)
    api_server = serializers.CharField()
    components_list = serializers.DictField(child=_Component(allow_null=True))
    reserved_namespaces_allowed_products = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField())
    )
    product_allowed_cluster_resources = serializers.DictField(
        child=serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
    )
