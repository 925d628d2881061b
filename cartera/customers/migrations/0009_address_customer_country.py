from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0008_list_sort_indexes'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='address',
            index=models.Index(fields=['customer', 'country', 'region'], name='address_customer_country'),
        ),
    ]
