"""No file, however malformed, crashes the importer: it is read, or an error is reported."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cartera.accounts.models import Role, User
from cartera.transfer import services
from cartera.transfer.models import ImportStatus
from tests.transfer.files import upload

pytestmark = pytest.mark.django_db

FIELD = st.one_of(
    st.text(max_size=30),
    st.sampled_from(['"', '""', '"a;b', "\x00", "a\nb", "=1+1", "😀", "\r", ";;;", ","]),
    st.just("x" * 200_000),  # past the CSV field limit
)
ROW = st.lists(FIELD, max_size=8).map(lambda cells: ";".join(cells))
CSV_TEXT = st.lists(ROW, min_size=1, max_size=12).map(lambda rows: "\n".join(rows))
CONTENT = st.one_of(
    st.binary(max_size=2000),
    CSV_TEXT.map(lambda t: t.encode("utf-8", errors="surrogatepass")),
    CSV_TEXT.map(lambda t: t.encode("cp1252", errors="replace")),
    st.binary(max_size=500).map(lambda b: b"PK\x03\x04" + b),  # broken XLSX/ODS
)


def _user() -> User:
    user, _created = User.objects.get_or_create(username="fuzz", defaults={"role": Role.ADMIN})
    return user


SLOW_OK = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@settings(max_examples=120, deadline=None, suppress_health_check=SLOW_OK)
@given(content=CONTENT, name=st.sampled_from(["a.csv", "a.xlsx", "a.ods", "a.txt"]))
def test_no_file_crashes_the_importer(content: bytes, name: str) -> None:
    by = _user()
    try:
        batch = services.create_import(file=upload(name, content), name=name, by=by)
    except services.ImportInvalid as exc:
        assert exc.messages_by_field["file"]  # refused with a reason
        return
    columns = {str(i): "legal_name" for i in range(1)}
    try:
        services.set_mapping(batch=batch, mapping=columns, by=by)
    except services.ImportInvalid:
        return
    services.check_now(batch)
    assert batch.status in (ImportStatus.CHECKED, ImportStatus.FAILED)
    if batch.status == ImportStatus.FAILED:
        assert batch.message
    else:
        batch.status = ImportStatus.QUEUED
        batch.save(update_fields=["status"])
        services.run_now(batch)
        assert batch.status in (ImportStatus.DONE, ImportStatus.FAILED)


def test_nul_bytes_and_broken_quotes_are_errors_not_crashes(owner: Any) -> None:
    content = b'Raz\xf3n social;NIF\n"Abierta;B12345674\nCon\x00nulo;X\n'
    batch = services.create_import(file=upload("a.csv", content), name="a.csv", by=owner)
    services.check_now(batch)
    assert batch.status in (ImportStatus.CHECKED, ImportStatus.FAILED)


def test_huge_field_is_reported_with_its_row(owner: Any) -> None:
    content = b"Nombre;NIF\nUno;X\n" + b"a" * 150_000 + b";X\n"
    batch = services.create_import(file=upload("a.csv", io.BytesIO(content).read()), name="a.csv",
                                   by=owner)  # fmt: skip
    services.check_now(batch)
    assert batch.status == ImportStatus.FAILED and "3" in batch.message


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("informe.pdf", b"%PDF-1.4\nRaz\xc3\xb3n social\n"),
        ("notas.txt", bytes(range(256)) * 4),
        ("clientes.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(32)) * 20),
    ],
)
def test_what_is_not_a_spreadsheet_nor_text_is_refused_on_upload(
    owner: Any, name: str, content: bytes
) -> None:
    # when a file that is neither a spreadsheet nor a text file is uploaded
    with pytest.raises(services.ImportInvalid) as refused:
        services.create_import(file=upload(name, content), name=name, by=owner)

    # then it is refused, saying what is accepted
    assert refused.value.messages_by_field == {"file": ["Sube un archivo CSV, XLSX u ODS."]}


def test_a_utf_16_csv_is_read(owner: Any) -> None:
    # given a CSV saved as UTF-16 ("Unicode text" in a spreadsheet), with its mark
    text = "Razón social\tCorreo electrónico\nÑandú Hermanos SL\tcompras@nandu.example\n"
    content = text.encode("utf-16")

    # when it is uploaded and checked
    batch = services.create_import(file=upload("a.txt", content), name="a.txt", by=owner)
    services.set_mapping(batch=batch, mapping={"0": "legal_name", "1": "email"}, by=owner)
    services.check_now(batch)

    # then its headers and cells read as written
    assert batch.headers == ["Razón social", "Correo electrónico"]
    assert (batch.status, batch.valid_rows) == (ImportStatus.CHECKED, 1)


def test_an_unreadable_row_is_explained_without_the_library_s_english(owner: Any) -> None:
    content = b"Nombre;NIF\nUno;X\n" + b"a" * 150_000 + b";X\n"
    batch = services.create_import(file=upload("a.csv", content), name="a.csv", by=owner)
    services.check_now(batch)
    assert batch.message == ("No se puede leer la fila 3: una celda tiene más de 100000 caracteres")
