"""``cartera worker``: run background jobs and enqueue the periodic ones, until told to stop.

One loop does both: every ``--schedule-interval`` seconds it enqueues the periodic jobs whose
period has come (once per period, whatever the number of workers), and in between it runs the
queued jobs one by one, looking again every ``--interval`` seconds when the queue is empty.
SIGTERM or SIGINT (Ctrl+C) stops it after the job in progress; a second signal stops that
job too (it is recorded as failed and retried if it has attempts left).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from types import FrameType
from typing import Any

from django.core.management.base import CommandParser
from django.db import DatabaseError, close_old_connections
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cartera.core import jobs
from cartera.core.commands import Command as BaseCommand

logger = logging.getLogger("cartera.jobs")


class Command(BaseCommand):
    about = gettext_lazy("Run background jobs and the periodic schedule until SIGTERM or Ctrl+C.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help=_("Seconds between looks at an empty queue."),
        )
        parser.add_argument(
            "--schedule-interval",
            type=float,
            default=30.0,
            help=_("Seconds between looks at the periodic schedule."),
        )
        parser.add_argument(
            "--queue", default="*", help=_("Comma-separated queues to run (default: every queue).")
        )
        parser.add_argument(
            "--once",
            action="store_true",
            help=_("Enqueue the periodic jobs that are due, run every due job, then exit."),
        )
        parser.add_argument("--worker-id", default="", help=_("Unique name of this worker."))

    def handle(self, *args: Any, **options: Any) -> None:
        self.configure_logging(options["verbosity"])
        queues = [name.strip() for name in options["queue"].split(",") if name.strip()] or ["*"]
        worker_id = (options["worker_id"] or get_random_string(32))[:64]
        if options["once"]:
            self.schedule()
            runs = 0
            while jobs.run_next(worker_id=worker_id, queue_names=queues):
                runs += 1
            self.stdout.write(_("Jobs run: %(count)s.") % {"count": runs})
            return
        self.loop(
            worker_id=worker_id,
            queues=queues,
            interval=max(options["interval"], 0.05),
            schedule_interval=max(options["schedule_interval"], 1.0),
        )

    def loop(
        self, *, worker_id: str, queues: list[str], interval: float, schedule_interval: float
    ) -> None:
        stopping = threading.Event()

        def stop(signum: int, frame: FrameType | None) -> None:
            if stopping.is_set():
                logger.warning("Stopping now, the job in progress too.")
                raise SystemExit(1)
            logger.warning("%s: stopping after the job in progress.", signal.strsignal(signum))
            stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.schedule()
        next_schedule = time.monotonic() + schedule_interval
        self.stdout.write(_(
            "Cartera worker %(id)s started: queues %(queues)s, periodic jobs: %(periodic)s. "
            "Stop it with Ctrl+C or SIGTERM."
        ) % {"id": worker_id, "queues": ",".join(queues),
             "periodic": len(jobs.PERIODIC)})  # fmt: skip
        sys.stdout.flush()
        while not stopping.is_set():
            if time.monotonic() >= next_schedule:
                self.schedule()
                next_schedule = time.monotonic() + schedule_interval
            close_old_connections()
            try:
                ran = jobs.run_next(worker_id=worker_id, queue_names=queues)
            except DatabaseError:
                logger.exception("The job queue could not be read; trying again.")
                ran = False
            close_old_connections()
            if not ran:
                stopping.wait(max(0.0, min(interval, next_schedule - time.monotonic())))
        self.stdout.write(_("Cartera worker %(id)s stopped.") % {"id": worker_id})

    def schedule(self) -> None:
        try:
            jobs.run_due()
        except DatabaseError:
            logger.exception("The periodic jobs could not be enqueued; trying again later.")

    def configure_logging(self, verbosity: int) -> None:
        """Show each job's progress at -v1 (the default), and django-tasks' own lines at -v2."""
        levels = {"cartera.jobs": 1, "django_tasks": 2, "django_tasks_db": 2}
        for name, from_verbosity in levels.items():
            if verbosity >= from_verbosity:
                logging.getLogger(name).setLevel(logging.INFO)
