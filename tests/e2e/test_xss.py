"""Stored XSS: hostile text in every field of a customer is shown as text, in a real Chromium.

The customer is created through the services with markup in each of its texts (names,
notes, reasons, contacts, address, tags, custom field, owner, team, group, consents and
requests); an administrator (who sees every page) opens the list, searches for it, opens
the ficha, the edit form, the history, the data-protection pages and the admin lists.
No dialog may open, no element may be injected, and the payloads must read as text.

The pages are visited twice: as served (the Content-Security-Policy would stop an
injected script anyway) and with the CSP bypassed, so that escaping alone is tested.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import caches
from playwright.sync_api import Browser, Dialog, Page, expect

from cartera.accounts.models import Role, Team, User
from cartera.customers import services
from cartera.customers.models import Customer, CustomerGroup, CustomField
from cartera.customers.validation import CustomerInvalid
from cartera.privacy import services as privacy
from cartera.privacy.models import DataSubjectRequest
from tests.conftest import PASSWORD, make_customer
from tests.e2e.conftest import _ERRORS, BrowserErrors, expect_http_errors, login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
SVG = "'><svg onload=alert(3)>"
WEBSITE = 'https://xss.example/"><svg/onload=alert(4)>'  # a valid URL, markup in its path
INJECTED = "img[src='x'], svg[onload], [onerror], [onload], iframe, object, embed"


def payload(where: str) -> str:
    """A field's text: where it is, then the three payloads."""
    return f"{where} {SCRIPT} {IMG} {SVG}"


LEGAL_NAME = payload("Razón")
TRADE_NAME = payload("Comercial")
NOTES = f"{payload('Notas')}\n{SCRIPT}"
STATUS_REASON = payload("Suspendido")
LOSS_DETAIL = payload("Perdido")
CONTACT_FIRST, CONTACT_LAST = payload("Ana"), payload("Gil")
CONTACT_ROLE, CONTACT_NOTES = payload("Rol"), payload("Nota del contacto")
STREET, NEIGHBOURHOOD = payload("Calle"), payload("Barrio")
MUNICIPALITY, LOCALITY = payload("Municipio"), payload("Localidad")
CUSTOM_LABEL, CUSTOM_VALUE = payload("Etiqueta"), payload("Valor")
OWNER_NAME, TEAM_NAME, GROUP_NAME = payload("Comercial"), payload("Equipo"), payload("Grupo")
CONSENT_SOURCE, CONSENT_EVIDENCE = payload("Fuente"), payload("Prueba")
REQUEST_NOTES = payload("Solicitud")
TRADE_NAME_LATER = payload("Comercial nuevo")


@dataclass
class Hostile:
    customer: Customer
    admin: User
    request: DataSubjectRequest


@pytest.fixture
def hostile(admin_user: User) -> Hostile:
    """A lost, suspended customer whose every text holds markup, with its history."""
    for cache in caches.all():  # the login rate limit is counted in the (shared) cache
        cache.clear()
    team = Team.objects.create(name=TEAM_NAME[:100])
    owner = User.objects.create_user(
        username="comercial-xss", password=PASSWORD, first_name=OWNER_NAME, team=team
    )
    CustomField.objects.create(label=CUSTOM_LABEL, key="nota_xss", field_type="text")
    group = CustomerGroup.objects.create(name=GROUP_NAME[:100])
    customer = services.create_customer(
        data={
            "kind": "organization",
            "legal_name": LEGAL_NAME,
            "trade_name": TRADE_NAME,
            "stage": "lost",
            "loss_reason": "other",
            "loss_detail": LOSS_DETAIL,
            "status": "suspended",
            "status_reason": STATUS_REASON,
            "notes": NOTES,
            "tags": [SCRIPT, IMG, SVG],
            "group": group,
            "owner": owner,
            "custom_data": {"nota_xss": CUSTOM_VALUE},
            "channels": [
                {"type": "email", "value": "xss@ejemplo.example"},
                {"type": "phone", "value": "+34 600 11 22 33"},
                {"type": "website", "value": WEBSITE},
            ],
            "addresses": [
                {
                    "type": "fiscal",
                    "street": STREET,
                    "exterior_number": "'\"><b>28</b>",
                    "interior_number": IMG,
                    "neighbourhood": NEIGHBOURHOOD,
                    "municipality": MUNICIPALITY,
                    "locality": LOCALITY,
                    "postal_code": "28013",
                    "country": "ES",
                }
            ],
            "contacts": [
                {
                    "first_name": CONTACT_FIRST,
                    "last_name": CONTACT_LAST,
                    "role": CONTACT_ROLE,
                    "notes": CONTACT_NOTES,
                    "phone": "+34 600 00 00 01",
                }
            ],
        },
        by=admin_user,
    )
    # a change, so that the history shows payloads before and after
    services.update_customer(customer=customer, data={"trade_name": TRADE_NAME_LATER}, by=owner)
    today = datetime.date.today()
    privacy.record_consent(
        customer=customer,
        by=admin_user,
        purpose="commercial",
        legal_basis="consent",
        state="granted",
        recorded_on=today,
        source=CONSENT_SOURCE,
        evidence=CONSENT_EVIDENCE,
        contact=customer.contacts.get(),
    )
    request = privacy.open_request(
        customer=customer,
        by=admin_user,
        kind="access",
        received_on=today,
        channel=IMG,
        notes=REQUEST_NOTES,
    )
    return Hostile(customer=customer, admin=admin_user, request=request)


