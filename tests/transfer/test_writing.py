"""The bulk writer gives imported customers what the register's own services give them."""

from __future__ import annotations

from typing import Any

import phonenumbers
import pytest

from cartera.activities.models import TimelineEntry
from cartera.audit import services as audit
from cartera.audit.models import Action, AuditEvent
from cartera.core.text import sort_key
from cartera.customers.models import Address, ChannelType, ContactChannel, Customer
from cartera.customers.services import AUDITED_FIELDS
from cartera.transfer.duplicates import NameIndex
from cartera.transfer.writing import ROWS_PER_INSERT, _Channel
from tests.transfer.files import SPANISH_HEADERS, csv_bytes, spanish_row
from tests.transfer.helpers import imported

pytestmark = pytest.mark.django_db


def test_search_text_and_history_as_the_model_builds_them(owner: Any) -> None:
    # given rows with accents, upper case, a contact person and tax ids written loosely
    headers = [*SPANISH_HEADERS, "Nombre comercial", "Persona de contacto", "Email contacto"]
    rows = [
        headers,
        [*spanish_row(1, name="ÓPTICAS  Peña Müller 1 SL"), "Ñandú Óptica", "Íñigo Ruiz Peña",
         "inigo@cliente1.example"],
        [*spanish_row(2, tax_id=f"es-{spanish_row(2)[1]}"), "", "Ana", ""],
    ]  # fmt: skip
    # when the file is imported
    batch = imported("a.csv", csv_bytes(rows), owner)
    # then each customer's search text is what the model builds from what was written
    assert batch.created_count == 2, batch.errors
    for customer in Customer.objects.filter(code__in=_codes(batch)):
        assert customer.search_text == customer.build_search_text()
        assert customer.sort_name == sort_key(customer.trade_name or customer.legal_name)
        # and the history holds every field that has a value, as the audit diff makes it
        event = AuditEvent.objects.get(customer_id=customer.pk, action=Action.IMPORT)
        expected = audit.diff({}, audit.snapshot(customer, AUDITED_FIELDS["customer"]))
        fields = set(expected) - {"reviewed_at"}  # the clock's, to the microsecond
        assert {k: v for k, v in event.changes.items() if k in fields} == {
            k: v for k, v in audit.plain(expected).items() if k in fields
        }
    assert "inigo ruiz pena" in Customer.objects.get(trade_name="Ñandú Óptica").search_text


def test_every_row_is_written_once_whatever_the_statements_it_goes_in(owner: Any) -> None:
    # given more rows than one statement takes, and some left over after the groups of ten
    count = ROWS_PER_INSERT + 23
    rows = [SPANISH_HEADERS, *[spanish_row(i, name=f"Cierzo {i} Sur SL") for i in range(count)]]
    # when the file is imported
    batch = imported("many.csv", csv_bytes(rows), owner)
    # then each row made one customer with its channels, address and timeline, none twice
    assert batch.created_count == count, batch.errors
    created = Customer.objects.filter(code__in=_codes(batch))
    assert sorted(created.values_list("legal_name", flat=True)) == sorted(
        f"Cierzo {i} Sur SL" for i in range(count)
    )
    assert ContactChannel.objects.filter(customer__in=created).count() == 2 * count
    assert Address.objects.filter(customer__in=created).count() == count
    assert TimelineEntry.objects.filter(customer__in=created).count() == 2 * count
    # and the search index holds the first, a middle and the last of them
    for i in (0, ROWS_PER_INSERT + 5, count - 1):
        found = Customer.objects.search(spanish_row(i)[1], bounded=False)
        assert list(found.values_list("legal_name", flat=True)) == [f"Cierzo {i} Sur SL"]


