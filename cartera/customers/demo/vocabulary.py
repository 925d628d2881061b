"""Words demo customers are made of: activities, brands, contact roles, notes and reasons."""

from __future__ import annotations

from cartera.customers.models import LossReason

# Activities of an organisation and their grammatical gender: masc/fem, singular/plural.
ACTIVITIES: tuple[tuple[str, int], ...] = (
    ("Distribuciones", 3), ("Comercializadora", 2), ("Inversiones", 3), ("Servicios", 1),
    ("Transportes", 1), ("Importaciones", 3), ("Construcciones", 3), ("Talleres", 1),
    ("Suministros", 1), ("Ferretería", 2), ("Alimentos", 1), ("Muebles", 1), ("Grupo", 0),
    ("Ingeniería", 2), ("Consultores", 1), ("Logística", 2), ("Laboratorios", 1),
    ("Textiles", 1), ("Instalaciones", 3), ("Exportadora", 2), ("Agroindustrias", 3),
    ("Papelería", 2), ("Climatización", 2), ("Asesores", 1), ("Recambios", 1),
)  # fmt: skip
BRANDS = (
    "El Puerto", "La Esquina", "Nova", "del Parque", "Central", "Altamira", "Costa Azul",
    "Mirador", "La Estación", "Los Álamos", "El Roble", "Plaza", "Horizonte",
)  # fmt: skip
TRADES = (
    "Fontanería", "Electricidad", "Carpintería", "Asesoría Fiscal", "Fisioterapia",
    "Diseño Gráfico", "Estudio Jurídico", "Reformas", "Fotografía", "Traducciones",
)  # fmt: skip
COOP_NAMES = (
    "Cooperativa Agrícola San Isidro", "Cooperativa de Transportes {place}",
    "Cooperativa Vitivinícola {place}", "Cooperativa de Consumo {city}",
)  # fmt: skip
ASSOCIATION_NAMES = (
    "Asociación de Comerciantes de {city}", "Fundación {surname}",
    "Asociación Cultural {brand}", "Club Deportivo {city}",
)  # fmt: skip
CONTACT_ROLES: tuple[tuple[str, str], ...] = (
    ("Gerente de compras", "Gerente de compras"),
    ("Director general", "Directora general"),
    ("Administración", "Administración"),
    ("Responsable de contabilidad", "Responsable de contabilidad"),
    ("Jefe de almacén", "Jefa de almacén"),
    ("Director financiero", "Directora financiera"),
    ("Responsable de calidad", "Responsable de calidad"),
    ("Asistente de dirección", "Asistente de dirección"),
)
NOTES = (
    "Llamar por la tarde.",
    "Prefiere contacto por correo.",
    "Pide presupuesto antes de cada pedido.",
    "Cierra la segunda quincena de agosto.",
    "Las facturas, siempre en PDF a la dirección de facturación.",
    "Interesado en la nueva línea de productos.",
    "Visitar en la próxima feria.",
    "Pregunta por descuentos por volumen.",
    "Hablar con el responsable de compras, no con recepción.",
    "Recibe mercancía solo por las mañanas.",
)
STATUS_REASONS = (
    "Impago de facturas",
    "Facturas vencidas pendientes de cobro",
    "Límite de crédito superado",
    "Datos fiscales en revisión",
)
LOSS_DETAILS: dict[str, tuple[str, ...]] = {
    LossReason.COMPETITOR: ("Mejor precio de la competencia", "Plazos de entrega más cortos"),
    LossReason.CEASED: ("Cese de actividad", "Cierre del local"),
    LossReason.NON_PAYMENT: ("Deuda pendiente sin resolver",),
    LossReason.UNUSED: ("Dejó de usar el producto",),
    LossReason.NOT_INTERESTED: ("Sin presupuesto este año", "No responde a las llamadas"),
    LossReason.OTHER: ("Cambio de dirección en la empresa",),
}
