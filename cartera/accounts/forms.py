from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from cartera.accounts.models import Role, User

# Work other apps keep per person (open tasks...): each check says why a person cannot
# leave yet, or "" when nothing of theirs would be left without someone responsible.
LeavingCheck = Callable[[User], str]
_LEAVING_CHECKS: list[LeavingCheck] = []


def on_leaving(check: LeavingCheck) -> None:
    if check not in _LEAVING_CHECKS:
        _LEAVING_CHECKS.append(check)


class UserForm(forms.ModelForm):
    """An administrator creates or changes an employee's account."""

    password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the current password."),
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
        self.owns_customers = 0
        self.holds_work = False
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
        owned = self.instance.owned_customers.count() if self.instance.pk else 0
        leaving = not data.get("is_active", True) or data.get("role") == Role.READ_ONLY
        if owned and leaving:
            # The portfolio belongs to the company: it changes hands, it is never orphaned.
            self.owns_customers = owned
            self.add_error(
                None,
                _(
                    "This person still owns %(count)s customers: hand them over to someone "
                    "else first."
                )
                % {"count": owned},
            )
        if leaving and self.instance.pk:
            for check in _LEAVING_CHECKS:
                if message := check(self.instance):
                    self.holds_work = True
                    self.add_error(None, message)
        return data

    def save(self, commit: bool = True) -> User:
        user: User = super().save(commit=False)
        if self.cleaned_data.get("password"):
            user.set_password(self.cleaned_data["password"])
        user.save()
        return user


class TwoFactorCodeForm(forms.Form):
    """The current code of the user's authenticator app."""

    code = forms.CharField(
        label=_("Verification code"),
        max_length=12,
        help_text=_("The 6-digit code your authenticator app shows now."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "size": 8,
            }
        ),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data.get("code", "").split())
        if len(code) != 6 or not code.isdigit():
            raise forms.ValidationError(_("Enter the 6 digits your app shows."), code="format")
        return code


class PasswordConfirmForm(forms.Form):
    """The user's own password, asked again before a sensitive change."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password: str = self.cleaned_data.get("password", "")
        if not self.user.check_password(password):
            raise forms.ValidationError(_("The password is not correct."), code="password")
        return password
