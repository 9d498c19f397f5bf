"""The product setup wizard: one step per page, everything in the session until "Create"."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from nautes_portal import permissions
from nautes_portal.errors import NautesError
from nautes_portal.integrations import git_host
from nautes_portal.types import Actor
from nautes_portal.yaml_io import dump_yaml
from products import services
from products.forms.kinds import KIND_UIS, KindUi
from products.forms.product import ProductForm
from products.forms.wizard import LIST_STEPS, STEP_NAMES, WIZARD_STEPS, Draft, pending_initial
from products.manifests import build_document
from products.models import Product
from products.views.resources import save_body

WIZARD_RESULT_KEY = "product_wizard_result"


# ---- The product setup wizard ----------------------------------------------------------------


def _steps(draft: Draft, current: str) -> list[dict[str, Any]]:
    reached = True
    steps = []
    for step, title, collection in WIZARD_STEPS:
        steps.append(
            {
                "step": step,
                "title": title,
                "current": step == current,
                "reachable": reached and (step == "product" or draft.started),
                "count": len(draft.entries(step)) if collection else None,
            }
        )
    return steps


def _neighbour(step: str, offset: int) -> str:
    index = STEP_NAMES.index(step) + offset
    return STEP_NAMES[max(0, min(index, len(STEP_NAMES) - 1))]


def _wizard_context(draft: Draft, step: str, **extra: Any) -> dict[str, Any]:
    title = next(t for s, t, _ in WIZARD_STEPS if s == step)
    return {
        "draft": draft,
        "step": step,
        "title": title,
        "steps": _steps(draft, step),
        "position": STEP_NAMES.index(step) + 1,
        "total": len(STEP_NAMES),
        "previous": _neighbour(step, -1) if step != "product" else "",
        "next": _neighbour(step, 1) if step != "review" else "",
        **extra,
    }


def _posted(request: HttpRequest) -> dict[str, list[str]]:
    return {
        key: request.POST.getlist(key)
        for key in request.POST
        if key not in ("csrfmiddlewaretoken", "action")
    }


def _form_errors(form: Any) -> list[str]:
    result = []
    for field_name, errors in form.errors.items():
        label = form.fields[field_name].label or field_name if field_name in form.fields else ""
        for error in errors:
            result.append(f"{label}: {error}" if label else str(error))
    return result


@require_http_methods(["GET", "POST"])
@login_required
def wizard(request: HttpRequest, step: str) -> HttpResponse:
    """One step of `/products/new/`; everything stays in the session until "Create"."""
    if not permissions.can_create_product(request.user):
        raise PermissionDenied("You may not create products.")
    if step == "done":
        return _wizard_done(request)
    if step not in STEP_NAMES:
        raise Http404("No such step.")
    draft = Draft.load(request.session)
    if request.method == "POST" and request.POST.get("action") == "cancel":
        Draft.clear(request.session)
        messages.info(request, "The product setup was cancelled; nothing was created.")
        return redirect("home")
    if step != "product" and not draft.started:
        return redirect("product-new-step", step="product")
    if step == "product":
        return _wizard_product(request, draft)
    if step == "review":
        return _wizard_review(request, draft)
    return _wizard_list(request, draft, step)


def _wizard_product(request: HttpRequest, draft: Draft) -> HttpResponse:
    if request.method == "POST":
        form = ProductForm(request.POST)
        if form.is_valid():
            name = form.cleaned_data["name"]
            if Product.objects.filter(name=name).exists():
                form.add_error("name", f"A product named {name} already exists.")
            elif taken := _group_refusal(name, request.user):
                form.add_error("name", taken)
            else:
                draft.product = dict(form.cleaned_data)
                draft.save(request.session)
                return redirect("product-new-step", step=_neighbour("product", 1))
    else:
        form = ProductForm(initial=draft.product or None)
    return render(request, "products/wizard.html", _wizard_context(draft, "product", form=form))


def _group_refusal(name: str, user: Any) -> str:
    """Why the product's Git group cannot be used (the rule `product_save` applies), or ""."""
    from products.adoption import claim_product_group

    try:
        claim_product_group(name=name, actor=user, host=git_host())
    except NautesError as exc:
        return exc.message
    return ""


