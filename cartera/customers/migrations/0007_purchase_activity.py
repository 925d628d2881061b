import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0006_client_since_segments"),
    ]

    operations = [
        migrations.CreateModel(
            name="PurchaseActivity",
            fields=[
                (
                    "customer",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="purchase",
                        serialize=False,
                        to="customers.customer",
                        verbose_name="customer",
                    ),
                ),
                (
                    "activity",
                    models.CharField(
                        choices=[
                            ("active", "Buying"),
                            ("pre_inactive", "Pre-inactive"),
                            ("inactive", "Inactive buyer"),
                            ("never", "Never bought"),
                        ],
                        max_length=16,
                        verbose_name="purchase activity",
                    ),
                ),
            ],
            options={
                "verbose_name": "purchase activity",
                "verbose_name_plural": "purchase activities",
                "indexes": [models.Index(fields=["activity"], name="purchase_activity")],
            },
        ),
        # Keep what the last recompute found: customers that bought get their row.
        migrations.RunSQL(
            "INSERT INTO customers_purchaseactivity (customer_id, activity) "
            "SELECT id, activity FROM customers_customer WHERE activity <> 'never'",
            "UPDATE customers_customer SET activity = (SELECT p.activity FROM "
            "customers_purchaseactivity p WHERE p.customer_id = customers_customer.id) "
            "WHERE id IN (SELECT customer_id FROM customers_purchaseactivity)",
        ),
        migrations.RemoveField(
            model_name="customer",
            name="activity",
        ),
    ]
