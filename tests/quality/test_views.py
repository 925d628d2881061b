"""The review queue, the merge screen and the API: who sees what, and what each answer does."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cartera.accounts.models import User
from cartera.core.jobs import run_pending
from cartera.customers.models import Customer
from cartera.quality.models import DuplicatePair, Merge, PairStatus, Scan
from tests.conftest import bearer, client_for, make_customer, valid_cif

pytestmark = pytest.mark.django_db


def twins(by: User, n: int = 1, *, score: int = 90) -> tuple[Customer, Customer, DuplicatePair]:
    """Two records of one company and their open pair."""
    a = make_customer(by, legal_name=f"Gemelos {n} SL", tax_id=valid_cif(n * 2))
    b = make_customer(by, legal_name=f"Gemelos {n}", tax_id=valid_cif(n * 2 + 1))
    now = timezone.now()
    pair = DuplicatePair.objects.create(
        customer_a=a, customer_b=b, score=score, found_at=now, seen_at=now,
        reasons=[{"kind": "name", "similarity": 100}, {"kind": "phone", "value": "+34600112233"}],
    )  # fmt: skip
    return a, b, pair


def test_the_queue_lists_open_pairs_by_score(owner: User) -> None:
    _a, _b, low = twins(owner, 1, score=60)
    _c, _d, high = twins(owner, 2, score=95)
    _e, _f, gone = twins(owner, 3, score=99)
    gone.status = PairStatus.DISMISSED
    gone.save()
    owner.language = "en"
    owner.save(update_fields=["language"])
    client = client_for(owner)
    page = client.get("/duplicates/")
    assert page.status_code == 200
    assert [p.pk for p in page.context["pairs"]] == [high.pk, low.pk]
    html = page.content.decode()
    assert html.index(f'id="pair-{high.pk}"') < html.index(f'id="pair-{low.pk}"')
    assert "Similar name (100%)" in html and "+34600112233" in html
    dismissed = client.get("/duplicates/?status=dismissed")
    assert [p.pk for p in dismissed.context["pairs"]] == [gone.pk]


def test_the_queue_has_a_fixed_number_of_queries(
    owner: User, django_assert_num_queries: Any
) -> None:
    twins(owner, 1)
    client = client_for(owner)
    with CaptureQueriesContext(connection) as few:
        client.get("/duplicates/")
    for n in range(2, 7):
        twins(owner, n)
    with django_assert_num_queries(len(few)):
        client.get("/duplicates/")
    with CaptureQueriesContext(connection) as api_few:
        client.get("/api/duplicates")
    twins(owner, 9)
    with django_assert_num_queries(len(api_few)):
        assert len(client.get("/api/duplicates").json()["results"]) == 7


def test_a_salesperson_of_another_team_cannot_see_the_pair(
    owner: User, outsider: User, reader: User, team_visibility: Any
) -> None:
    a, _b, pair = twins(owner)
    for user in (outsider, reader):
        client = client_for(user)
        assert client.get(f"/duplicates/{pair.pk}/merge/").status_code == 404
        assert client.post(f"/duplicates/{pair.pk}/dismiss/").status_code == 404
        data = {"survivor": a.pk, "confirm": "1"}
        assert client.post(f"/duplicates/{pair.pk}/merge/", data).status_code == 404
        assert client.get("/api/duplicates").json()["results"] == []
        assert client.post(f"/api/duplicates/{pair.pk}/dismiss").status_code == 404
    assert client_for(outsider).get("/duplicates/").context["pairs"].count() == 0
    assert client_for(reader).get("/duplicates/").status_code == 403
    pair.refresh_from_db()
    assert pair.status == PairStatus.OPEN and not Customer.objects.archived().exists()


def test_in_open_visibility_a_pair_with_someone_elses_customer_is_still_hidden(
    owner: User, outsider: User
) -> None:
    # The outsider sees both customers (the company shows everyone everything) but may not
    # edit them: the pair is not theirs to decide.
    _a, _b, pair = twins(owner)
    client = client_for(outsider)
    assert client.get(f"/customers/{pair.customer_a_id}/").status_code == 200
    assert client.get(f"/duplicates/{pair.pk}/merge/").status_code == 404


def test_dismiss_from_the_queue(teammate: User, owner: User) -> None:
    _a, _b, pair = twins(owner)
    response = client_for(teammate).post(f"/duplicates/{pair.pk}/dismiss/")
    assert response.status_code == 302 and response["Location"] == "/duplicates/"
    pair.refresh_from_db()
    assert pair.status == PairStatus.DISMISSED and pair.decided_by == teammate
    client_for(teammate).post(f"/duplicates/{pair.pk}/reopen/")
    pair.refresh_from_db()
    assert pair.status == PairStatus.OPEN


def test_the_merge_screen_shows_both_and_needs_a_confirmation(manager: User, owner: User) -> None:
    a, b, pair = twins(owner)
    client = client_for(manager)
    page = client.get(f"/duplicates/{pair.pk}/merge/")
    assert page.status_code == 200
    assert page.context["survivor"] == a and page.context["other"] == b
    rows = {row.field.name: row for row in page.context["rows"]}
    assert rows["legal_name"].differs and rows["legal_name"].choice == "survivor"
    assert not rows["kind"].differs
    swapped = client.get(f"/duplicates/{pair.pk}/merge/?keep={b.pk}")
    assert swapped.context["survivor"] == b
    # without the confirmation nothing happens
    refused = client.post(f"/duplicates/{pair.pk}/merge/", {"survivor": a.pk})
    assert refused.status_code == 422 and refused.context["errors"]
    assert not Merge.objects.exists()
    # confirmed, with the other's name
    data = {"survivor": b.pk, "legal_name": "other", "confirm": "1"}
    done = client.post(f"/duplicates/{pair.pk}/merge/", data)
    assert done.status_code == 302 and done["Location"] == f"/customers/{b.pk}/"
    b.refresh_from_db()
    a.refresh_from_db()
    assert b.legal_name == "Gemelos 1 SL" and a.archived_at is not None
    pair.refresh_from_db()
    assert pair.status == PairStatus.MERGED
    # the ficha of each says where the other went
    assert f"/customers/{b.pk}/" in client.get(f"/customers/{a.pk}/").content.decode()
    assert f"/customers/{a.pk}/" in client.get(f"/customers/{b.pk}/").content.decode()
    # and the pair cannot be merged again
    assert client.get(f"/duplicates/{pair.pk}/merge/").context["mergeable"] is False


def test_the_merge_screen_shows_values_as_the_ficha_does_and_keeps_the_client(
    owner: User,
) -> None:
    # given a lead typed again for a client, with revenue and a language
    a, _b, pair = twins(owner)
    Customer.objects.filter(pk=a.pk).update(
        stage="lead", language="en", annual_revenue="340000.00", currency="EUR"
    )

    # when the lead is chosen as the customer to keep
    page = client_for(owner).get(f"/duplicates/{pair.pk}/merge/?keep={a.pk}")

    # then amounts and languages read as on the ficha, and the client's stage is kept
    rows = {row.field.name: row for row in page.context["rows"]}
    assert rows["annual_revenue"].kept == "340\xa0000,00 EUR"  # Spanish groups with a space
    assert rows["language"].kept == "Inglés"
    assert rows["stage"].choice == "other" and rows["stage"].merged == "Cliente"


def test_an_invalid_choice_on_the_screen_names_the_row(owner: User) -> None:
    a, b, pair = twins(owner)
    Customer.objects.filter(pk=b.pk).update(stage="lead")
    client = client_for(owner)
    data = {"survivor": a.pk, "stage": "other", "confirm": "1"}
    response = client.post(f"/duplicates/{pair.pk}/merge/", data)
    assert response.status_code == 422
    rows = {row.field.name: row for row in response.context["rows"]}
    assert rows["stage"].errors and rows["stage"].choice == "other"
    a.refresh_from_db()
    assert a.stage == "client" and not Merge.objects.exists()


def test_api_lists_dismisses_and_merges(owner: User, manager: User) -> None:
    a, b, pair = twins(owner, 1)
    c, _d, other_pair = twins(owner, 2, score=70)
    headers = bearer(owner)
    client = client_for(owner)
    listed = client.get("/api/duplicates", **headers).json()
    assert [r["id"] for r in listed["results"]] == [pair.pk, other_pair.pk]
    assert listed["results"][0]["customer_a"]["code"] == a.code
    dismissed = client.post(f"/api/duplicates/{other_pair.pk}/dismiss", **headers)
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    # a bad choice: 422 naming it, nothing merged
    bad = client.post(
        f"/api/duplicates/{pair.pk}/merge",
        json.dumps({"survivor": a.pk, "choices": {"legal_name": "mine"}}),
        content_type="application/json",
        **headers,
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"][:3] == ["body", "choices", "legal_name"]
    stranger = client.post(
        f"/api/duplicates/{pair.pk}/merge", json.dumps({"survivor": c.pk}),
        content_type="application/json", **headers,
    )  # fmt: skip
    assert stranger.status_code == 422 and stranger.json()["detail"][0]["loc"] == [
        "body",
        "survivor",
    ]
    merged = client.post(
        f"/api/duplicates/{pair.pk}/merge",
        json.dumps({"survivor": b.pk, "choices": {"tax_id": "other"}}),
        content_type="application/json",
        **headers,
    )
    assert merged.status_code == 200 and merged.json() == {"survivor": b.pk, "merged": a.pk}
    b.refresh_from_db()
    assert b.tax_id == valid_cif(2)


def test_a_read_only_token_cannot_merge(owner: User) -> None:
    a, _b, pair = twins(owner)
    response = client_for(owner).post(
        f"/api/duplicates/{pair.pk}/merge", json.dumps({"survivor": a.pk}),
        content_type="application/json", **bearer(owner, scope="read"),
    )  # fmt: skip
    assert response.status_code == 403 and not Merge.objects.exists()


def test_managers_ask_for_a_scan_that_the_worker_runs(owner: User, manager: User) -> None:
    make_customer(owner, legal_name="Hermanos Ruiz SL", tax_id=valid_cif(31))
    make_customer(owner, legal_name="Hermanos Ruiz", tax_id=valid_cif(32))
    assert client_for(owner).post("/api/duplicates/scan").status_code == 403
    assert client_for(owner).post("/duplicates/scan/").status_code == 403

    def state(user: User) -> str:
        page = client_for(user).get("/duplicates/").content.decode()
        return page.split('id="scan-state">', 1)[1].split("</p>", 1)[0]

    assert "todavía no se ha revisado" in state(manager)
    assert "cada noche" in state(owner) and "cada noche" not in state(manager)
    asked = client_for(manager).post("/api/duplicates/scan")
    assert asked.status_code == 202 and asked.json()["task_id"]
    page = client_for(manager).post("/duplicates/scan/")
    assert page.status_code == 302
    assert not DuplicatePair.objects.exists()
    assert "Hay una búsqueda esperando" in state(manager)
    # when the worker runs what is queued
    assert run_pending() == 2
    # then the pair is in the queue, and the page says when the register was last scanned
    assert DuplicatePair.objects.count() == 1
    assert "Última búsqueda:" in state(manager)


def test_a_scan_from_the_command_line_is_the_last_scan_too(owner: User, manager: User) -> None:
    # given a register never scanned
    make_customer(owner, legal_name="Hermanos Ruiz SL", tax_id=valid_cif(31))
    make_customer(owner, legal_name="Hermanos Ruiz", tax_id=valid_cif(32))
    page = client_for(manager).get("/duplicates/").content.decode()
    assert "todavía no se ha revisado" in page

    # when an administrator scans it with `cartera duplicates scan`, not through the worker
    call_command("duplicates", "scan", stdout=io.StringIO())

    # then the queue says when that scan ended, and what it found is kept with it
    page = client_for(manager).get("/duplicates/").content.decode()
    assert "todavía no se ha revisado" not in page and "Última búsqueda:" in page
    scan = Scan.objects.get()
    assert (scan.customers, scan.found, scan.created) == (2, 1, 1)


def test_the_merge_screen_lists_what_is_copied_and_what_the_kept_one_has(owner: User) -> None:
    # given twins with the same phone and address; the other has its own e-mail and a contact
    a, b, pair = twins(owner)
    b.channels.filter(type="email").update(value="ventas@gemelos.example")
    b.channels.create(type="email", value="Ventas@Gemelos.example", position=5)  # twice
    b.contacts.create(first_name="Ana", last_name="Ruiz", role="Compras")

    # when the merge screen is opened, keeping the first
    page = client_for(owner).get(f"/duplicates/{pair.pk}/merge/?keep={a.pk}")

    # then each channel, address and contact of the other is listed, the ones the first has
    # already marked as not copied
    listed = {str(label): items for label, items in page.context["moving"]["listed"]}
    channels = [(i.text, i.already, i.repeated) for i in listed["Vías de contacto"]]
    assert sorted(channels) == [
        ("600 11 22 33", True, False),
        ("Ventas@Gemelos.example", False, True),  # the same e-mail: copied once
        ("ventas@gemelos.example", False, False),
    ]
    assert [(i.already) for i in listed["Direcciones"]] == [True]
    assert [(i.text, i.kind, i.already) for i in listed["Contactos"]] == [
        ("Ana Ruiz", "Compras", False)
    ]
    html = page.content.decode()
    assert f"{a.code} ya lo tiene: no se copia" in html and "ventas@gemelos.example" in html
    assert "Repetido: se copia una vez" in html

    # and the merge copies exactly what was listed as copied
    data = {"survivor": a.pk, "confirm": "1"}
    assert client_for(owner).post(f"/duplicates/{pair.pk}/merge/", data).status_code == 302
    assert sorted(a.channels.values_list("value", flat=True)) == [
        "+34600112233", "info@munoz.example", "ventas@gemelos.example",
    ]  # fmt: skip
    assert a.addresses.count() == 1 and a.contacts.get().full_name == "Ana Ruiz"


def test_the_merge_preview_follows_the_fiscal_address_chosen(owner: User) -> None:
    # given twins with different fiscal addresses
    a, b, pair = twins(owner)
    b.addresses.update(street="Gran Vía", exterior_number="1", interior_number="")
    url = f"/duplicates/{pair.pk}/merge/?keep={a.pk}"

    # when the merge screen is asked what b brings, with a's fiscal address and with b's
    def addresses(query: str) -> list[tuple[str, str]]:
        page = client_for(owner).get(url + query)
        listed = {str(label): items for label, items in page.context["moving"]["listed"]}
        return [(i.text.split(",")[0], i.kind) for i in listed["Direcciones"]]

    # then b's address is listed as it will be: another address, or the fiscal one
    assert addresses("") == [("Gran Vía 1", "Otra")]
    assert addresses("&fiscal_address=other") == [("Gran Vía 1", "Fiscal")]
    assert addresses("&fiscal_address=nonsense") == [("Gran Vía 1", "Otra")]
    page = client_for(owner).get(url).content.decode()
    assert 'hx-select="#moving"' in page and 'id="moving"' in page


def test_the_last_scan_before_scans_were_recorded_still_counts(owner: User, manager: User) -> None:
    # given a scan the worker ran before each scan was recorded (only its job result is left)
    make_customer(owner, legal_name="Hermanos Ruiz SL", tax_id=valid_cif(31))
    client_for(manager).post("/duplicates/scan/")
    assert run_pending() >= 1
    Scan.objects.all().delete()

    # when the queue is opened, then it says when that scan ended
    page = client_for(manager).get("/duplicates/").content.decode()
    assert "todavía no se ha revisado" not in page and "Última búsqueda:" in page


def test_only_the_last_scans_are_kept(owner: User, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a record that keeps two scans
    monkeypatch.setattr("cartera.quality.scan.KEEP_SCANS", 2)
    make_customer(owner, legal_name="Hermanos Ruiz SL", tax_id=valid_cif(31))
    make_customer(owner, legal_name="Hermanos Ruiz", tax_id=valid_cif(32))

    # when the register is scanned three times
    for _ in range(3):
        call_command("duplicates", "scan", stdout=io.StringIO())

    # then the last two are kept: the first scan, which opened the pair, is forgotten
    scans = list(Scan.objects.order_by("pk"))
    assert [(s.found, s.created) for s in scans] == [(1, 0), (1, 0)]
