"""The form base every browser form uses, and the typed-name confirmation of deletes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django import forms


def set_choices(form_field: forms.Field, choices: Iterable[tuple[str, str]]) -> None:
    """Give a choice field its options (chosen at run time from the index)."""
    cast(forms.ChoiceField, form_field).choices = list(choices)


class AccessibleForm(forms.Form):
    """Link each input to its help text and errors (`aria-describedby`), mark invalid inputs.

    Templates render fields with `components/_field.html`, which gives the help text the id
    `<auto_id>_help` and the errors the id `<auto_id>_error`.
    """

    template_field = "components/_field.html"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._describe()

    def _describe(self) -> None:
        for name, form_field in self.fields.items():
            bound = self[name]
            ids = []
            if form_field.help_text:
                ids.append(f"{bound.auto_id}_help")
            errors = getattr(self, "_errors", None)  # set by full_clean; None before
            if self.is_bound and errors is not None and name in errors:
                ids.append(f"{bound.auto_id}_error")
                form_field.widget.attrs["aria-invalid"] = "true"
            if ids:
                form_field.widget.attrs["aria-describedby"] = " ".join(ids)

    def full_clean(self) -> None:
        super().full_clean()
        self._describe()


class DeleteConfirmForm(AccessibleForm):
    """Typing the name confirms a destructive action (and keeps a stray click harmless)."""

    confirm = forms.CharField(label="Type the name to confirm", max_length=255)

    def __init__(self, *args: Any, expected: str, **kwargs: Any) -> None:
        self.expected = expected
        super().__init__(*args, **kwargs)

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value != self.expected:
            raise forms.ValidationError(
                "Type %(name)s exactly.", code="mismatch", params={"name": self.expected}
            )
        return value
