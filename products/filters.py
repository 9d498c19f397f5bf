"""Filters and search for the product and resource lists (django-filter FilterSets).

Every filter is a plain SQL condition on indexed columns; lists are paginated by the views, so a
page costs a count and one slice whatever the number of rows.
"""

from __future__ import annotations

from typing import Any, ClassVar

import django_filters  # type: ignore[import-untyped]  # its typeshed stubs need Django 6
from django import forms
from django.db.models import Q, QuerySet

from products.models import (
    CodeRepo,
    CodeRepoBinding,
    DeploymentRuntime,
    Environment,
    Membership,
    Product,
    Project,
    ProjectPipelineRuntime,
)


class SearchFilterSet(django_filters.FilterSet):
    """A FilterSet with a free-text `q` over `search_fields` (case-insensitive substring)."""

    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name contains…"}),
    )
    search_fields: ClassVar[tuple[str, ...]] = ("name",)

    def search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        condition = Q()
        for field_name in self.search_fields:
            condition |= Q(**{f"{field_name}__icontains": value.strip()})
        return queryset.filter(condition)

    @property
    def active(self) -> bool:
        """Whether any filter has a value (empty states then say "nothing matches")."""
        return any(
            value not in (None, "", [])
            for key, value in (self.form.cleaned_data if self.form.is_valid() else {}).items()
            if key != "page"
        )


def _text(label: str, **attrs: str) -> django_filters.CharFilter:
    return django_filters.CharFilter(label=label, widget=forms.TextInput(attrs=attrs))


class ProductFilter(SearchFilterSet):
    search_fields = ("name", "display_name", "description")
    visibility = django_filters.ChoiceFilter(
        choices=[("private", "Private"), ("public", "Public")], empty_label="Any visibility"
    )
    mine = django_filters.ChoiceFilter(
        label="Show",
        choices=[("1", "Products I belong to")],
        empty_label="Every product I can see",
        method="only_mine",
    )

    class Meta:
        model = Product
        fields = ["q", "visibility", "mine"]

    def only_mine(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        user = getattr(self.request, "user", None)
        if not value or user is None:
            return queryset
        return queryset.filter(pk__in=Membership.objects.filter(user=user).values("product_id"))


class EnvironmentFilter(SearchFilterSet):
    search_fields = ("name", "cluster", "env_type")
    cluster = _text("Cluster")
    env_type = _text("Type")

    class Meta:
        model = Environment
        fields = ["q", "cluster", "env_type"]


class ProjectFilter(SearchFilterSet):
    language = django_filters.CharFilter(lookup_expr="iexact", label="Language")

    class Meta:
        model = Project
        fields = ["q", "language"]


class CodeRepoFilter(SearchFilterSet):
    search_fields = ("name", "repo_name", "git_description")
    project = _text("Project")
    deployment_runtime = django_filters.BooleanFilter(
        label="Deployment manifests",
        widget=forms.Select(choices=[("", "Any"), ("true", "Yes"), ("false", "No")]),
    )
    pipeline_runtime = django_filters.BooleanFilter(
        label="Pipelines",
        widget=forms.Select(choices=[("", "Any"), ("true", "Yes"), ("false", "No")]),
    )

    class Meta:
        model = CodeRepo
        fields = ["q", "project", "deployment_runtime", "pipeline_runtime"]


class CodeRepoBindingFilter(SearchFilterSet):
    search_fields = ("name", "code_repo")
    permissions = django_filters.ChoiceFilter(
        choices=[("readonly", "Read only"), ("readwrite", "Read and write")],
        empty_label="Any permission",
    )

    class Meta:
        model = CodeRepoBinding
        fields = ["q", "permissions"]


class DeploymentRuntimeFilter(SearchFilterSet):
    search_fields = ("name", "manifest_path", "destination_environment")
    destination_environment = _text("Environment")
    manifest_code_repo = django_filters.CharFilter(
        label="Repository", method="by_repo_name", widget=forms.TextInput()
    )

    def by_repo_name(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        """Filter by repository name (the index stores `repo-<pid>` ids)."""
        ids = CodeRepo.objects.filter(repo_name=value.strip()).values("name")
        return queryset.filter(manifest_code_repo__in=ids)

    class Meta:
        model = DeploymentRuntime
        fields = ["q", "destination_environment", "manifest_code_repo"]


class ProjectPipelineRuntimeFilter(SearchFilterSet):
    search_fields = ("name", "project")
    project = _text("Project")
    destination_environment = _text("Environment")

    class Meta:
        model = ProjectPipelineRuntime
        fields = ["q", "project", "destination_environment"]


FILTERS: dict[str, type[SearchFilterSet]] = {
    "environments": EnvironmentFilter,
    "projects": ProjectFilter,
    "coderepos": CodeRepoFilter,
    "coderepobindings": CodeRepoBindingFilter,
    "deploymentruntimes": DeploymentRuntimeFilter,
    "projectpipelineruntimes": ProjectPipelineRuntimeFilter,
}
