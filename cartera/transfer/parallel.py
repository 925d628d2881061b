"""Helper processes for a large file: the check's rows validated while this process finds
duplicates, and the run's rows made while this one writes.

Validating a row as the forms do (tax id, phones, e-mail, postal code, the stage's required
fields) is pure Python and takes most of a check; it is spread over one helper process per core
(Python runs one thread at a time in a process). Finding duplicates remembers the file's
earlier rows, so it stays here and takes the chunks back in their order.

Helpers start once the chunks validated here reach ``START_AFTER`` rows (a small file is done
before they would be ready), and never for an in-memory database, which they cannot open, nor
inside a transaction, whose work they would not see. They are started afresh (``spawn``), set
up Django and open their own connection to the same database; they read the register (tax ids,
lists, users) and write nothing. A helper's error in a row is the pass's error, as it would be
here; a helper that dies leaves its chunks, and the rest, to this process. A cancelled pass
stops them. When an import cannot reuse the check's results it validates each chunk itself,
after the chunk before it is written, whose customers a later row may repeat.

The run of a large file has one helper too (``Preparer``): it makes each chunk's rows while this
process writes the chunk before. It reads no database; the rows come back pickled.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection
from django.utils import translation

if TYPE_CHECKING:
    from cartera.transfer.pipeline import Checked, Checker
    from cartera.transfer.writing import Prepared

Chunk = list[tuple[int, list[Any]]]
logger = logging.getLogger("cartera.transfer")

START_AFTER = 10_000  # rows validated here before helpers are worth their start-up (about 1 s)
MOST_HELPERS = 4  # each is a whole application process (about 150 MB) with a connection
AHEAD = 2  # chunks handed to each helper before the first comes back (bounds the memory)


def helpers_wanted() -> int:
    """How many helper processes a large file gets: ``CARTERA_IMPORT_WORKERS``, else one per
    processor this process may run on (its affinity, not the host's count), at most
    ``MOST_HELPERS``; none with a single processor."""
    configured = settings.CARTERA_IMPORT_WORKERS
    if configured is not None:
        return max(0, int(configured))
    cores = len(os.sched_getaffinity(0))
    return min(cores, MOST_HELPERS) if cores > 1 else 0


def validated(
    checker: Checker, chunks: Iterator[Chunk], *, stop: Callable[[], None]
) -> Iterator[tuple[Chunk, list[Checked]]]:
    """Each chunk with its rows validated (not yet matched), in the file's order.

    ``stop`` is asked before each chunk is handed on; it raises to end the pass.
    """
    in_memory = getattr(connection, "is_in_memory_db", lambda: False)()  # SQLite only
    # Helpers see only what is committed: not the work of a transaction still open here.
    helpers = 0 if in_memory or connection.in_atomic_block else helpers_wanted()
    seen = 0
    for chunk in chunks:
        stop()
        yield chunk, checker.validate(chunk)
        seen += len(chunk)
        if helpers and seen >= START_AFTER:
            yield from _spread(checker, chunks, helpers, stop)
            return


class _Helpers:
    """The pool of helper processes; once one of them dies (killed, out of memory, or unable
    to start), the chunks it had and all later ones are validated here instead."""

    def __init__(self, checker: Checker, count: int) -> None:
        self.checker = checker
        start = (dict(connection.settings_dict), translation.get_language(), checker.batch.pk,
                 checker.by.pk)  # fmt: skip
        self.pool: ProcessPoolExecutor | None = ProcessPoolExecutor(
            max_workers=count,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=start,
        )

    def submit(self, chunk: Chunk) -> Future[list[Checked]] | None:
        if self.pool is not None:
            try:
                return self.pool.submit(_validate, chunk)
            except BrokenProcessPool as exc:
                self._lost(exc)
        return None

    def result(self, chunk: Chunk, future: Future[list[Checked]] | None) -> list[Checked]:
        if future is not None:
            try:
                return future.result()
            except BrokenProcessPool as exc:
                self._lost(exc)
        return self.checker.validate(chunk)

    def _lost(self, exc: BaseException) -> None:
        if self.pool is not None:
            logger.warning("Import %s: a helper process stopped (%s); going on without them.",
                           self.checker.batch.pk, exc)  # fmt: skip
            self.close()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def _spread(
    checker: Checker, chunks: Iterator[Chunk], count: int, stop: Callable[[], None]
) -> Iterator[tuple[Chunk, list[Checked]]]:
    helpers = _Helpers(checker, count)
    pending: deque[tuple[Chunk, Future[list[Checked]] | None]] = deque()

    def next_done() -> tuple[Chunk, list[Checked]]:
        stop()  # before each chunk is handed on, as when validating here
        done, future = pending.popleft()
        return done, helpers.result(done, future)

    try:
        for chunk in chunks:
            pending.append((chunk, helpers.submit(chunk)))
            while pending and (len(pending) >= count * AHEAD or helpers.pool is None):
                yield next_done()
        while pending:
            yield next_done()
    finally:
        helpers.close()


class Preparer:
    """Makes an import run's chunks of rows (``writing.prepare``) in one helper process while
    this one writes the chunk before, for a file of ``START_AFTER`` rows or more; otherwise, or
    once the helper is lost, here when they are wanted. (A thread would not do: the two would
    take turns at the interpreter.)"""

    def __init__(self, rows: int) -> None:
        self.pool: ProcessPoolExecutor | None = None
        self.starting = False
        if rows >= START_AFTER and helpers_wanted():
            self.pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_preparer,
                initargs=(dict(connection.settings_dict),),
            )
            self.pool.submit(int)  # starts the helper: the first chunk is made here meanwhile
            self.starting = True

    def submit(self, *args: Any) -> Future[Prepared] | tuple[Any, ...]:
        """Start making a chunk's rows; ``result`` gives them."""
        if self.starting:
            self.starting = False
            return args
        if self.pool is not None:
            try:
                return self.pool.submit(_prepare, *args)
            except BrokenProcessPool as exc:
                self._lost(exc)
        return args

    def result(self, handle: Future[Prepared] | tuple[Any, ...], args: tuple[Any, ...]
               ) -> Prepared:  # fmt: skip
        from cartera.transfer import writing

        if isinstance(handle, Future):
            try:
                return handle.result()
            except BrokenProcessPool as exc:
                self._lost(exc)
        return writing.prepare(*args)

    def _lost(self, exc: BaseException) -> None:
        if self.pool is not None:  # its other chunk breaks too: said once
            logger.warning("A helper process stopped (%s); the import goes on without it.", exc)
            self.close()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def __enter__(self) -> Preparer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- In the helper process ---------------------------------------------------------------------


def _start_preparer(database: dict[str, Any]) -> None:
    """Set up Django as the parent has it; rows are made for the parent's database."""
    import django

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what stops
    django.setup()
    from django.db import connections

    connections["default"].settings_dict.update(database)


def _prepare(*args: Any) -> Prepared:
    from cartera.transfer import writing

    try:
        return writing.prepare(*args)
    finally:
        _give_back_memory()


def _give_back_memory() -> None:
    """Hand the memory of a chunk's pickles back to the system (glibc keeps freed blocks of a
    few megabytes for reuse, and the helper grew with every chunk)."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL("libc.so.6").malloc_trim(0)


_checker: Checker | None = None


def _start(database: dict[str, Any], language: str | None, batch_id: int, user_id: int) -> None:
    """Set up Django as the parent has it, on the parent's database and language."""
    global _checker
    import django

    # Ctrl+C in a terminal reaches the whole process group: the parent decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    django.setup()
    from django.db import connections

    from cartera.accounts.models import User
    from cartera.transfer.models import Import
    from cartera.transfer.pipeline import Checker

    connections["default"].settings_dict.update(database)
    if language:
        translation.activate(language)
    _checker = Checker(Import.objects.get(pk=batch_id), by=User.objects.get(pk=user_id))


def _validate(chunk: Chunk) -> list[Checked]:
    assert _checker is not None, "the helper was not started"
    return _checker.validate(chunk)