def _wizard_list(request: HttpRequest, draft: Draft, step: str) -> HttpResponse:
    ui = KIND_UIS[LIST_STEPS[step]]
    choices = draft.choices()
    problems: list[str] = []
    if request.method == "POST":
        action = request.POST.get("action", "next")
        verb, _, argument = action.partition(":")
        items = draft.entries(step)
        if verb in ("remove", "edit") and argument.isdigit() and int(argument) < len(items):
            item = items.pop(int(argument))
            if verb == "edit":
                draft.pending[step] = ui.form.initial_from(item["name"], item["body"])
                messages.info(request, f"Editing {item['name']}: change it, then add it again.")
            draft.save(request.session)
            return redirect("product-new-step", step=step)
        target = {"back": _neighbour(step, -1), "next": _neighbour(step, 1)}.get(verb, step)
        typed = request.POST.get("name", "").strip()
        if verb == "back" and typed:
            draft.pending[step] = pending_initial(ui.form, _posted(request))
            draft.save(request.session)
            return redirect("product-new-step", step=target)
        if verb == "add" or (typed and verb == "next"):
            form = ui.form(request.POST, choices=choices)
            if form.is_valid():
                body = form.body()
                problems = draft.check_item(step, form.cleaned_data["name"], body)
                if not problems:
                    draft.put(step, form.cleaned_data["name"], body)
                    draft.pending.pop(step, None)
                    draft.save(request.session)
                    messages.success(request, f"Added {ui.singular} {form.cleaned_data['name']}.")
                    return redirect("product-new-step", step=target)
            context = _wizard_context(draft, step, form=form, ui=ui, problems=problems)
            return render(request, "products/wizard.html", _with_items(context, ui, draft, step))
        draft.pending.pop(step, None)
        draft.save(request.session)
        return redirect("product-new-step", step=target)
    form = ui.form(initial=draft.pending.get(step) or None, choices=choices)
    context = _wizard_context(draft, step, form=form, ui=ui, problems=problems)
    return render(request, "products/wizard.html", _with_items(context, ui, draft, step))


def _with_items(context: dict[str, Any], ui: KindUi, draft: Draft, step: str) -> dict[str, Any]:
    context["items"] = [
        {"index": index, "name": item["name"], "summary": ui.form.summary(item["body"])}
        for index, item in enumerate(draft.entries(step))
    ]
    context["no_clusters"] = (
        step == "environments" and not context["form"].fields["cluster"].choices[1:]
    )
    return context


@require_POST
@login_required
def wizard_validate(request: HttpRequest, step: str) -> HttpResponse:
    """htmx: check the step's form as the user types (nothing is stored)."""
    if not permissions.can_create_product(request.user):
        raise PermissionDenied("You may not create products.")
    if step not in STEP_NAMES or step == "review":
        raise Http404("No such step.")
    draft = Draft.load(request.session)
    problems: list[str] = []
    files: list[Any] = []
    typed = request.POST.get("name", "").strip()
    if step == "product":
        form = ProductForm(request.POST)
        if form.is_valid() and Product.objects.filter(name=typed).exists():
            problems.append(f"A product named {typed} already exists.")
        problems = _form_errors(form) + problems
    elif typed:
        ui = KIND_UIS[LIST_STEPS[step]]
        item_form = ui.form(request.POST, choices=draft.choices())
        problems = _form_errors(item_form)
        if not problems:
            body = item_form.body()
            problems = draft.check_item(step, typed, body)
            if not problems:
                resource = draft.resource(step, typed, body)
                content = dump_yaml(build_document(resource.kind, resource.name, resource.spec))
                files = [{"path": resource.path, "content": content.decode()}]
    context = _wizard_context(draft, step, live_problems=problems, live_files=files, typed=typed)
    return render(request, "products/wizard.html#live", context)


def _wizard_review(request: HttpRequest, draft: Draft) -> HttpResponse:
    problems = draft.problems()
    name = draft.product.get("name", "")
    if Product.objects.filter(name=name).exists():
        problems.insert(0, f"A product named {name} exists now; choose another name.")
    if request.method == "POST" and request.POST.get("action") == "back":
        return redirect("product-new-step", step=_neighbour("review", -1))
    if request.method == "POST" and request.POST.get("action") == "create" and not problems:
        result = _create(request, draft)
        Draft.clear(request.session)
        request.session[WIZARD_RESULT_KEY] = result
        return redirect("product-new-step", step="done")
    counts = [
        (KIND_UIS[collection].title, len(draft.entries(step)))
        for step, collection in LIST_STEPS.items()
    ]
    context = _wizard_context(
        draft, "review", problems=problems, files=draft.files(), counts=counts
    )
    return render(request, "products/wizard.html", context)


def _create(request: HttpRequest, draft: Draft) -> services.SetupResult:
    """The wizard's "Create": the setup service, with each item saved as its form would."""
    data = draft.product
    items = [
        services.SetupItem(
            kind=KIND_UIS[collection].singular,
            name=item["name"],
            save=partial(_save_item, KIND_UIS[collection], item, request.user),
        )
        for step, collection in LIST_STEPS.items()
        for item in draft.entries(step)
    ]
    return services.product_setup(
        name=data["name"],
        display_name=data.get("display_name") or "",
        visibility=data.get("visibility") or "",
        description=data.get("description") or "",
        items=items,
        actor=request.user,
    )


def _save_item(ui: KindUi, item: dict[str, Any], actor: Actor, product: Product) -> None:
    save_body(ui, product, item["name"], item["body"], actor)


def _wizard_done(request: HttpRequest) -> HttpResponse:
    result = request.session.get(WIZARD_RESULT_KEY)
    if not result:
        return redirect("product-new-step", step="product")
    product = Product.objects.filter(name=result["product"]).first()
    return render(request, "products/wizard_done.html", {"result": result, "product": product})