@pytest.fixture(params=["csp", "csp-bypassed"])
def browser_page(
    request: pytest.FixtureRequest, browser: Browser
) -> Iterator[tuple[Page, list[str]]]:
    """A page (as served, or with the CSP bypassed) and the dialogs it opened."""
    if request.param == "csp":
        page: Page = request.getfixturevalue("page")
        context = None
    else:
        context = browser.new_context(
            locale="es-ES", viewport={"width": 1280, "height": 900}, bypass_csp=True
        )
        context.set_default_timeout(10_000)
        page = context.new_page()
        errors = BrowserErrors()
        request.node.stash[_ERRORS] = errors  # fail on console errors, as the page fixture
        page.on("console", errors.on_console)
        page.on("pageerror", errors.on_page_error)
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message} on {page.url}")
        dialog.dismiss()

    page.on("dialog", record)
    yield page, dialogs
    if context is not None:
        context.close()


def assert_harmless(page: Page, dialogs: list[str], *texts: str) -> None:
    """Nothing ran or was injected, and the payloads read as text on the page."""
    page.wait_for_load_state("load")
    assert dialogs == []
    assert page.locator(INJECTED).count() == 0, f"markup injected on {page.url}"
    scripts = page.locator("script")
    sources = [scripts.nth(i).get_attribute("src") or "" for i in range(scripts.count())]
    assert all(src.startswith("/static/") for src in sources), sources
    body = page.locator("body").inner_text()
    missing = [text for text in texts if text not in body]
    assert missing == [], f"not shown as text on {page.url}: {missing}"


