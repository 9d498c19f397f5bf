"""The product's own forms: create (the wizard's first step) and settings."""

from __future__ import annotations

from typing import Any

from django import forms

from nautes_portal.errors import RuleViolation
from nautes_portal.ui.forms import AccessibleForm
from products import services
from products.forms.resources import NAME_HELP, VISIBILITY_CHOICES

# ---- Product forms -------------------------------------------------------------------------


class ProductForm(AccessibleForm):
    name = forms.CharField(
        max_length=63,
        help_text="The Git group path, at most 63 characters. " + NAME_HELP,
    )
    display_name = forms.CharField(required=False, max_length=255, label="Display name")
    description = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    visibility = forms.ChoiceField(
        choices=VISIBILITY_CHOICES, initial="private", widget=forms.RadioSelect
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        try:
            services.validate_product_name(name)
        except RuleViolation as exc:
            raise forms.ValidationError(exc.message, code="invalid") from None
        return name


class ProductSettingsForm(ProductForm):
    """Editing an existing product: its name (the group path) is fixed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].disabled = True
        self.fields["name"].help_text = "The group path cannot change."
        self._describe()
