"""Test settings: production settings, served over plain HTTP and with a fast hasher."""

import os

os.environ.setdefault("CARTERA_HTTPS", "0")
os.environ.setdefault("SECRET_KEY", "tests-only-" + "x" * 50)

from cartera.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