def test_phones_are_searched_as_the_model_writes_them() -> None:
    # given every region's example numbers in E.164, as the validator stores them
    kinds = phonenumbers.PhoneNumberType
    numbers = [
        phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        for region in sorted(phonenumbers.SUPPORTED_REGIONS)
        for kind in (kinds.FIXED_LINE, kinds.MOBILE, kinds.TOLL_FREE, kinds.PREMIUM_RATE)
        if (example := phonenumbers.example_number_for_type(region, kind)) is not None
    ]
    for e164 in numbers:
        # when the import writes one's search form
        written = _Channel(ChannelType.PHONE, e164).search_form()
        # then it is the model's
        assert written == ContactChannel(type=ChannelType.PHONE, value=e164).search_form(), e164


def _codes(batch: Any) -> list[str]:
    return list(batch.rows.values_list("customer__code", flat=True))


def test_similar_names_are_found_whatever_the_order_of_their_words() -> None:
    # given a register name and a file name with the same words in another order
    index = NameIndex()
    index.add("Madrid", "Talleres Ruiz Mecánicos SL", 7)
    index.add("Madrid", "Obras 2000 Norte SL", 8)
    # then the words' order does not matter, the town does and the numbers must agree
    assert index.find("madrid", "Mecánicos Talleres Ruiz, S.L.") == 7
    assert index.find("Sevilla", "Mecánicos Talleres Ruiz, S.L.") is None
    assert index.find("Madrid", "Norte Obras 2000 SL") == 8
    assert index.find("Madrid", "Norte Obras 3000 SL") is None


def test_a_customer_written_in_bulk_is_the_one_the_service_creates(owner: Any) -> None:
    # given the same data for two customers (a client, in a group with its payment terms, with
    # a purchase potential): one created by the register's service, one by the bulk writer
    from django.db import transaction

    from cartera.customers import services
    from cartera.customers.models import CustomerGroup
    from cartera.customers.validation import validate_customer
    from cartera.transfer import writing
    from cartera.transfer.models import Import
    from tests.conftest import client_data, valid_cif

    group = CustomerGroup.objects.create(name="Mayoristas", payment_terms_days=45)
    same = {"group": group, "purchase_potential": "1250.50", "notes": "Alta por importación"}
    by_service = services.create_customer(data=client_data(**same, tax_id=valid_cif(31)), by=owner)
    clean = validate_customer(client_data(**same, tax_id=valid_cif(32)), instance=None)
    batch = Import.objects.create(file_name="clientes.csv", created_by=owner)
    # when the bulk writer writes its one
    with transaction.atomic():
        context = writing.Context.of(batch, owner)
        items = [(2, clean, {})]
        writing.write(writing.prepare(items, writing.reserve(items, context.company), context))
    in_bulk = Customer.objects.get(tax_id=valid_cif(32))
    by_service.refresh_from_db()
    # then every field is the same but for those that tell the two apart
    apart = {"id", "code", "tax_id", "search_text", "created_at", "updated_at", "reviewed_at"}
    fields = [f.attname for f in Customer._meta.concrete_fields if f.attname not in apart]
    assert {n: getattr(in_bulk, n) for n in fields} == {n: getattr(by_service, n) for n in fields}
    assert in_bulk.payment_terms_days == 45 and in_bulk.client_since is not None
    assert in_bulk.search_text == in_bulk.build_search_text()


def test_ids_taken_for_a_chunk_stay_taken_once_committed(owner: Any) -> None:
    # given three customer ids taken for a chunk, in a transaction that commits
    from django.db import transaction

    from cartera.transfer.writing import table
    from tests.conftest import make_customer

    with transaction.atomic():
        taken = table(Customer, with_id=True).reserve_ids(3)
    # when someone else creates a customer before the chunk is written
    other = make_customer(owner)
    # then it gets an id after them
    assert len(set(taken)) == 3 and other.pk > max(taken)


