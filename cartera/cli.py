"""The ``cartera`` command: Django's management commands under one name.

``cartera serve``, ``cartera demo``, ``cartera createuser``, ``cartera token create``
and every other management command (``cartera migrate``, ...).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Run a management command; with no arguments, list them."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cartera.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "cartera"
    execute_from_command_line(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
