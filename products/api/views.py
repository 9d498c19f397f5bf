"""`/api/v1/products/...`: upstream-compatible product and product-resource endpoints.

Each view parses, authorizes (nautes_portal.permissions), calls a service and renders a reply.
Reads come from the index only; they never touch Git.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from nautes_portal import permissions
from nautes_portal.api.query import Selector, apply_field_selector, insecure_skip_check
from nautes_portal.api.replies import (
    ERRORS,
    FIELD_SELECTOR,
    SKIP_CHECK,
    MessageReply,
    items_of,
    message_reply,
)
from nautes_portal.errors import NotFound, PermissionDenied, RuleViolation
from nautes_portal.integrations import git_host
from products import services
from products.api import codecs, replies
from products.api import serializers as bodies
from products.models import (
    CodeRepo,
    CodeRepoBinding,
    DeploymentRuntime,
    Environment,
    Product,
    ProductResource,
    Project,
    ProjectPipelineRuntime,
)


def visible_product(request: Request, name: str) -> Product:
    """The product, or 404 when it does not exist or the caller may not read it."""
    product = permissions.visible_product(request.user, name)
    if product is None:
        raise NotFound(f"the product {name} is not found", reason="GROUP_NOT_FOUND")
    return product


def product_reply(product: Product) -> dict[str, Any]:
    return _product_reply(
        product.name, product.display_name, product.visibility, product.description
    )


def _product_reply(
    name: str, display_name: str, visibility: str, description: str
) -> dict[str, Any]:
    return {
        "name": display_name or name,
        "git": {"gitlab": {"path": name, "visibility": visibility, "description": description}},
    }


PRODUCT_SELECTORS = {"product_name": Selector(lambda r: r["git"]["gitlab"]["path"], exact=True)}


class ProductListView(APIView):
    @extend_schema(
        operation_id="Product_ListProducts",
        parameters=[FIELD_SELECTOR],
        responses={200: items_of(replies.ProductReply), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        columns = ("name", "display_name", "visibility", "description")
        rows = permissions.products_visible_to(request.user).values_list(*columns)
        items = [_product_reply(*row) for row in rows]
        selector = request.query_params.get("field_selector")
        return Response({"items": apply_field_selector(items, selector, PRODUCT_SELECTORS)})


class ProductDetailView(APIView):
    @extend_schema(
        operation_id="Product_GetProduct", responses={200: replies.ProductReply, **ERRORS}
    )
    def get(self, request: Request, product_name: str) -> Response:
        return Response(product_reply(visible_product(request, product_name)))

    @extend_schema(
        operation_id="Product_SaveProduct",
        request=bodies.ProductBodySerializer,
        responses={200: MessageReply, **ERRORS},
    )
    def post(self, request: Request, product_name: str) -> Response:
        body = bodies.ProductBodySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        gitlab = body.validated_data["git"]["gitlab"]
        existing = Product.objects.filter(name=product_name).first()
        if existing is not None:
            product = visible_product(request, product_name)
            if not permissions.can_update_product(request.user, product):
                raise PermissionDenied("updating a product needs the Maintainer role in its group")
        elif not permissions.can_create_product(request.user):
            raise PermissionDenied("you may not create products")
        services.product_save(
            name=product_name,
            display_name=gitlab.get("name") or product_name,
            path=gitlab.get("path", ""),
            visibility=gitlab["visibility"],
            description=gitlab.get("description", ""),
            actor=request.user,
        )
        return Response({"message": "Successfully saved"})

    @extend_schema(operation_id="Product_DeleteProduct", responses={200: MessageReply, **ERRORS})
    def delete(self, request: Request, product_name: str) -> Response:
        product = visible_product(request, product_name)
        if not permissions.can_delete_product(request.user, product):
            raise PermissionDenied("deleting a product needs the Owner role in its group")
        services.product_delete(product=product, actor=request.user, host=git_host())
        return Response({"message": "Successfully deleted"})


# ---- Product resources ---------------------------------------------------------------


@dataclass(frozen=True)
class KindApi:
    """How one resource kind is exposed: body, conversions, selectors, who may write."""

    kind: str
    model: type[ProductResource]
    body: type[serializers.Serializer]
    to_spec: Callable[[dict[str, Any], codecs.RepoNames], dict[str, Any]]
    to_reply: Callable[[str, ProductResource, codecs.RepoNames], dict[str, Any]]
    selectors: dict[str, Selector]
    may_write: Callable[[Any, Product], bool]
    operation: str  # upstream operation id stem, e.g. "Environment_%sEnvironment"
    reply: type[serializers.Serializer] = serializers.Serializer


def _spec_reply(
    fn: Callable[..., dict[str, Any]],
) -> Callable[[str, ProductResource, codecs.RepoNames], dict[str, Any]]:
    return lambda product, row, repos: fn(product, row.name, row.spec, repos)


KIND_APIS: dict[str, KindApi] = {
    "environments": KindApi(
        kind="Environment",
        model=Environment,
        body=bodies.EnvironmentBodySerializer,
        to_spec=lambda body, repos: codecs.environment_spec(body),
        to_reply=lambda product, row, repos: {
            "product": product,
            "name": row.name,
            "cluster": cast(Environment, row).cluster,
            "env_type": cast(Environment, row).env_type,
        },
        selectors={
            "cluster": Selector(lambda r: r["cluster"], exact=False),
            "env_type": Selector(lambda r: r["env_type"], exact=False),
        },
        may_write=permissions.can_change_resources,
        operation="Environment_%sEnvironment",
        reply=replies.EnvironmentReply,
    ),
    "projects": KindApi(
        kind="Project",
        model=Project,
        body=bodies.ProjectBodySerializer,
        to_spec=lambda body, repos: codecs.project_spec(body),
        to_reply=lambda product, row, repos: {
            "product": product,
            "name": row.name,
            "language": cast(Project, row).language,
        },
        selectors={"project_name": Selector(lambda r: r["name"], exact=False)},
        may_write=permissions.can_change_resources,
        operation="Project_%sProject",
        reply=replies.ProjectReply,
    ),
    "coderepos": KindApi(
        kind="CodeRepo",
        model=CodeRepo,
        body=bodies.CodeRepoBodySerializer,
        to_spec=lambda body, repos: codecs.coderepo_spec(body),
        to_reply=lambda product, row, repos: codecs.coderepo_reply(product, row),
        selectors={
            "project": Selector(lambda r: r["project"], exact=False),
            "pipeline_runtime": Selector(lambda r: r["pipeline_runtime"], exact=True),
            "deployment_runtime": Selector(lambda r: r["deployment_runtime"], exact=True),
        },
        may_write=permissions.can_manage_repositories,
        operation="CodeRepo_%sCodeRepo",
        reply=replies.CodeRepoReply,
    ),
    "coderepobindings": KindApi(
        kind="CodeRepoBinding",
        model=CodeRepoBinding,
        body=bodies.CodeRepoBindingBodySerializer,
        to_spec=codecs.binding_spec,
        to_reply=codecs.binding_row_reply,
        selectors={
            "coderepo": Selector(lambda r: r["coderepo"], exact=False),
            "product": Selector(lambda r: r["product"], exact=False),
            "projects.in": Selector(lambda r: r["projects"], exact=False),
        },
        may_write=permissions.can_manage_repositories,
        operation="CodeRepoBinding_%sCodeRepoBinding",
        reply=replies.CodeRepoBindingReply,
    ),
    "deploymentruntimes": KindApi(
        kind="DeploymentRuntime",
        model=DeploymentRuntime,
        body=bodies.DeploymentRuntimeBodySerializer,
        to_spec=codecs.deployment_runtime_spec,
        to_reply=codecs.deployment_runtime_row_reply,
        selectors={
            "projects_ref.in": Selector(lambda r: r["projects_ref"], exact=False),
            "manifest_source.code_repo": Selector(
                lambda r: r["manifest_source"]["code_repo"], exact=False
            ),
            "destination": Selector(lambda r: r["destination"]["environment"], exact=False),
        },
        may_write=permissions.can_change_resources,
        operation="Deploymentruntime_%sDeploymentRuntime",
        reply=replies.DeploymentRuntimeReply,
    ),
    "projectpipelineruntimes": KindApi(
        kind="ProjectPipelineRuntime",
        model=ProjectPipelineRuntime,
        body=bodies.ProjectPipelineRuntimeBodySerializer,
        to_spec=codecs.pipeline_runtime_spec,
        to_reply=_spec_reply(codecs.pipeline_runtime_reply),
        selectors={
            "project_name": Selector(lambda r: r["name"], exact=False),
            "pipeline_triggers.pipeline": Selector(
                lambda r: [t["pipeline"] for t in r["pipeline_triggers"]], exact=False
            ),
            "destination": Selector(lambda r: r["destination"]["environment"], exact=False),
            "pipeline_source": Selector(lambda r: r["pipeline_source"], exact=False),
            "project": Selector(lambda r: r["project"], exact=False),
        },
        may_write=permissions.can_change_resources,
        operation="ProjectPipelineRuntime_%sProjectPipelineRuntime",
        reply=replies.ProjectPipelineRuntimeReply,
    ),
}


def repo_names(product: Product) -> codecs.RepoNames:
    return codecs.RepoNames(
        dict(CodeRepo.objects.filter(product=product).values_list("repo_name", "name"))
    )


class ResourceListView(APIView):
    """GET `/products/{p}/<kind>`: one query for the rows, whatever their number."""

    api: ClassVar[KindApi]

    def get(self, request: Request, product_name: str) -> Response:
        product = visible_product(request, product_name)
        repos = repo_names(product)
        rows = self.api.model.objects.filter(product=product).order_by("name")
        if self.api.kind != "ProjectPipelineRuntime":
            rows = rows.defer("manifest", "problems")  # replies come from the columns
        items = [self.api.to_reply(product.name, row, repos) for row in rows]
        selector = request.query_params.get("field_selector")
        return Response({"items": apply_field_selector(items, selector, self.api.selectors)})


class ResourceDetailView(APIView):
    """GET/POST/DELETE `/products/{p}/<kind>/{name}`."""

    api: ClassVar[KindApi]

    def _row(self, product: Product, name: str) -> ProductResource:
        lookup = {"repo_name": name} if self.api.model is CodeRepo else {"name": name}
        row = self.api.model.objects.filter(product=product, **lookup).first()
        if row is None:
            raise NotFound("the resource is not found")
        return row

    def get(self, request: Request, product_name: str, name: str) -> Response:
        product = visible_product(request, product_name)
        row = self._row(product, name)
        return Response(self.api.to_reply(product.name, row, repo_names(product)))

    def _writable_product(self, request: Request, product_name: str) -> Product:
        product = visible_product(request, product_name)
        if not self.api.may_write(request.user, product):
            raise PermissionDenied(
                f"you may not change {self.api.kind} resources of product {product.name}"
            )
        return product

    def post(self, request: Request, product_name: str, name: str) -> Response:
        product = self._writable_product(request, product_name)
        body = self.api.body(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        spec = self.api.to_spec(data, repo_names(product))
        skip = insecure_skip_check(request)
        if self.api.model is CodeRepo:
            gitlab = data["git"]["gitlab"]
            path = gitlab.get("path") or gitlab.get("name") or name
            if path != name:
                raise RuleViolation(
                    "the name of the codeRepo resource must be the same as the repository path"
                )
            outcome = services.coderepo_save(
                product=product,
                repo_name=name,
                spec=spec,
                git=gitlab,
                actor=request.user,
                host=git_host(),
                skip_check=skip,
            )
        else:
            outcome = services.resource_save(
                product=product,
                kind=self.api.kind,
                name=name,
                spec=spec,
                actor=request.user,
                host=git_host(),
                skip_check=skip,
            )
        return message_reply(f"Successfully saved {name} configuration", outcome)

    def delete(self, request: Request, product_name: str, name: str) -> Response:
        product = self._writable_product(request, product_name)
        skip = insecure_skip_check(request)
        if self.api.model is CodeRepo:
            outcome = services.coderepo_delete(
                product=product,
                repo_name=name,
                actor=request.user,
                host=git_host(),
                skip_check=skip,
            )
        else:
            outcome = services.resource_delete(
                product=product,
                kind=self.api.kind,
                name=name,
                actor=request.user,
                host=git_host(),
                skip_check=skip,
            )
        return message_reply(f"Successfully deleted {name} configuration", outcome)


def views_for(collection: str) -> tuple[type[APIView], type[APIView]]:
    """Build the list and detail views of one collection with their own OpenAPI operations."""
    api = KIND_APIS[collection]
    stem = api.operation

    # Fresh functions per collection: decorating the shared base methods would let the last
    # collection's schema win for all of them.
    def list_get(self: ResourceListView, request: Request, product_name: str) -> Response:
        return ResourceListView.get(self, request, product_name)

    def get(self: ResourceDetailView, request: Request, product_name: str, name: str) -> Response:
        return ResourceDetailView.get(self, request, product_name, name)

    def post(self: ResourceDetailView, request: Request, product_name: str, name: str) -> Response:
        return ResourceDetailView.post(self, request, product_name, name)

    def delete(
        self: ResourceDetailView, request: Request, product_name: str, name: str
    ) -> Response:
        return ResourceDetailView.delete(self, request, product_name, name)

    list_view = type(
        f"{api.kind}ListView",
        (ResourceListView,),
        {
            "api": api,
            "get": extend_schema(
                operation_id=stem % "List" + "s",
                parameters=[FIELD_SELECTOR],
                responses={200: items_of(api.reply), **ERRORS},
            )(list_get),
        },
    )
    detail = type(
        f"{api.kind}DetailView",
        (ResourceDetailView,),
        {
            "api": api,
            "get": extend_schema(operation_id=stem % "Get", responses={200: api.reply, **ERRORS})(
                get
            ),
            "post": extend_schema(
                operation_id=stem % "Save",
                request=api.body,
                parameters=[SKIP_CHECK],
                responses={200: MessageReply, **ERRORS},
            )(post),
            "delete": extend_schema(
                operation_id=stem % "Delete",
                parameters=[SKIP_CHECK],
                responses={200: MessageReply, **ERRORS},
            )(delete),
        },
    )
    return list_view, detail
