"""Importing real files: encodings, delimiters, XLSX and ODS, errors, duplicates, policies, undo."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from cartera.activities.models import EntryKind, LifecycleChange, TimelineEntry
from cartera.audit.models import Action, AuditEvent
from cartera.customers import segments
from cartera.customers.models import Customer
from cartera.customers.services import update_customer
from cartera.transfer import reading, services
from cartera.transfer.fields import as_number, guess_mapping
from cartera.transfer.models import ImportStatus
from tests.conftest import client_for, make_customer, valid_cif
from tests.transfer.files import (
    SPANISH_HEADERS,
    csv_bytes,
    ods_bytes,
    spanish_row,
    upload,
    xlsx_bytes,
)
from tests.transfer.helpers import imported

pytestmark = pytest.mark.django_db


def test_windows_1252_semicolon_csv_with_spanish_headers(owner: Any) -> None:
    # given a file as Excel for Spain saves it: Windows-1252, ";" and decimal commas
    content = csv_bytes([SPANISH_HEADERS, spanish_row(1), spanish_row(2)], encoding="cp1252")
    assert "ñ".encode("cp1252") in content
    # when it is imported
    batch = imported("clientes.csv", content, owner)
    # then the file was read as it is, and both customers exist with their accents
    assert batch.options["encoding"] == "cp1252" and batch.options["delimiter"] == ";"
    assert batch.status == ImportStatus.DONE and batch.created_count == 2, batch.errors
    customer = Customer.objects.get(tax_id=valid_cif(3000001))
    assert customer.legal_name == "Suministros Número 1 SL"
    assert customer.annual_revenue == Decimal("1234.56")
    assert customer.client_since == datetime.date(2024, 2, 1)
    assert customer.stage == "client" and customer.owner == owner
    assert customer.addresses.get().street == "Calle Ñandú 1"
    assert customer.addresses.get().region == "ES-M"
    assert {c.value for c in customer.channels.all()} == {
        "+34610000001",
        "compras1@cliente1.example",
    }
    assert customer.code and "numero" in customer.search_text


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1"])
@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_any_encoding_and_delimiter(encoding: str, delimiter: str) -> None:
    content = csv_bytes([["Razón social", "Población"], ["Peña €", "Móstoles"]],
                        encoding="latin-1" if encoding == "latin-1" else encoding,
                        delimiter=delimiter) if encoding != "latin-1" else csv_bytes(
        [["Razón social", "Población"], ["Peña", "Móstoles"]], encoding="latin-1",
        delimiter=delimiter)  # fmt: skip
    stream = upload("f.csv", content)
    options = reading.inspect(stream, "f.csv")
    assert options.delimiter == delimiter
    rows = list(reading.rows(stream, options))
    assert rows[0] == (1, ["Razón social", "Población"])
    assert rows[1][1][1] == "Móstoles" and rows[1][1][0].startswith("Peña")


def test_headers_recognised_in_spanish_and_english() -> None:
    headers = ["RAZON SOCIAL", "cif", "Móvil", "E-mail", "Código postal", "Localidad",
               "Municipio", "Estado", "país", "Comercial", "Observaciones", "Etapa", "Tipo",
               "Web", "RFC", "Nada que ver"]  # fmt: skip
    mapping = guess_mapping(headers)
    assert mapping == {
        "0": "legal_name",
        "1": "tax_id",
        "2": "mobile",
        "3": "email",
        "4": "postal_code",
        "5": "locality",
        "6": "municipality",
        "7": "region",
        "8": "country",
        "9": "owner",
        "10": "notes",
        "11": "stage",
        "12": "fiscal_type",
        "13": "website",
    }  # fmt: skip (the second tax id column "RFC" is left for the user)
    # the customer's name under the names spreadsheets give it
    for header in ("Nombre cliente", "Nombre del cliente", "Customer name"):
        assert guess_mapping([header, "NIF"]) == {"0": "legal_name", "1": "tax_id"}, header


def test_numbers_written_either_way() -> None:
    assert as_number("1.234,56", ",") == Decimal("1234.56")
    assert as_number("1,234.56", ",") == Decimal("1234.56")
    assert as_number("1234,5", ".") == Decimal("1234.5")
    assert as_number("12.000", ",") == Decimal("12000")
    assert as_number(1234.5, ",") == Decimal("1234.5")


def test_xlsx_with_dates_and_numbers_as_excel_stores_them(owner: Any) -> None:
    # given an XLSX whose postal code, phone and revenue are numbers and its date a date cell
    since = datetime.date(2023, 12, 31)
    row = spanish_row(5, postal=8001, phone=610000005, revenue=2500.75, since=since,
                      town="Barcelona", province="Barcelona")  # fmt: skip
    content = xlsx_bytes([SPANISH_HEADERS, row])
    # when it is imported
    batch = imported("clientes.xlsx", content, owner)
    # then the numbers lost nothing (the leading zero of the postal code is back)
    assert batch.options["format"] == "xlsx"
    assert batch.created_count == 1, batch.errors
    customer = Customer.objects.get(tax_id=valid_cif(3000005))
    assert customer.client_since == datetime.date(2023, 12, 31)
    assert customer.annual_revenue == Decimal("2500.75")
    assert customer.addresses.get().postal_code == "08001"
    assert customer.channels.filter(value="+34610000005").exists()


def test_ods_read_by_calamine(owner: Any) -> None:
    content = ods_bytes([SPANISH_HEADERS, spanish_row(6, phone=610000006)])
    batch = imported("clientes.ods", content, owner)
    assert batch.options["format"] == "ods"
    assert batch.created_count == 1, (batch.message, batch.errors)


def test_bad_rows_and_duplicates_in_the_file(owner: Any) -> None:
    # given 40 rows: 2 bad (5%), and 2 that repeat an earlier row's e-mail or tax id
    rows = [SPANISH_HEADERS] + [spanish_row(i) for i in range(40)]
    rows[4] = spanish_row(3, tax_id="B12345670")  # wrong check digit
    rows[9] = spanish_row(8, email="sin-arroba", since="31/02/2024")
    rows[20] = spanish_row(19, email=rows[2][3])  # the e-mail of row 3 of the sheet
    rows[30] = spanish_row(29, tax_id=rows[5][1])  # the tax id of row 6
    # when it is checked
    batch = imported("lote.csv", csv_bytes(rows), owner, dry_run=True)
    # then each problem names its row, column, value and reason, and nothing was written
    assert (batch.total_rows, batch.invalid_rows, batch.duplicate_rows) == (40, 2, 2)
    assert Customer.objects.count() == 0
    found = {(e["row"], e["column"], e["value"]) for e in batch.errors}
    assert (5, "NIF", "B12345670") in found
    assert (10, "Correo electrónico", "sin-arroba") in found
    assert (10, "Cliente desde", "31/02/2024") in found
    assert {(d["row"], d["kind"], d["file_row"]) for d in batch.duplicates} == {
        (21, "email", 3),
        (31, "tax_id", 6),
    }
    # and the file of invalid rows has them with their errors, ready to fix
    text = batch.error_file.open("rb").read().decode("utf-8-sig")
    assert text.count("\n") == 3 and "B12345670" in text and "sin-arroba" in text


def test_run_skips_invalid_rows_and_duplicates(owner: Any) -> None:
    rows = [SPANISH_HEADERS, spanish_row(1), spanish_row(2, tax_id="X"), spanish_row(1)]
    batch = imported("a.csv", csv_bytes(rows), owner)
    assert (batch.created_count, batch.skipped_count) == (1, 2)
    customer = Customer.objects.get()
    # the history, the lifecycle and the timeline tell where it came from
    event = AuditEvent.objects.get(customer_id=customer.pk, action=Action.IMPORT)
    assert event.source == "import" and event.changes["import"] == [None, "a.csv"]
    assert LifecycleChange.objects.get(customer=customer).new_value == "client"
    entry = TimelineEntry.objects.get(customer=customer, kind=EntryKind.IMPORT)
    assert entry.data == {"file": "a.csv", "import": batch.pk}
    # and the planner's statistics are refreshed after it, by the worker
    queued = DBTaskResult.objects.filter(task_path__endswith=".refresh_statistics_job")
    assert queued.count() == 1


def test_legal_form_column_by_code_or_name_of_the_row_s_country(owner: Any) -> None:
    # given a file with a legal form column: a code, a name, and one the register lacks
    rows = [["Razón social", "Forma jurídica", "Correo electrónico", "País", "Etapa"],
            ["Prueba Forma SL", "sl", "forma@uno.example", "España", "Lead"],
            ["Prueba Anónima", "Sociedad Anónima", "forma@dos.example", "España", "Lead"],
            ["Prueba Rara", "Sociedad inventada", "forma@tres.example", "España",
             "Lead"],
            ["Sin País SL", "SL", "forma@cuatro.example", "", "Lead"]]  # fmt: skip

    # when it is checked and imported
    batch = imported("formas.csv", csv_bytes(rows), owner)

    # then the forms the register knows are set, and the other one is an error on its row
    assert batch.status == ImportStatus.DONE, batch.message
    forms = dict(Customer.objects.values_list("legal_name", "legal_form__code"))
    assert forms == {"Prueba Forma SL": "SL", "Prueba Anónima": "SA", "Sin País SL": "SL"}
    error = batch.errors[0]
    assert (error["row"], error["column"], error["value"]) == (4, "Forma jurídica",
                                                              "Sociedad inventada")  # fmt: skip
    assert error["message"] == "No hay ninguna forma jurídica llamada «Sociedad inventada»."
    assert (batch.created_count, batch.skipped_count) == (3, 1)


def test_a_customer_the_importer_cannot_see_is_never_named(
    team_visibility: Any, owner: Any, outsider: Any
) -> None:
    # given a customer of another team, which the salesperson importing may not see
    hidden = make_customer(outsider, legal_name="Secretos Ajenos SL", tax_id=valid_cif(3000001))
    assert not Customer.objects.visible_to(owner).filter(pk=hidden.pk).exists()

    # when a row of their file holds its tax id and, besides, a wrong e-mail
    rows = [SPANISH_HEADERS, spanish_row(1, email="no es un correo")]
    batch = imported("a.csv", csv_bytes(rows), owner, dry_run=True)

    # then the row's errors give the tax id's holder by its code alone, never by its name
    messages = " ".join(e["message"] for e in batch.errors)
    assert hidden.code in messages and "Secretos" not in messages
    assert "Secretos" not in batch.error_file.open("rb").read().decode("utf-8-sig")


def test_texts_longer_than_their_column_are_row_errors(owner: Any) -> None:
    # given a file whose second row has a legal name and a street longer than the register holds
    long_name, long_street = "Nombre Larguísimo " * 20, "Calle " + "Mayor " * 100
    rows = [SPANISH_HEADERS, spanish_row(1), spanish_row(2, name=long_name, street=long_street)]

    # when it is checked and imported
    batch = imported("a.csv", csv_bytes(rows), owner)

    # then that row is refused, naming each column and its limit, and the other is created
    found = {e["column"]: e["message"] for e in batch.errors if e["row"] == 3}
    assert set(found) == {"Razón social", "Dirección"}
    assert (
        found["Razón social"]
        == f"Escribe como máximo 200 caracteres (este tiene {len(long_name.strip())})."
    )
    assert (batch.created_count, batch.skipped_count) == (1, 1)


def test_the_error_file_runs_no_formula(owner: Any) -> None:
    # given a file whose header and cells a spreadsheet would run as formulas
    headers = ["Razón social", "Correo electrónico", "Facturación anual", "=cmd|' /C calc'!A0"]
    rows = [headers, ["-2+3+cmd|' /C calc'!A0", "no es un correo", "-5", "=1+HYPERLINK(\"x\")"],
            ["@SUM(A1)", "+34 no", "12,5", "+1"]]  # fmt: skip

    # when it is checked
    batch = imported("a.csv", csv_bytes(rows), owner, dry_run=True)

    # then in the error file each such text starts with an apostrophe, numbers stay numbers
    text = batch.error_file.open("rb").read().decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert lines[0][3] == "'=cmd|' /C calc'!A0"
    assert lines[1][0] == "'-2+3+cmd|' /C calc'!A0" and lines[1][2] == "-5"
    assert lines[1][3].startswith("'=1+HYPERLINK")
    assert lines[2][0] == "'@SUM(A1)" and lines[2][2] == "12,5"


@pytest.mark.parametrize(
    ("mapping", "field", "message"),
    [
        ({"²": "legal_name"}, "mapping", "No hay columna ²."),
        ({"9" * 5000: "legal_name"}, "mapping", "No hay columna " + "9" * 20 + "."),
        ({"0": "legal_name", "00": "trade_name"}, "mapping.0",
         "La columna «Razón social» aparece dos veces."),
        ({"0": "legal_name", "1": "legal_name"}, "mapping.1",
         "«Razón social» y «NIF» no pueden rellenar el mismo campo."),
        ({"0": "legal_name", "1": "nonsense"}, "mapping.1",
         "Columna «NIF»: elige un campo de la lista."),
    ],
)  # fmt: skip
def test_a_wrong_mapping_names_its_columns(
    owner: Any, mapping: dict[str, str], field: str, message: str
) -> None:
    # given an uploaded file
    batch = services.create_import(
        file=upload("a.csv", csv_bytes([SPANISH_HEADERS, spanish_row(1)])), name="a.csv", by=owner
    )

    # when its columns are set wrongly
    with pytest.raises(services.ImportInvalid) as refused:
        services.set_mapping(batch=batch, mapping=mapping, by=owner)

    # then the error names the column (by its header), and nothing is kept
    assert refused.value.messages_by_field == {field: [message]}
    batch.refresh_from_db()
    assert batch.mapping != mapping


def test_duplicate_of_the_register_policies(owner: Any) -> None:
    # given a customer of the register without notes, and a file with its e-mail
    existing = make_customer(
        owner, channels=[{"type": "email", "value": "compras1@cliente1.example"}]
    )
    rows = [SPANISH_HEADERS, spanish_row(1)]
    # skip: nothing changes
    batch = imported("a.csv", csv_bytes(rows), owner)
    assert batch.duplicates[0]["customer"] == existing.pk and batch.duplicates[0]["kind"] == "email"
    assert (batch.created_count, batch.skipped_count) == (0, 1)
    # update only empty fields: the notes are filled in, the legal name stays
    batch = imported("a.csv", csv_bytes(rows), owner, policy="update_empty")
    existing.refresh_from_db()
    assert batch.updated_count == 1
    assert existing.notes == "Llamar por la tarde" and existing.legal_name == "Muñoz y Asociados SL"
    # overwrite: the legal name too
    batch = imported("a.csv", csv_bytes(rows), owner, policy="overwrite")
    existing.refresh_from_db()
    assert existing.legal_name == "Suministros Número 1 SL"


def test_an_update_does_not_add_a_phone_the_customer_has_written_otherwise(owner: Any) -> None:
    # given a customer with the row's e-mail and phone, the phone written another way
    existing = make_customer(owner, channels=[
        {"type": "email", "value": "compras1@cliente1.example"},
        {"type": "phone", "value": "+34 610 00 00 01"},
    ])  # fmt: skip
    rows = [SPANISH_HEADERS, spanish_row(1, phone="610 000 001"), spanish_row(2)]

    # when the file updates it
    batch = imported("a.csv", csv_bytes(rows), owner, policy="update_empty")

    # then it keeps one phone and one e-mail, and gets the notes it lacked
    assert batch.updated_count == 1
    values = sorted(existing.channels.values_list("value", flat=True))
    assert values == ["+34610000001", "compras1@cliente1.example"]
    existing.refresh_from_db()
    assert existing.notes == "Llamar por la tarde"


def test_an_update_the_register_refuses_is_skipped_with_its_reason(owner: Any) -> None:
    # given a client of the register, and a file that would take it back to lead
    existing = make_customer(
        owner, channels=[{"type": "email", "value": "compras1@cliente1.example"}]
    )
    assert existing.stage == "client"
    rows = [SPANISH_HEADERS, spanish_row(1, stage="Lead")]

    # when the file overwrites the customers it duplicates
    batch = imported("a.csv", csv_bytes(rows), owner, policy="overwrite")

    # then the row is skipped, and the import says which row and why
    assert (batch.updated_count, batch.skipped_count) == (0, 1)
    [error] = batch.options["refused"]
    assert error["row"] == 2
    assert error["message"].startswith(f"Cliente {existing.code} no actualizado. Etapa: ")
    page = client_for(owner).get(f"/import/{batch.pk}/").content.decode()
    assert 'id="import-refused"' in page and f"Cliente {existing.code} no actualizado" in page
    existing.refresh_from_db()
    assert existing.stage == "client" and existing.legal_name == "Muñoz y Asociados SL"


def test_same_tax_id_is_a_duplicate_never_created_twice(owner: Any) -> None:
    make_customer(owner, tax_id=valid_cif(3000001))
    batch = imported("a.csv", csv_bytes([SPANISH_HEADERS, spanish_row(1)]), owner,
                     policy="create")  # fmt: skip
    assert batch.duplicate_rows == 1 and batch.duplicates[0]["kind"] == "tax_id"
    assert (batch.created_count, batch.skipped_count) == (0, 1)


def test_similar_name_in_the_same_municipality(owner: Any) -> None:
    make_customer(owner, legal_name="Talleres Mecánicos Ruiz SL", tax_id="", stage="lead")
    rows = [
        SPANISH_HEADERS,
        spanish_row(1, name="TALLERES MECANICOS RUIZ, S.L.", tax_id="", stage="Lead"),
    ]
    batch = imported("a.csv", csv_bytes(rows), owner, dry_run=True)
    assert [d["kind"] for d in batch.duplicates] == ["name"]


def test_owner_column_by_username_or_name(owner: Any, manager: Any, teammate: Any) -> None:
    rows = [[*SPANISH_HEADERS, "Comercial"], [*spanish_row(1), "tomas"],
            [*spanish_row(2), "Olga"], [*spanish_row(3), "nadie"]]  # fmt: skip
    batch = imported("a.csv", csv_bytes(rows), manager)
    owners = dict(Customer.objects.values_list("tax_id", "owner__username"))
    assert owners == {valid_cif(3000001): "tomas", valid_cif(3000002): "olga"}
    assert batch.errors[0]["row"] == 4 and batch.errors[0]["column"] == "Comercial"


def test_salesperson_cannot_give_customers_to_others(owner: Any, teammate: Any) -> None:
    rows = [[*SPANISH_HEADERS, "Comercial"], [*spanish_row(1), "tomas"]]
    batch = imported("a.csv", csv_bytes(rows), owner, dry_run=True)
    assert batch.invalid_rows == 1 and batch.errors[0]["column"] == "Comercial"


def test_lookups_are_set_based(owner: Any) -> None:
    """The check costs the same number of queries for 10 rows as for 60."""

    def queries(count: int) -> int:
        rows = [SPANISH_HEADERS] + [spanish_row(i) for i in range(count)]
        batch = services.create_import(file=upload("a.csv", csv_bytes(rows)), name="a.csv",
                                       by=owner)  # fmt: skip
        with CaptureQueriesContext(connection) as captured:
            services.check_now(batch)
        return len(captured)

    queries(1)  # the first check reads what later ones find ready (the company row...)
    assert queries(10) == queries(60)


def test_undo_deletes_untouched_customers_or_refuses(owner: Any) -> None:
    rows = [SPANISH_HEADERS, spanish_row(1), spanish_row(2)]
    batch = imported("a.csv", csv_bytes(rows), owner)
    first = Customer.objects.get(tax_id=valid_cif(3000001))
    update_customer(customer=first, data={"notes": "cambiado"}, by=owner)
    with pytest.raises(services.ImportInvalid, match=first.code):
        services.undo(batch=batch, by=owner)
    assert Customer.objects.count() == 2
    # once the other import is undone, only what it created goes
    other = imported("b.csv", csv_bytes([SPANISH_HEADERS, spanish_row(3)]), owner)
    assert services.undo(batch=other, by=owner) == 1
    assert Customer.objects.count() == 2
    assert AuditEvent.objects.filter(action=Action.DELETE, object_type="customer").count() == 1


def test_unreadable_files_are_reported(owner: Any) -> None:
    with pytest.raises(services.ImportInvalid):
        services.create_import(file=upload("a.xlsx", b"PK\x03\x04garbage"), name="a.xlsx", by=owner)
    with pytest.raises(services.ImportInvalid):
        services.create_import(file=upload("a.csv", b""), name="a.csv", by=owner)


def test_reader_cannot_import(reader: Any) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.create_import(file=upload("a.csv", b"a;b\n1;2\n"), name="a.csv", by=reader)


def test_the_command_speaks_the_user_s_language(owner: Any, tmp_path: Any) -> None:
    # given a file of three rows, one with a mistyped tax id
    from io import StringIO

    from django.core.management import CommandError, call_command
    from django.utils import translation

    rows = [SPANISH_HEADERS, spanish_row(1), spanish_row(2, tax_id="B12345670"), spanish_row(3)]
    path = tmp_path / "clientes.csv"
    path.write_bytes(csv_bytes(rows))
    # when it is imported from the command line, in the default language
    out = StringIO()
    call_command("import", str(path), "--user", owner.username, stdout=out)
    # then the whole report is in Spanish, the row's error included
    text = out.getvalue()
    assert "3 filas comprobadas en" in text and "2 válidas (0 duplicadas), 1 no válidas" in text
    assert "Fila 3, NIF «B12345670»: " in text
    assert "Importado hasta la fila 4" in text and ": 2 creados, 0 actualizados, 1 omitidos" in text
    assert "created" not in text and "row" not in text
    # and in English when that is the language
    with translation.override("en"):
        out = StringIO()
        call_command("import", str(path), "--user", owner.username, "--dry-run", stdout=out)
        assert "Checked 3 rows in" in out.getvalue()
        with pytest.raises(CommandError, match="is not a file"):
            call_command("import", str(tmp_path / "missing.csv"), "--user", owner.username)
    with pytest.raises(CommandError, match="no es un archivo"):
        call_command("import", str(tmp_path / "missing.csv"), "--user", owner.username)


def test_the_column_step_shows_values_and_keeps_what_was_typed(owner: Any) -> None:
    from django.contrib.messages import get_messages

    from tests.conftest import client_for

    # given an uploaded file
    rows = [SPANISH_HEADERS, spanish_row(1), spanish_row(2)]
    batch = services.create_import(file=upload("a.csv", csv_bytes(rows)), name="a.csv", by=owner)
    client = client_for(owner)

    # when its column step is opened, then each column shows its first values
    page = client.get(f"/import/{batch.pk}/").content.decode()
    assert "p. ej. Suministros Número 1 SL, Suministros Número 2 SL" in page

    # when two columns are given one field, then the error names them and the name typed stays
    columns = {f"column-{i}": "" for i in range(len(SPANISH_HEADERS))}
    wrong = {**columns, "column-0": "legal_name", "column-1": "legal_name", "save_as": "Mi hoja"}
    refused = client.post(f"/import/{batch.pk}/mapping/", wrong)
    assert refused.status_code == 422
    assert "«Razón social» y «NIF» no pueden rellenar el mismo campo." in refused.content.decode()
    assert 'value="Mi hoja"' in refused.content.decode()

    # and once right, the columns are saved under that name, and the page says so
    done = client.post(f"/import/{batch.pk}/mapping/", {**wrong, "column-1": "tax_id"})
    assert done.status_code == 302
    said = [str(m) for m in get_messages(done.wsgi_request)]
    assert said == ["Columnas guardadas como «Mi hoja»."]


def test_after_the_check_the_columns_can_be_changed_and_checked_again(owner: Any) -> None:
    from tests.conftest import client_for

    # given a checked file, its notes read as the trade name by mistake
    rows = [SPANISH_HEADERS, spanish_row(1)]
    batch = imported("a.csv", csv_bytes(rows), owner, dry_run=True)
    assert batch.status == ImportStatus.CHECKED
    client = client_for(owner)
    report = client.get(f"/import/{batch.pk}/").content.decode()
    assert 'id="import-change-columns"' in report and 'id="import-mapping"' not in report

    # when the user asks to change the columns, then the column step shows again
    page = client.get(f"/import/{batch.pk}/?columns=1").content.decode()
    assert 'id="import-mapping"' in page

    # and choosing them again queues a new check
    columns = {f"column-{i}": key for i, key in batch.mapping.items()}
    assert client.post(f"/import/{batch.pk}/mapping/", columns).status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportStatus.CHECKING


def test_a_refused_country_is_named_once_under_the_file_s_own_column(owner: Any) -> None:
    # given a file whose only country column is the address's "País", with a tax id
    rows = [["Razón social", "NIF", "País", "Etapa"],
            ["Uno SL", "B12345674", "Narnia", "Lead"]]  # fmt: skip

    # when it is checked
    batch = imported("pais.csv", csv_bytes(rows), owner, dry_run=True)

    # then the country the tax id takes from it is refused once, under that column
    assert [(e["row"], e["column"], e["value"]) for e in batch.errors] == [(2, "País", "Narnia")]
    assert batch.errors[0]["message"] == "Elige un país válido."


def test_an_import_s_customers_open_in_the_list(
    team_visibility: Any, owner: Any, teammate: Any, admin_user: Any
) -> None:
    # given a customer the file updates, one it does not name, and two rows it creates
    existing = make_customer(
        owner, channels=[{"type": "email", "value": "compras1@cliente1.example"}]
    )
    make_customer(owner, legal_name="Ajena al fichero SL", tax_id=valid_cif(77))
    rows = [SPANISH_HEADERS, spanish_row(1), spanish_row(2), spanish_row(3)]
    batch = imported("a.csv", csv_bytes(rows), owner, policy="update_empty")
    assert (batch.created_count, batch.updated_count) == (2, 1)

    # when the importer follows the result's link to the customer list
    page = client_for(owner).get(f"/import/{batch.pk}/").content.decode()
    assert f'href="/customers/?imported={batch.pk}"' in page
    listed = client_for(owner).get(f"/customers/?imported={batch.pk}")

    # then the list holds exactly what the import created and updated, and says so
    names = {c.legal_name for c in listed.context["page"].object_list}
    assert names == {existing.legal_name, "Suministros Número 2 SL", "Suministros Número 3 SL"}
    assert "a.csv · " in listed.content.decode()
    # while the list as it usually opens does not offer the filter, nor read the imports
    with CaptureQueriesContext(connection) as queries:
        plain = client_for(owner).get("/customers/").content.decode()
    assert "Importado de" not in plain and "a.csv · " not in plain
    assert not [q for q in queries.captured_queries if "transfer_import" in q["sql"]]
    # and the API's list and export take the same filter
    api = client_for(owner).get(f"/api/customers?imported={batch.pk}").json()
    assert {c["legal_name"] for c in api["results"]} == names
    refused = client_for(teammate).get(f"/api/customers?imported={batch.pk}")
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["query", "imported"]
    exported = client_for(owner).get(
        f"/api/customers/export?imported={batch.pk}&columns=legal_name"
    )
    lines = b"".join(exported.streaming_content).decode("utf-8-sig").splitlines()[1:]
    assert set(lines) == names
    # and a teammate, who sees those customers but not the import, may not filter by it
    theirs = client_for(teammate).get(f"/customers/?imported={batch.pk}")
    assert "imported" in theirs.context["filter"].errors
    assert "a.csv · " not in theirs.content.decode()
    # while an administrator, who sees every import, may
    admins = client_for(admin_user).get(f"/customers/?imported={batch.pk}")
    assert {c.legal_name for c in admins.context["page"].object_list} == names
    # and a segment of the import, shared, is refused to the teammate as a whole, not widened
    segment = segments.create_segment(
        name="Importados", query=f"imported={batch.pk}", shared=True, by=owner
    )
    theirs = client_for(teammate).get(f"/api/segments/{segment.pk}/customers")
    assert theirs.status_code == 422
    assert theirs.json()["detail"][0]["loc"] == ["segment", "query", "imported"]
    mine = client_for(owner).get(f"/api/segments/{segment.pk}/customers").json()
    assert {c["legal_name"] for c in mine["results"]} == names
