"""Field types shared by the API's input schemas."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError


def _no_control_characters(value: str) -> str:
    # PostgreSQL cannot store NUL, and no person types one: refuse it as a field error.
    if "\x00" in value:
        raise PydanticCustomError("nul_character", "Text must not contain a NUL character.")
    return value


def _date_as_text(value: Any) -> Any:
    # A number is not a date, even if pydantic would read it as a Unix timestamp.
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise PydanticCustomError("date_type", "Enter a date as YYYY-MM-DD.")
    return value


Text = Annotated[str, AfterValidator(_no_control_characters)]
Date = Annotated[datetime.date, BeforeValidator(_date_as_text)]

# A database id: a positive 64-bit integer (a larger number names nothing; refused as 422).
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
