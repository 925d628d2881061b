"""Index over the customers' search text: FTS5 trigram on SQLite, pg_trgm GIN on PostgreSQL."""

from django.db import migrations


def create(apps, schema_editor):
    from cartera.customers.search import create_search_index

    create_search_index(schema_editor.connection)


def drop(apps, schema_editor):
    from cartera.customers.search import drop_search_index

    drop_search_index(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_seed_lists")]

    operations = [migrations.RunPython(create, drop)]