@pytest.fixture
def helper_made(monkeypatch: Any) -> list[str]:
    """Chunks of two rows, each made in the import's helper process whatever the file's size;
    what made each chunk ("helper", or "here" once the helper is lost)."""
    from concurrent.futures import Future

    from cartera.transfer import parallel, pipeline

    monkeypatch.setattr(pipeline, "CHUNK", 2)
    monkeypatch.setattr(parallel, "START_AFTER", 0)
    monkeypatch.setattr("django.conf.settings.CARTERA_IMPORT_WORKERS", 1)
    made: list[str] = []
    submit = parallel.Preparer.submit

    def watched(self: parallel.Preparer, *args: Any) -> Any:
        handle = submit(self, *args)
        made.append("helper" if isinstance(handle, Future) else "here")
        return handle

    monkeypatch.setattr(parallel.Preparer, "submit", watched)
    return made


def test_chunks_made_by_a_helper_process_keep_the_user_s_language(
    owner: Any, helper_made: list[str], caplog: Any
) -> None:
    # given a file of five customers, imported two rows at a time by a user who reads English,
    # each chunk made in a helper process while the chunk before is written
    from django.utils import translation

    rows = [SPANISH_HEADERS, *[spanish_row(i) for i in range(1, 6)]]
    # when it is imported
    with translation.override("en"):
        batch = imported("five.csv", csv_bytes(rows), owner)
    # then every customer is written once, with consecutive codes: the first chunk made here
    # while the helper started, the others by the helper, which went on to the end
    assert helper_made == ["here", "helper", "helper"]
    assert "helper process stopped" not in caplog.text
    assert (batch.created_count, batch.skipped_count) == (5, 0), batch.errors
    created = Customer.objects.filter(legal_name__startswith="Suministros Número")
    codes = sorted(created.values_list("code", flat=True))
    assert len(codes) == 5 and int(codes[-1][-6:]) - int(codes[0][-6:]) == 4
    # and its history names its address's country in the user's language
    for customer in created:
        assert customer.search_text == customer.build_search_text()
        event = AuditEvent.objects.get(customer_id=customer.pk, action=Action.IMPORT)
        assert event.source == "import"
        assert event.changes["addresses"][1][0].endswith("Spain"), event.changes["addresses"]
        assert TimelineEntry.objects.filter(customer=customer).count() == 2


def test_a_lost_helper_leaves_its_chunks_to_the_import_s_process(
    owner: Any, helper_made: list[str], monkeypatch: Any
) -> None:
    # given a helper process that dies once it has been handed the first chunk
    import os
    import signal

    from cartera.transfer import parallel

    submit = parallel.Preparer.submit

    def then_killed(self: parallel.Preparer, *args: Any) -> Any:
        handle = submit(self, *args)
        if self.pool is not None and not isinstance(handle, tuple):
            for process in list(self.pool._processes.values()):
                os.kill(process.pid, signal.SIGKILL)
        return handle

    monkeypatch.setattr(parallel.Preparer, "submit", then_killed)
    rows = [SPANISH_HEADERS, *[spanish_row(i) for i in range(1, 6)]]
    # when a file is imported, then its chunks are made here instead, and all are written
    batch = imported("five.csv", csv_bytes(rows), owner)
    assert helper_made == ["here", "helper", "here"]
    assert (batch.created_count, batch.skipped_count) == (5, 0), batch.errors
    assert AuditEvent.objects.filter(action=Action.IMPORT, customer_id__isnull=False).count() == 5


