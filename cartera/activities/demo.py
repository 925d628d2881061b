"""Demo activity: notes, logged calls and tasks for the demo customers, through the services.

So that a first ``make run`` shows a lived-in Mi día and timelines, not empty pages.
"""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from cartera.accounts.models import Role, User
from cartera.activities import services
from cartera.activities.models import NoteKind, TaskType
from cartera.customers.models import Customer, Stage, Status

CALLS = (
    ("Primera llamada", "Le interesa la propuesta; pide precios por escrito."),
    ("Seguimiento de la oferta", "Compara con otro proveedor. Llamar la semana que viene."),
    ("Incidencia con el último pedido", "Faltaban dos cajas. Se envían mañana sin coste."),
    ("Llamada de cortesía", "Todo bien. Comenta que abren una segunda tienda en primavera."),
    ("Renovación del contrato", "Quiere mantener las condiciones; revisar el descuento del grupo."),
)  # fmt: skip
EMAILS = (
    ("Envío de tarifa", "Se envía la tarifa vigente y las condiciones de pago."),
    ("Confirmación de visita", "Confirmada la visita con el responsable de compras."),
    ("Documentación fiscal", "Nos envían el certificado de situación censal."),
)
NOTES = (
    "Prefiere que le llamen por la tarde, a partir de las 17:00.\n\n"
    "La decisión de compra la toma la gerente; el contacto técnico solo recomienda.",
    "Paga siempre a 60 días aunque el contrato diga 30. Tenerlo en cuenta en las ofertas.",
    "Cliente muy sensible al precio. Valora la rapidez de entrega por encima de todo.",
)
TASKS = (
    (TaskType.CALL, "Llamar para cerrar la oferta"),
    (TaskType.CALL, "Llamada de seguimiento"),
    (TaskType.EMAIL, "Enviar presupuesto actualizado"),
    (TaskType.MEETING, "Reunión de presentación"),
    (TaskType.VISIT, "Visita comercial"),
    (TaskType.RENEWAL, "Renovación del contrato anual"),
    (TaskType.OTHER, "Revisar datos de facturación"),
)
OUTCOMES = ("Hecho. Todo en orden.", "Acepta la propuesta.", "No contesta; se deja mensaje.")


def load_activity_demo(customers: list[Customer], seed: int) -> None:
    """Notes, calls, e-mails and tasks for about half of the customers, and a few for admins."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    today = timezone.localdate()
    now = timezone.now()
    for customer in customers:
        owner = customer.owner
        if rng.random() < 0.5:
            for _ in range(rng.randint(1, 3)):
                _log(customer, owner, rng, now)
        working = customer.stage in (Stage.LEAD, Stage.PROSPECT, Stage.CLIENT)
        if working and customer.status == Status.ACTIVE and rng.random() < 0.45:
            _task(customer, owner, rng, today, done=rng.random() < 0.2)
    admins = list(User.objects.filter(role=Role.ADMIN, is_active=True)[:1])
    active = [c for c in customers if c.status == Status.ACTIVE]
    for admin in admins:
        for customer in rng.sample(active, min(4, len(active))):
            _task(customer, admin, rng, today, done=False)
    from cartera.activities.reminders import generate_reminders

    generate_reminders(today)


def _log(customer: Customer, owner: User, rng: random.Random, now: datetime.datetime) -> None:
    kind = rng.choice((NoteKind.CALL, NoteKind.CALL, NoteKind.EMAIL, NoteKind.NOTE))
    when = now - datetime.timedelta(days=rng.randint(1, 120), minutes=rng.randint(0, 600))
    data: dict[str, object] = {"kind": kind, "occurred_at": when}
    if kind == NoteKind.CALL:
        subject, body = rng.choice(CALLS)
        data |= {"subject": subject, "body": body, "direction": rng.choice(("in", "out")),
                 "duration_minutes": rng.randint(2, 25)}  # fmt: skip
    elif kind == NoteKind.EMAIL:
        subject, body = rng.choice(EMAILS)
        data |= {"subject": subject, "body": body, "direction": "out"}
    else:
        data["body"] = rng.choice(NOTES)
    services.log_note(customer=customer, data=data, by=owner)


def _task(
    customer: Customer, assignee: User, rng: random.Random, today: datetime.date, *, done: bool
) -> None:
    kind, subject = rng.choice(TASKS)
    roll = rng.random()
    if roll < 0.2:
        due = today - datetime.timedelta(days=rng.randint(1, 10))
    elif roll < 0.5:
        due = today
    else:
        due = today + datetime.timedelta(days=rng.randint(1, 30))
    data: dict[str, object] = {
        "type": kind,
        "subject": subject,
        "due_date": due,
        "assignee": assignee,
        "priority": rng.choice(("normal", "normal", "high", "low")),
    }
    if rng.random() < 0.4:
        data["due_time"] = datetime.time(rng.choice((9, 10, 11, 12, 16, 17)), 0)
    if kind == TaskType.RENEWAL:
        data |= {"recurrence_interval": 1, "recurrence_unit": "year"}
    task = services.create_task(customer=customer, data=data, by=assignee)
    if done:
        services.complete_task(task=task, by=assignee, outcome=rng.choice(OUTCOMES))
