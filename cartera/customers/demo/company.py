"""The demo company: its employees, customer groups and tags, and the lists customers name."""

from __future__ import annotations

from dataclasses import dataclass

from cartera.accounts.models import Role
from cartera.customers.models import PaymentMethod


@dataclass(frozen=True)
class DemoUser:
    """An employee of the demo company."""

    username: str
    first_name: str
    last_name: str
    role: str
    team: str = ""


USERS = (
    DemoUser("admin", "Elena", "Navarro Ortiz", Role.ADMIN),
    DemoUser("gerente", "Javier", "Morales Ruiz", Role.MANAGER),
    DemoUser("lucia", "Lucía", "Fernández Gil", Role.SALESPERSON, "Iberia"),
    DemoUser("mateo", "Mateo", "García Serrano", Role.SALESPERSON, "Iberia"),
    DemoUser("valentina", "Valentina", "Hernández Luna", Role.SALESPERSON, "México y Colombia"),
    DemoUser("diego", "Diego", "Ramírez Ospina", Role.SALESPERSON, "México y Colombia"),
    DemoUser("camila", "Camila", "Rojas Medina", Role.SALESPERSON, "Cono Sur y Perú"),
    DemoUser("santiago", "Santiago", "Quispe Alarcón", Role.SALESPERSON, "Cono Sur y Perú"),
)
MANAGER = "gerente"


@dataclass(frozen=True)
class DemoGroup:
    """A customer group of the demo and its commercial rules."""

    name: str
    discount: str
    payment_terms_days: int | None
    payment_method: str = ""


GROUPS = (
    DemoGroup("Mayorista", "10", 60, PaymentMethod.TRANSFER),
    DemoGroup("Minorista", "0", 30),
    DemoGroup("Distribuidor", "15", 90, PaymentMethod.TRANSFER),
    DemoGroup("VIP", "20", 45),
)
TAGS = (
    "feria-2026", "newsletter", "sector-público", "exportador", "pago-puntual",
    "webinar-marzo", "black-friday",
)  # fmt: skip

# Seeded by migration 0002; a list an administrator emptied just leaves the field blank.
LEAD_SOURCES = (
    "Web", "Recomendación", "Feria o evento", "Llamada en frío", "Redes sociales",
    "Publicidad", "Cliente existente", "Otro",
)  # fmt: skip
SECTORS = (
    "Agricultura y alimentación", "Industria", "Construcción", "Comercio",
    "Hostelería y turismo", "Transporte y logística", "Tecnología", "Servicios profesionales",
    "Salud", "Educación", "Otro",
)  # fmt: skip