def test_hostile_texts_are_shown_as_text_everywhere(
    hostile: Hostile,
    browser_page: tuple[Page, list[str]],
    live_server: Any,
    request: pytest.FixtureRequest,
) -> None:
    page, dialogs = browser_page
    base, pk = live_server.url, hostile.customer.pk
    login(page, live_server, hostile.admin)

    # the list: name, owner; then searching for the script tag itself (echoed in the box)
    page.goto(f"{base}/customers/")
    assert_harmless(page, dialogs, TRADE_NAME_LATER, LEGAL_NAME, OWNER_NAME)
    page.locator("#filters input[name=q]").fill(SCRIPT)
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#filters input[name=q]")).to_have_value(SCRIPT)
    assert_harmless(page, dialogs, TRADE_NAME_LATER)
    page.goto(f"{base}/customers/?q={IMG.replace('#', '%23')}&tag={SCRIPT}")
    assert_harmless(page, dialogs)

    # the ficha
    page.locator("#results").get_by_role("link", name=TRADE_NAME_LATER).first.click()
    expect(page).to_have_url(f"{base}/customers/{pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(TRADE_NAME_LATER)
    assert_harmless(
        page, dialogs, LEGAL_NAME, STATUS_REASON, LOSS_DETAIL, SCRIPT, IMG, SVG,
        CONTACT_ROLE, CONTACT_NOTES, STREET, NEIGHBOURHOOD, MUNICIPALITY, CUSTOM_LABEL,
        CUSTOM_VALUE, OWNER_NAME, TEAM_NAME[:100], GROUP_NAME[:100], WEBSITE,
        payload("Notas"),
    )  # fmt: skip
    website = page.locator("a", has_text="xss.example")
    assert website.get_attribute("href") == WEBSITE

    # the complete form: every value back in its input, untouched
    page.goto(f"{base}/customers/{pk}/edit/")
    assert_harmless(page, dialogs)
    expect(page.locator("input[name=legal_name]")).to_have_value(LEGAL_NAME)
    expect(page.locator("input[name=trade_name]")).to_have_value(TRADE_NAME_LATER)
    expect(page.locator("textarea[name=notes]")).to_have_value(NOTES)
    expect(page.locator("input[name=status_reason]")).to_have_value(STATUS_REASON)
    expect(page.locator("input[name=loss_detail]")).to_have_value(LOSS_DETAIL)
    expect(page.locator("input[name=cf_nota_xss]")).to_have_value(CUSTOM_VALUE)
    expect(page.locator("input[name$='-street']")).to_have_value(STREET)
    expect(page.locator("input[name$='-interior_number']")).to_have_value(IMG)
    expect(page.locator("input[name$='-role']")).to_have_value(CONTACT_ROLE)
    expect(page.locator("input[value='" + WEBSITE.replace("'", "\\'") + "']")).to_have_count(1)

    # the history: before and after of the change
    page.goto(f"{base}/customers/{pk}/history/")
    assert_harmless(page, dialogs, TRADE_NAME, TRADE_NAME_LATER, OWNER_NAME)
    page.goto(f"{base}/customers/{pk}/history/?access=1")
    assert_harmless(page, dialogs, TRADE_NAME_LATER)

    # the data-protection pages
    page.goto(f"{base}/privacy/customers/{pk}/")
    assert_harmless(page, dialogs, TRADE_NAME_LATER, CONSENT_SOURCE, CONSENT_EVIDENCE)
    page.goto(f"{base}/privacy/customers/{pk}/package/")
    assert_harmless(page, dialogs, LEGAL_NAME, CONTACT_FIRST, CONTACT_ROLE, STREET, CONSENT_SOURCE)
    page.goto(f"{base}/privacy/requests/")
    assert_harmless(page, dialogs, hostile.customer.code)
    page.goto(f"{base}/privacy/requests/{hostile.request.pk}/")
    assert_harmless(page, dialogs, REQUEST_NOTES)

    # the administrators' pages that list the hostile names
    page.goto(f"{base}/accounts/users/")
    assert_harmless(page, dialogs, OWNER_NAME, TEAM_NAME[:100])
    for url in ("/settings/lists/custom-fields/", "/settings/lists/groups/", "/accounts/teams/"):
        page.goto(f"{base}{url}")
        assert_harmless(page, dialogs)
    expect_http_errors(request)  # (none expected: every page above answers 200)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("website", "javascript:alert(1)"),
        ("website", "JaVaScRiPt:alert(1)"),
        ("website", "javascript://example.com/%0Aalert(1)"),
        ("website", "data:text/html,<script>alert(1)</script>"),
        ("website", "vbscript:msgbox(1)"),
        ("social", "javascript:alert(1)"),
    ],
)
def test_script_addresses_are_refused_as_websites(owner: User, kind: str, value: str) -> None:
    # when a website or social profile with a script address is saved through the services
    with pytest.raises(CustomerInvalid) as refused:
        make_customer(owner, channels=[{"type": kind, "value": value}])

    # then it is refused, naming the channel's value, and nothing is stored
    assert "channels.0.value" in refused.value.messages_by_field
    assert Customer.objects.count() == 0


def test_script_address_typed_in_the_form_is_refused(
    page: Page, live_server: Any, owner: User, request: pytest.FixtureRequest
) -> None:
    # given a customer with a website, open in the complete form
    expect_http_errors(request, 422)
    customer = make_customer(
        owner, channels=[{"type": "website", "value": "https://munoz.example"}]
    )
    for cache in caches.all():
        cache.clear()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    login(page, live_server, owner)
    page.goto(f"{live_server.url}/customers/{customer.pk}/edit/")

    # when the website is replaced by a javascript: address and saved
    page.locator("input[value='https://munoz.example']").fill("javascript:alert(1)")
    page.get_by_role("button", name="Guardar cliente").click()

    # then the form explains it and nothing is stored
    expect(page.get_by_text("Introduce una dirección web válida.")).to_be_visible()
    assert dialogs == []
    assert [c.value for c in customer.channels.all()] == ["https://munoz.example"]
    assert Customer.objects.get(pk=customer.pk).version == customer.version


# Roles other than the administrator see the same templates; one salesperson's view of the
# ficha checks that nothing depends on being an administrator.
def test_a_salesperson_sees_the_hostile_ficha_as_text(
    hostile: Hostile, page: Page, live_server: Any
) -> None:
    # given the customer's owner
    owner = hostile.customer.owner
    owner.role = Role.SALESPERSON
    owner.save()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    login(page, live_server, owner)

    # when they open their customer's ficha, then it reads as text
    page.goto(f"{live_server.url}/customers/{hostile.customer.pk}/")
    assert_harmless(page, dialogs, LEGAL_NAME, CONTACT_ROLE, STREET, payload("Notas"))
