from django.db import migrations

# The usual stages of a B2B pipeline and the chance of winning from each.
STAGES = [
    ("Cualificación", 10),
    ("Necesidades", 30),
    ("Propuesta", 60),
    ("Negociación", 80),
]


def seed(apps, schema_editor):
    PipelineStage = apps.get_model("sales", "PipelineStage")
    if PipelineStage.objects.exists():
        return
    PipelineStage.objects.bulk_create(
        PipelineStage(name=name, position=index * 10, probability=probability)
        for index, (name, probability) in enumerate(STAGES, start=1)
    )


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
