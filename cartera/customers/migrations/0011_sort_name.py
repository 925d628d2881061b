"""The list sorts by ``sort_name``: the legal name without case or accents, ñ after n, the same
on SQLite and PostgreSQL (whose databases here use byte order, "Óptica" after "Zapatería")."""

from typing import Any

from django.conf import settings
from django.db import migrations, models

from cartera.core.text import sort_key

BATCH = 5000
FIELD = models.CharField(default="", editable=False, max_length=255)


def add_column(apps: Any, schema_editor: Any) -> None:
    """SQLite adds the column in place: the schema editor would copy the whole table to add a
    column that is not null, and the copy loses the search index's triggers."""
    Customer = apps.get_model("customers", "Customer")
    if schema_editor.connection.vendor != "sqlite":
        field = FIELD.clone()
        field.set_attributes_from_name("sort_name")
        schema_editor.add_field(Customer, field)
        return
    table = schema_editor.quote_name(Customer._meta.db_table)
    schema_editor.execute(
        f"ALTER TABLE {table} ADD COLUMN \"sort_name\" varchar(255) NOT NULL DEFAULT ''"
    )


def drop_column(apps: Any, schema_editor: Any) -> None:
    table = schema_editor.quote_name(apps.get_model("customers", "Customer")._meta.db_table)
    schema_editor.execute(f'ALTER TABLE {table} DROP COLUMN "sort_name"')


def fill_sort_names(apps: Any, schema_editor: Any) -> None:
    Customer = apps.get_model("customers", "Customer")
    table = schema_editor.connection.ops.quote_name(Customer._meta.db_table)
    last = 0
    with schema_editor.connection.cursor() as cursor:
        while True:
            cursor.execute(
                f"SELECT id, legal_name FROM {table} WHERE id > %s ORDER BY id LIMIT %s",
                [last, BATCH],
            )
            rows = cursor.fetchall()
            if not rows:
                return
            cursor.executemany(
                f"UPDATE {table} SET sort_name = %s WHERE id = %s",
                [(sort_key(name)[:255], pk) for pk, name in rows],
            )
            last = rows[-1][0]


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0010_tax_lookup_tax_id_first"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(model_name="customer", name="sort_name", field=FIELD),
            ],
            database_operations=[migrations.RunPython(add_column, drop_column)],
        ),
        migrations.RunPython(fill_sort_names, migrations.RunPython.noop, elidable=True),
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
