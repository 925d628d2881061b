"""Duplicates in a real browser: a manager reviews the queue and merges a pair."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cartera.accounts.models import User
from cartera.activities.models import EntryKind, TimelineEntry
from cartera.activities.services import create_task
from cartera.customers.models import Customer
from cartera.quality.models import DuplicatePair, Merge, PairStatus
from cartera.quality.scan import scan_duplicates
from tests.conftest import make_customer, make_lead, valid_cif
from tests.e2e.conftest import login, shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_manager_reviews_a_pair_and_merges_it(
    page: Page, live_server: Any, owner: User, manager: User
) -> None:
    # given a client and the same company typed again as a lead, with a task, found by the scan
    kept = make_customer(owner, legal_name="Muñoz y Asociados SL")
    typed_again = make_customer(
        owner,
        legal_name="Munoz Asociados",
        trade_name="Muñoz Abogados",
        tax_id=valid_cif(7654321),
        channels=[{"type": "email", "value": "info@munoz.example"}],
    )
    create_task(
        customer=typed_again,
        data={
            "type": "call",
            "subject": "Llamar por el presupuesto",
            "due_date": datetime.date(2030, 1, 15),
        },
        by=owner,
    )
    unrelated = make_lead(owner, "Ferretería Central")
    scan_duplicates()
    pair = DuplicatePair.objects.get()
    assert {pair.customer_a_id, pair.customer_b_id} == {kept.pk, typed_again.pk}

    # when the manager opens the queue
    login(page, live_server, manager)
    page.goto(f"{live_server.url}/duplicates/")
    row = page.locator(f"#pair-{pair.pk}")
    expect(row).to_contain_text("Muñoz y Asociados SL")
    expect(row).to_contain_text("Muñoz Abogados")
    expect(row.locator(".reason-email")).to_contain_text("info@munoz.example")
    expect(page.locator("table.duplicate-pairs")).not_to_contain_text(unrelated.legal_name)
    shot(page, "merge-01-queue")

    # and opens the merge screen
    with page.expect_navigation():
        row.locator("a.merge-link").click()
    expect(page.locator("h1")).to_be_visible()
    trade = page.locator("tr[data-field=trade_name]")
    expect(trade.locator("input[value=other]")).to_be_checked()  # the kept one has none
    expect(page.locator("#moving")).to_contain_text("1")
    # and picks the other's legal name, confirms and merges
    page.locator("tr[data-field=legal_name] input[value=other]").check()
    shot(page, "merge-02-screen")
    page.locator("#merge-submit").click()
    # the browser asks for the confirmation first: nothing happened yet
    assert not Merge.objects.exists()
    page.locator("#confirm").check()
    with page.expect_navigation():
        page.locator("#merge-submit").click()

    # then they are on the kept customer's ficha, which says what was merged into it
    expect(page).to_have_url(f"{live_server.url}/customers/{kept.pk}/")
    expect(page.locator("#merges")).to_contain_text(typed_again.code)
    shot(page, "merge-03-ficha")
    kept.refresh_from_db()
    typed_again.refresh_from_db()
    assert kept.legal_name == "Munoz Asociados" and kept.trade_name == "Muñoz Abogados"
    assert typed_again.archived_at is not None
    assert kept.tasks.filter(subject="Llamar por el presupuesto").exists()
    assert TimelineEntry.objects.filter(customer=typed_again, kind=EntryKind.MERGE).exists()
    pair.refresh_from_db()
    assert pair.status == PairStatus.MERGED

    # and the archived record points at the kept one
    page.goto(f"{live_server.url}/customers/{typed_again.pk}/")
    expect(page.locator("#merges a")).to_have_attribute("href", f"/customers/{kept.pk}/")
    shot(page, "merge-04-archived")
    assert Customer.objects.current().filter(pk=typed_again.pk).count() == 0


def test_the_addresses_brought_follow_the_chosen_fiscal_address(
    page: Page, live_server: Any, owner: User, manager: User
) -> None:
    # given a kept customer that ships to the address the other has as fiscal
    gran_via = {"street": "Gran Vía", "exterior_number": "1", "postal_code": "28013",
                "municipality": "Madrid", "country": "ES"}  # fmt: skip
    calle_mayor = {"type": "fiscal", "street": "Calle Mayor", "exterior_number": "28",
                   "postal_code": "28013", "municipality": "Madrid", "country": "ES"}  # fmt: skip
    kept = make_customer(owner, addresses=[calle_mayor, {"type": "shipping", **gran_via}])
    other = make_customer(
        owner, legal_name="Munoz Asociados", tax_id=valid_cif(7654321),
        addresses=[{"type": "fiscal", **gran_via}],
    )  # fmt: skip
    pair = DuplicatePair.objects.create(
        customer_a=kept, customer_b=other, score=90, found_at=kept.created_at,
        seen_at=kept.created_at, reasons=[{"kind": "name", "similarity": 90}],
    )  # fmt: skip

    # when the manager opens the merge screen, the kept one's fiscal address chosen
    login(page, live_server, manager)
    page.goto(f"{live_server.url}/duplicates/{pair.pk}/merge/?keep={kept.pk}")
    moving = page.locator("#moving")
    expect(moving).to_contain_text(f"{kept.code} ya lo tiene: no se copia")

    # and chooses the other's fiscal address instead
    page.locator("tr[data-field=fiscal_address] input[value=other]").check()

    # then the list says that the kept one's copy becomes its fiscal address, without reloading
    expect(moving).to_contain_text(f"{kept.code} ya lo tiene: pasa a ser su dirección fiscal")
    expect(page.locator("tr[data-field=fiscal_address] input[value=other]")).to_be_checked()
    shot(page, "merge-05-fiscal-address")

    # and the merge does what it said
    page.locator("#confirm").check()
    with page.expect_navigation():
        page.locator("#merge-submit").click()
    assert sorted(kept.addresses.values_list("type", "street")) == [
        ("fiscal", "Gran Vía"), ("other", "Calle Mayor"),
    ]  # fmt: skip
