#!/usr/bin/env python
"""Django's command-line utility; `cartera` is the installed equivalent."""

import sys

from cartera.cli import main

if __name__ == "__main__":
    sys.exit(main())