def test_a_chunk_another_run_wrote_takes_no_codes(owner: Any, monkeypatch: Any) -> None:
    # given a file of four rows in chunks of two, and another run that writes the first chunk
    # (its next row recorded) while this run looks it up again
    from cartera.core.models import Sequence
    from cartera.transfer import checked, pipeline
    from cartera.transfer.models import Import

    monkeypatch.setattr(pipeline, "CHUNK", 2)
    recheck = checked.recheck

    def written_meanwhile(rows: Any) -> Any:
        if rows and rows[0][0] == 2:  # the first chunk (row 1 is the headers)
            Import.objects.update(next_row=4)
        return recheck(rows)

    monkeypatch.setattr(checked, "recheck", written_meanwhile)
    rows = [SPANISH_HEADERS, *[spanish_row(i) for i in range(1, 5)]]
    before = Sequence.objects.filter(key__startswith="customer").first()
    # when this run imports the file
    batch = imported("four.csv", csv_bytes(rows), owner)
    # then it writes only the second chunk, and takes codes for its two customers alone
    assert batch.created_count == 2, batch.errors
    series = Sequence.objects.get(key__startswith="customer")
    assert series.next_value - (before.next_value if before else 1) == 2


def test_with_an_update_policy_a_chunk_sees_what_the_chunk_before_updated(
    owner: Any, monkeypatch: Any
) -> None:
    # given a customer of the register, and a file whose first row (its tax id) gives it a new
    # e-mail, and whose second row, in the next chunk, has that e-mail and another tax id
    from cartera.transfer import pipeline
    from tests.conftest import make_customer

    monkeypatch.setattr(pipeline, "CHUNK", 1)
    existing = make_customer(owner, tax_id=spanish_row(1)[1], channels=[
        {"type": "email", "value": "antes@cliente.example"}])  # fmt: skip
    rows = [SPANISH_HEADERS, spanish_row(1, email="nuevo@cliente.example"),
            spanish_row(2, email="nuevo@cliente.example")]  # fmt: skip
    # when it is imported, updating the empty fields of existing customers
    batch = imported("two.csv", csv_bytes(rows), owner, policy="update_empty")
    # then the second row updates the same customer instead of creating another
    assert (batch.created_count, batch.updated_count, batch.skipped_count) == (0, 1, 1)
    assert Customer.objects.count() == 1
    assert existing.channels.filter(value="nuevo@cliente.example").exists()


def test_a_cancel_while_a_chunk_is_in_the_helper_leaves_it_unwritten(
    owner: Any, helper_made: list[str], monkeypatch: Any
) -> None:
    # given a file of ten customers in chunks of two, each made in the helper process while
    # the chunk before is written, and a cancel asked once the second chunk is written, when
    # the third is already in the helper with its codes taken
    from cartera.core.models import Sequence
    from cartera.transfer import pipeline, services
    from cartera.transfer.models import Import, ImportStatus

    write_pending = pipeline._write_pending
    written: list[int] = []

    def then_cancelled(batch: Import, *args: Any, **kwargs: Any) -> None:
        write_pending(batch, *args, **kwargs)
        written.append(batch.next_row)
        if len(written) == 2:  # as the page's button does: the import as stored
            services.cancel(batch=Import.objects.get(pk=batch.pk), by=owner)

    monkeypatch.setattr(pipeline, "_write_pending", then_cancelled)
    rows = [SPANISH_HEADERS, *[spanish_row(i) for i in range(1, 11)]]
    series_before = Sequence.objects.filter(key__startswith="customer").first()
    # when it is imported
    batch = imported("ten.csv", csv_bytes(rows), owner)
    # then it stops cancelled after whole chunks: the two written, not the one in the helper
    assert batch.status == ImportStatus.CANCELLED
    assert helper_made == ["here", "helper", "helper"]
    assert written == [4, 6] and batch.next_row == 6
    assert batch.created_count == 4
    created = Customer.objects.filter(legal_name__startswith="Suministros Número")
    assert sorted(c.legal_name for c in created) == [f"Suministros Número {i} SL"
                                                     for i in (1, 2, 3, 4)]  # fmt: skip
    # and the helper's chunk took its two codes, which no customer has: a gap
    series = Sequence.objects.get(key__startswith="customer")
    assert series.next_value - (series_before.next_value if series_before else 1) == 6
    # and undoing the cancelled import deletes exactly what it wrote
    assert services.undo(batch=batch, by=owner) == 4
    assert not created.all().exists()
