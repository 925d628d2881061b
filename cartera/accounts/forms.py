from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from cartera.accounts.models import Role, User


class UserForm(forms.ModelForm):
    """An administrator creates or changes an employee's account."""

    password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the current password."),
    )
    hand_over_to = forms.ModelChoiceField(
        label=_("Hand their customers over to"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Required to deactivate someone who still owns customers."),
    )

    class Meta:
        model = User
        fields = [
            "username",
            "first_name",
            "last_name",
            "email",
            "role",
            "team",
            "language",
            "is_active",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        others = User.objects.filter(is_active=True).exclude(role=Role.READ_ONLY)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        self.fields["hand_over_to"].queryset = others  # type: ignore[attr-defined]
        if not self.instance.pk:
            self.fields["password"].required = True
            self.fields["password"].help_text = ""

    def clean_password(self) -> str:
        password: str = self.cleaned_data.get("password", "")
        if password:
            validate_password(password, self.instance)
        return password

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        owns = self.instance.pk and self.instance.owned_customers.exists()
        leaving = not data.get("is_active", True) or data.get("role") == Role.READ_ONLY
        if owns and leaving and not data.get("hand_over_to"):
            self.add_error(
                "hand_over_to",
                _("This person still owns customers: choose who takes them over."),
            )
        return data

    def save(self, commit: bool = True) -> User:
        user: User = super().save(commit=False)
        if self.cleaned_data.get("password"):
            user.set_password(self.cleaned_data["password"])
        user.save()
        if target := self.cleaned_data.get("hand_over_to"):
            # The portfolio belongs to the company: it changes hands, it is never orphaned.
            user.owned_customers.update(owner=target)
        return user
