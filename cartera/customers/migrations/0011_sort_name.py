"""The list sorts by ``sort_name``: the name it shows first (the trade name, else the legal
name) without case or accents, ñ after n, compared byte by byte on both databases (a database's
own order puts "Óptica" after "Zapatería" in byte order, and a language's collation would not
keep ñ after n as the key writes it).

Not one transaction: the column is added at once (no table copy on SQLite, no rewrite on
PostgreSQL), then filled in batches, each committed on its own, so that the customers stay
readable while a million of them are filled. Run again after an interruption of the filling, it
does not add the column twice and fills only what is still empty.
"""

from typing import Any

from django.conf import settings
from django.db import migrations, models, transaction

from cartera.core.text import sort_key

BATCH = 5000
FIELD = models.CharField(default="", db_default="", editable=False, max_length=255)


def _columns(schema_editor: Any, table: str) -> set[str]:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        described = connection.introspection.get_table_description(cursor, table)
    return {column.name for column in described}


def add_column(apps: Any, schema_editor: Any) -> None:
    Customer = apps.get_model("customers", "Customer")
    table = Customer._meta.db_table
    if "sort_name" in _columns(schema_editor, table):
        return
    quoted = schema_editor.quote_name(table)
    collation = ' COLLATE "C"' if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(
        f"ALTER TABLE {quoted} ADD COLUMN \"sort_name\" varchar(255){collation} "
        "NOT NULL DEFAULT ''"
    )


def drop_column(apps: Any, schema_editor: Any) -> None:
    table = schema_editor.quote_name(apps.get_model("customers", "Customer")._meta.db_table)
    schema_editor.execute(f'ALTER TABLE {table} DROP COLUMN "sort_name"')


def fill_sort_names(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    table = schema_editor.quote_name(apps.get_model("customers", "Customer")._meta.db_table)
    postgres = connection.vendor == "postgresql"
    last = 0
    while True:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, legal_name, trade_name FROM {table} WHERE id > %s AND sort_name = '' "
                "ORDER BY id LIMIT %s",
                [last, BATCH],
            )
            rows = cursor.fetchall()
            if not rows:
                return
            names = [(pk, sort_key(trade or legal)[:255]) for pk, legal, trade in rows]
            if postgres:  # one statement per batch: a round trip per row costs twice as long
                values = ", ".join(["(%s, %s)"] * len(names))
                cursor.execute(
                    f"UPDATE {table} AS c SET sort_name = v.name FROM (VALUES {values}) "
                    "AS v(id, name) WHERE c.id = v.id",
                    [part for pair in names for part in pair],
                )
            else:
                cursor.executemany(
                    f"UPDATE {table} SET sort_name = %s WHERE id = %s",
                    [(name, pk) for pk, name in names],
                )
            last = rows[-1][0]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("customers", "0010_tax_lookup_tax_id_first"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(model_name="customer", name="sort_name", field=FIELD),
            ],
            database_operations=[migrations.RunPython(add_column, drop_column, atomic=True)],
        ),
        migrations.RunPython(fill_sort_names, migrations.RunPython.noop, atomic=False),
        migrations.RemoveIndex(model_name="customer", name="customer_owner_name"),
        migrations.RemoveIndex(model_name="customer", name="customer_stage_name"),
        migrations.RemoveIndex(model_name="customer", name="customer_name"),
        migrations.AlterModelOptions(
            name="customer",
            options={
                "ordering": ["sort_name", "id"],
                "verbose_name": "customer",
                "verbose_name_plural": "customers",
            },
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["sort_name", "id"], name="customer_sort_name"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["owner", "sort_name"], name="customer_owner_sort_name"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["stage", "sort_name"], name="customer_stage_sort_name"),
        ),
    ]
