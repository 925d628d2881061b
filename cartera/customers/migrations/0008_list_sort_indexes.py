from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0007_purchase_activity'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='customer',
            name='customer_created',
        ),
        migrations.RemoveIndex(
            model_name='customer',
            name='customer_archived',
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['legal_name', 'id'], name='customer_name'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['created_at', 'id'], name='customer_created'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['updated_at', 'id'], name='customer_updated'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('archived_at__isnull', False)), fields=['archived_at'], name='customer_archived'),
        ),
    ]
