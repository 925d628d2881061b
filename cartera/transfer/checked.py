"""The check's results, kept for the run: the import does not validate the rows again.

The check (dry run) writes every chunk's checked rows (the validator's clean data, the row's
data, the duplicate found) to a file next to the upload, signed with the site's secret key.
The run reads them back instead of reading and validating the spreadsheet a second time, as
long as nothing they depend on changed since: the same file (SHA-256 of its bytes), mapping
and user, and the same lists the validator reads (legal forms, fiscal types, custom fields,
users). Otherwise the run checks the rows again itself.

What the register may have gained between the check and the run is looked up again for each
chunk, set-based: customers holding a row's tax id, e-mail or phone.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import pickle
import tempfile
from collections.abc import Iterator
from typing import IO, Any

from django.conf import settings
from django.core.files import File

from cartera.accounts.models import User
from cartera.customers.models import (
    ChannelType,
    CustomField,
    FiscalType,
    LegalForm,
)
from cartera.transfer.duplicates import Match, channel_owners, holding_tax_ids
from cartera.transfer.models import Import

Stored = tuple[int, Any, dict[str, Any], Match | None]  # row, clean (None: invalid), data, match


def _file_digest(batch: Import) -> str:
    digest = hashlib.sha256()
    with batch.file.open("rb") as stream:
        while block := stream.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(batch: Import, by: User) -> str:
    """What the check's results depend on, besides the register's customers."""
    lists = [
        sorted(LegalForm.objects.filter(is_active=True).values_list("id", "country", "code")),
        sorted(FiscalType.objects.filter(is_active=True).values_list("id", "code", "kind")),
        sorted(
            CustomField.objects.filter(is_active=True).values_list(
                "key", "field_type", "required", "choices"
            )
        ),
        sorted(User.objects.filter(is_active=True).values_list("id", "role", "username")),
    ]
    options = {k: v for k, v in batch.options.items() if k != "checked"}
    text = json.dumps([_file_digest(batch), batch.mapping, options, by.pk, lists], default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _sign(stream: IO[bytes]) -> str:
    mac = hmac.new(settings.SECRET_KEY.encode(), digestmod=hashlib.sha256)
    stream.seek(0)
    while block := stream.read(1024 * 1024):
        mac.update(block)
    return mac.hexdigest()


class Writer:
    """Collects the check's chunks in a temporary file; ``save`` keeps it with the import."""

    def __init__(self) -> None:
        self.stream = tempfile.TemporaryFile()  # noqa: SIM115 - closed by save/discard

    def add(self, next_row: int, rows: list[Stored]) -> None:
        pickle.dump((next_row, rows), self.stream, protocol=pickle.HIGHEST_PROTOCOL)

    def save(self, batch: Import, by: User) -> dict[str, str]:
        """Store the file; what ``batch.options["checked"]`` must say to find and trust it."""
        try:
            signature = _sign(self.stream)
            self.stream.seek(0)
            storage = batch.file.storage
            name = storage.save(f"imports/checked/check-{batch.pk}.bin", File(self.stream))
        finally:
            self.stream.close()
        return {"name": name, "signature": signature, "fingerprint": fingerprint(batch, by)}

    def discard(self) -> None:
        self.stream.close()


def forget(batch: Import) -> None:
    """Delete the stored results of an earlier check, if any."""
    name = (batch.options or {}).get("checked", {}).get("name")
    if name:
        batch.file.storage.delete(name)


def read(batch: Import, by: User) -> Iterator[tuple[int, list[Stored]]] | None:
    """The check's (next row, rows) chunks, or None when they cannot be trusted any more."""
    kept = (batch.options or {}).get("checked") or {}
    storage = batch.file.storage
    if not kept.get("name") or not storage.exists(kept["name"]):
        return None
    if kept.get("fingerprint") != fingerprint(batch, by):
        return None
    with storage.open(kept["name"], "rb") as stream:
        if not hmac.compare_digest(_sign(stream), str(kept.get("signature", ""))):
            return None
    return _chunks(batch, kept["name"])


def _chunks(batch: Import, name: str) -> Iterator[tuple[int, list[Stored]]]:
    with batch.file.storage.open(name, "rb") as stream:
        while True:
            try:
                yield pickle.load(stream)  # noqa: S301 - signed above
            except EOFError:
                return


def recheck(rows: list[Stored]) -> list[Stored]:
    """The rows, with a match for those whose tax id, e-mail or phone a customer of the
    register has taken since the check (one query for each kind of key)."""
    open_rows = [r for r in rows if r[1] is not None and r[3] is None]
    tax_ids = {str(r[1].fields.get("tax_id") or "") for r in open_rows} - {""}
    holders = holding_tax_ids(tax_ids)
    channels = [c for r in open_rows for c in r[1].channels or []]
    owners = channel_owners(
        emails={str(c["value"]).lower() for c in channels if c["type"] == ChannelType.EMAIL},
        phones={str(c["value"]) for c in channels if c["type"] == ChannelType.PHONE},
    )
    if not holders and not owners:
        return rows
    out = []
    for row, clean, data, match in rows:
        if clean is not None and match is None:
            match = _match(clean, holders, owners)
        out.append((row, clean, data, match))
    return out


def _match(
    clean: Any, holders: dict[tuple[str, str], int], owners: dict[tuple[str, str], int]
) -> Match | None:
    tax = (str(clean.fields.get("tax_country") or ""), str(clean.fields.get("tax_id") or ""))
    if tax[1] and tax in holders:
        return Match("tax_id", tax[1], customer_id=holders[tax])
    for channel in clean.channels or []:
        kind = channel["type"]
        value = str(channel["value"]).lower() if kind == "email" else str(channel["value"])
        if (kind, value) in owners:
            return Match(kind, value, customer_id=owners[(kind, value)])
    return None
