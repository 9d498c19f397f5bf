"""The UI registry of resource kinds: URL segment, titles, form and list columns of each."""

from __future__ import annotations

from dataclasses import dataclass

from products.api.views import KIND_APIS, KindApi
from products.forms.resources import (
    BindingForm,
    CodeRepoForm,
    DeploymentRuntimeForm,
    EnvironmentForm,
    PipelineRuntimeForm,
    ProjectForm,
    ResourceForm,
)

# ---- The UI registry of resource kinds ------------------------------------------------------


@dataclass(frozen=True)
class KindUi:
    """How one resource kind appears in the browser (its API twin holds model and rules)."""

    collection: str  # the URL segment, the same as the API's
    title: str
    singular: str
    form: type[ResourceForm]
    columns: tuple[tuple[str, str], ...]  # (header, model attribute)
    lookup: str = "name"  # the URL identifies code repositories by repository name
    blurb: str = ""

    @property
    def api(self) -> KindApi:
        return KIND_APIS[self.collection]

    @property
    def a_singular(self) -> str:
        """ "an environment", "a project"."""
        return ("an " if self.singular[0] in "aeiou" else "a ") + self.singular

    @property
    def kind(self) -> str:
        return self.api.kind


KIND_UIS: dict[str, KindUi] = {
    ui.collection: ui
    for ui in (
        KindUi(
            "environments",
            "Environments",
            "environment",
            EnvironmentForm,
            (("Cluster", "cluster"), ("Type", "env_type")),
            blurb="An environment binds the product to a runtime cluster (dev, test, prod…).",
        ),
        KindUi(
            "projects",
            "Projects",
            "project",
            ProjectForm,
            (("Language", "language"),),
            blurb="A project is one microservice of the product.",
        ),
        KindUi(
            "coderepos",
            "Code repositories",
            "code repository",
            CodeRepoForm,
            (("Id", "name"), ("Project", "project"), ("Visibility", "git_visibility")),
            lookup="repo_name",
            blurb="Git repositories of the product: application code, manifests, pipelines.",
        ),
        KindUi(
            "coderepobindings",
            "Repository bindings",
            "repository binding",
            BindingForm,
            (("Repository", "code_repo"), ("Projects", "projects"), ("Permissions", "permissions")),
            blurb="A binding lets projects use a repository they do not own.",
        ),
        KindUi(
            "deploymentruntimes",
            "Deployment runtimes",
            "deployment runtime",
            DeploymentRuntimeForm,
            (
                ("Environment", "destination_environment"),
                ("Repository", "manifest_code_repo"),
                ("Path", "manifest_path"),
                ("Revision", "manifest_target_revision"),
            ),
            blurb="A deployment runtime deploys manifests from a repository to an environment.",
        ),
        KindUi(
            "projectpipelineruntimes",
            "Pipeline runtimes",
            "pipeline runtime",
            PipelineRuntimeForm,
            (("Project", "project"), ("Environment", "destination_environment")),
            blurb="A pipeline runtime runs a project's pipelines on events.",
        ),
    )
}
KIND_UI_BY_KIND: dict[str, KindUi] = {ui.kind: ui for ui in KIND_UIS.values()}
