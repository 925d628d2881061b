"""The editable lists a new company starts with (administrators change them later)."""

from django.db import migrations

FISCAL_TYPES = [
    ("particular", "Particular", "person"),
    ("autonomo", "Autónomo / profesional", "person"),
    ("sociedad_mercantil", "Sociedad mercantil", "organization"),
    ("cooperativa", "Cooperativa", "organization"),
    ("asociacion_fundacion", "Asociación o fundación", "organization"),
    ("administracion_publica", "Administración pública", "organization"),
    ("comunidad_bienes", "Comunidad de bienes", "organization"),
    ("comunidad_propietarios", "Comunidad de propietarios", "organization"),
    ("extranjero", "Extranjero / no residente", ""),
]

LEGAL_FORMS = {
    "ES": [
        ("SA", "Sociedad anónima"),
        ("SL", "Sociedad limitada"),
        ("SLU", "Sociedad limitada unipersonal"),
        ("SAU", "Sociedad anónima unipersonal"),
        ("SLL", "Sociedad limitada laboral"),
        ("SC", "Sociedad colectiva"),
        ("SCom", "Sociedad comanditaria"),
        ("CB", "Comunidad de bienes"),
        ("COOP", "Sociedad cooperativa"),
        ("ASOC", "Asociación o fundación"),
        ("CP", "Comunidad de propietarios"),
        ("SCIV", "Sociedad civil"),
        ("UTE", "Unión temporal de empresas"),
        ("AL", "Corporación local"),
        ("OP", "Organismo público"),
        ("AE", "Órgano de la Administración del Estado"),
        ("CONG", "Congregación o institución religiosa"),
    ],
    "MX": [
        ("SA de CV", "Sociedad anónima de capital variable"),
        ("S de RL de CV", "Sociedad de responsabilidad limitada de capital variable"),
        ("SAPI de CV", "Sociedad anónima promotora de inversión de capital variable"),
        ("SAS", "Sociedad por acciones simplificada"),
        ("SC", "Sociedad civil"),
        ("AC", "Asociación civil"),
    ],
    "CO": [
        ("SAS", "Sociedad por acciones simplificada"),
        ("SA", "Sociedad anónima"),
        ("LTDA", "Sociedad limitada"),
        ("SCA", "Sociedad en comandita por acciones"),
        ("EU", "Empresa unipersonal"),
    ],
    "AR": [
        ("SA", "Sociedad anónima"),
        ("SRL", "Sociedad de responsabilidad limitada"),
        ("SAS", "Sociedad por acciones simplificada"),
        ("SCS", "Sociedad en comandita simple"),
    ],
    "CL": [
        ("SpA", "Sociedad por acciones"),
        ("SA", "Sociedad anónima"),
        ("LTDA", "Sociedad de responsabilidad limitada"),
        ("EIRL", "Empresa individual de responsabilidad limitada"),
    ],
    "PE": [
        ("SAC", "Sociedad anónima cerrada"),
        ("SA", "Sociedad anónima"),
        ("SAA", "Sociedad anónima abierta"),
        ("SRL", "Sociedad comercial de responsabilidad limitada"),
        ("EIRL", "Empresa individual de responsabilidad limitada"),
    ],
}

LEAD_SOURCES = [
    "Web",
    "Recomendación",
    "Feria o evento",
    "Llamada en frío",
    "Redes sociales",
    "Publicidad",
    "Cliente existente",
    "Otro",
]

SECTORS = [
    "Agricultura y alimentación",
    "Industria",
    "Construcción",
    "Comercio",
    "Hostelería y turismo",
    "Transporte y logística",
    "Tecnología",
    "Servicios profesionales",
    "Salud",
    "Educación",
    "Administración pública",
    "Otro",
]


def seed(apps, schema_editor):
    FiscalType = apps.get_model("customers", "FiscalType")
    LegalForm = apps.get_model("customers", "LegalForm")
    LeadSource = apps.get_model("customers", "LeadSource")
    Sector = apps.get_model("customers", "Sector")
    for position, (code, name, kind) in enumerate(FISCAL_TYPES):
        FiscalType.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "position": position}
        )
    for country, forms in LEGAL_FORMS.items():
        for position, (code, name) in enumerate(forms):
            LegalForm.objects.get_or_create(
                country=country, code=code, defaults={"name": name, "position": position}
            )
    for position, name in enumerate(LEAD_SOURCES):
        LeadSource.objects.get_or_create(name=name, defaults={"position": position})
    for position, name in enumerate(SECTORS):
        Sector.objects.get_or_create(name=name, defaults={"position": position})


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
