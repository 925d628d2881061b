"""Sign-in, user administration, hand-over, tokens and the company settings."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from cartera.accounts.models import ApiToken, Role, User
from cartera.core.models import Company
from cartera.customers.models import Customer, FiscalType
from tests.conftest import PASSWORD, bearer, client_for, make_customer

pytestmark = pytest.mark.django_db


def test_login_and_logout(owner: User) -> None:
    client = Client()
    response = client.post("/accounts/login/", {"username": "olga", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/customers/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/customers/").status_code == 302


def test_wrong_password_is_refused_in_spanish(owner: User) -> None:
    response = Client().post("/accounts/login/", {"username": "olga", "password": "mala"})
    assert response.status_code == 200
    # in Cartera's Spanish, which says "tú", not in Django's "usted"
    assert "Introduce un nombre de usuario y una contraseña correctos" in response.content.decode()


def test_password_change(owner: User) -> None:
    client = client_for(owner)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "otra-clave-muy-larga-77",
            "new_password2": "otra-clave-muy-larga-77",
        },
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("otra-clave-muy-larga-77")


@pytest.mark.parametrize(
    "url",
    ["/settings/", "/accounts/users/", "/accounts/teams/", "/settings/lists/fiscal-types/"],
)
def test_settings_pages_are_for_administrators_only(
    url: str, admin_user: User, manager: User, owner: User
) -> None:
    assert client_for(admin_user).get(url).status_code == 200
    assert client_for(manager).get(url).status_code == 403
    assert client_for(owner).get(url).status_code == 403


def test_company_settings_are_saved(admin_user: User) -> None:
    response = client_for(admin_user).post(
        "/settings/",
        {
            "legal_name": "Distribuciones Cartera SL",
            "tax_country": "ES",
            "tax_id": "B12345674",
            "country": "ES",
            "default_country": "MX",
            "default_currency": "MXN",
            "visibility_mode": "team",
            "review_period_months": "3",
            "customer_code_prefix": "CL-",
            "customer_code_digits": "4",
        },
    )
    assert response.status_code == 302
    company = Company.load()
    assert (company.default_country, company.visibility_mode, company.review_period_months) == (
        "MX",
        "team",
        3,
    )
    customer = make_customer(admin_user)
    assert customer.code == "CL-0001"


def test_company_settings_refuse_bad_input(admin_user: User) -> None:
    response = client_for(admin_user).post(
        "/settings/", {"review_period_months": "-4", "visibility_mode": "robot"}
    )
    assert response.status_code == 422
    assert Company.load().review_period_months == 6


def _formset_post(formset: object) -> dict[str, object]:
    """What the browser posts back for a model formset, unchanged."""
    data: dict[str, object] = {
        "form-TOTAL_FORMS": str(len(formset.forms)),  # type: ignore[attr-defined]
        "form-INITIAL_FORMS": str(formset.initial_form_count()),  # type: ignore[attr-defined]
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
    }
    for i, form in enumerate(formset.forms):  # type: ignore[attr-defined]
        for name, field in form.fields.items():
            value = form.initial.get(name, field.initial)
            if isinstance(value, bool):
                if value:
                    data[f"form-{i}-{name}"] = "on"
            elif value is not None:
                data[f"form-{i}-{name}"] = getattr(value, "pk", value)
    return data


def test_editable_list_adds_a_row_and_refuses_to_delete_one_in_use(admin_user: User) -> None:
    # given the fiscal types page
    client = client_for(admin_user)
    formset = client.get("/settings/lists/fiscal-types/").context["formset"]
    data = _formset_post(formset)
    last = len(formset.forms) - 1
    # when the admin fills the empty row
    data.update({f"form-{last}-name": "Franquicia", f"form-{last}-code": "franquicia"})
    # then a new fiscal type exists
    assert client.post("/settings/lists/fiscal-types/", data).status_code == 302
    assert FiscalType.objects.filter(code="franquicia").exists()
    # and one in use cannot be deleted
    make_customer(admin_user)
    in_use = FiscalType.objects.get(code="sociedad_mercantil")
    formset = client.get("/settings/lists/fiscal-types/").context["formset"]
    data = _formset_post(formset)
    index = [f.instance.pk for f in formset.forms].index(in_use.pk)
    data[f"form-{index}-DELETE"] = "on"
    response = client.post("/settings/lists/fiscal-types/", data)
    assert response.status_code == 409
    assert FiscalType.objects.filter(pk=in_use.pk).exists()


def test_a_user_who_owns_customers_is_deactivated_only_after_a_handover(
    admin_user: User, owner: User, teammate: User
) -> None:
    # given a salesperson who owns a customer
    customer = make_customer(owner)
    client = client_for(admin_user)
    form = {
        "username": owner.username,
        "first_name": owner.first_name,
        "last_name": "",
        "email": "",
        "role": "salesperson",
        "team": owner.team_id,
        "language": "",
        "password": "",
    }
    # when the admin deactivates them while they still own customers
    response = client.post(f"/accounts/users/{owner.pk}/", form)
    # then it is refused, pointing to the handover page
    assert response.status_code == 422
    assert f"/customers/handover/?from={owner.pk}" in response.content.decode()
    owner.refresh_from_db()
    assert owner.is_active
    # and once the portfolio has moved, nothing is orphaned and deactivation goes through
    client.post("/customers/handover/", {"from_owner": owner.pk, "to_owner": teammate.pk})
    assert client.post(f"/accounts/users/{owner.pk}/", form).status_code == 302
    customer.refresh_from_db()
    owner.refresh_from_db()
    assert not owner.is_active
    assert customer.owner == teammate


def test_admin_creates_a_user_with_a_valid_password(admin_user: User) -> None:
    client = client_for(admin_user)
    base = {"username": "nuevo", "role": "salesperson", "is_active": "on", "language": "es"}
    assert client.post("/accounts/users/new/", base | {"password": "123"}).status_code == 422
    assert (
        client.post("/accounts/users/new/", base | {"password": "una-clave-larga-2026"}).status_code
        == 302
    )
    assert User.objects.get(username="nuevo").check_password("una-clave-larga-2026")


def test_token_command_creates_a_working_token_and_revokes_it(owner: User) -> None:
    out = StringIO()
    call_command("token", "create", "olga", "--scope", "read", stdout=out)
    key = out.getvalue().strip()
    assert key.startswith("cart_")
    token = ApiToken.objects.get(user=owner)
    assert key not in (token.key_hash, token.hint)  # only a hash is kept
    client = Client()
    assert client.get("/api/customers", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    call_command("token", "revoke", str(token.pk), stdout=StringIO())
    assert client.get("/api/customers", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401


def test_createuser_command(db: object) -> None:
    call_command(
        "createuser", "lucia", "--role", "manager", "--team", "Norte",
        "--password", "una-clave-larga-2026", stdout=StringIO(),
    )  # fmt: skip
    user = User.objects.get(username="lucia")
    assert (user.role, user.team.name) == (Role.MANAGER, "Norte")
    assert user.check_password("una-clave-larga-2026")


def test_read_only_token_cannot_write(owner: User) -> None:
    response = Client().post(
        "/api/customers",
        {"legal_name": "X", "kind": "organization"},
        content_type="application/json",
        **bearer(owner, scope="read"),
    )
    assert response.status_code == 403
    assert Customer.objects.count() == 0
