"""The REST API under /api/: OpenAPI 3 at /api/openapi.json, offline docs at /api/docs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer, SessionAuth

from cartera.accounts.models import ApiToken, TokenScope
from cartera.core import ratelimit

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>``; read-scoped tokens may only read."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = ApiToken.authenticate(token)
        if found is None:
            return None
        # The middleware chose the language before the token said whose request this is.
        if found.user.language in settings.LANGUAGE_CODES:
            translation.activate(found.user.language)
            request.LANGUAGE_CODE = found.user.language
        ratelimit.enforce(f"api:token:{found.pk}", settings.CARTERA_API_RATE)
        if found.scope == TokenScope.READ and request.method not in _SAFE_METHODS:
            raise HttpError(403, _("This token may only read."))
        request.user = found.user
        return found.user


class RateLimitedSessionAuth(SessionAuth):
    """The browser session, counted per user against ``CARTERA_API_RATE``."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is not None:
            ratelimit.enforce(f"api:user:{user.pk}", settings.CARTERA_API_RATE)
        return user


class NotAnObject(ValueError):
    """The JSON body parsed, but it is not an object of fields."""


class ObjectBodyParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise NotAnObject
        return data


# What any operation may answer besides its success, documented once for all of them:
# missing credentials, a read-only token writing, something the user may not see (or an id
# that names nothing), invalid input and the rate limit. Bodies are {"detail": ...}.
_COMMON_ERRORS = {
    "401": "Authentication required.",
    "403": "Not allowed for this user or token.",
    "404": "Not found, or not visible to this user.",
    "422": "Invalid input; detail[].loc names the field.",
    "429": "Too many requests; see Retry-After.",
}
_ERROR_BODY = {
    "application/json": {
        "schema": {
            "type": "object",
            "properties": {"detail": {"title": "Detail"}},
            "required": ["detail"],
        }
    }
}


class CarteraAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                codes = dict(_COMMON_ERRORS)
                if operation.get("requestBody"):
                    codes["400"] = "The body is not valid JSON."
                for code, description in codes.items():
                    responses.setdefault(code, {"description": description, "content": _ERROR_BODY})
        return schema


api = CarteraAPI(
    title="Cartera API",
    version="1",
    description=(
        "Customer register of Cartera. Authenticate with `Authorization: Bearer <token>` "
        "(create one with `cartera token create <username>`) or with the browser session. "
        "Validation errors answer 422 with `detail[].loc` naming the field path."
    ),
    auth=[BearerToken(), RateLimitedSessionAuth()],
    urls_namespace="api",
    parser=ObjectBodyParser(),
)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    detail = [
        {
            "loc": _location(e.get("loc", ())),
            "msg": _translate_pydantic(e),
            "type": e.get("type", ""),
        }
        for e in exc.errors
    ]
    return api.create_response(request, {"detail": detail}, status=422)


def _location(loc: Any) -> list[Any]:
    """Field paths as the services name them: ["body", "tax_id"], not ["body", "payload", ...]."""
    path = list(loc)
    if len(path) >= 2 and path[0] in ("body", "query") and path[1] in ("payload", "params"):
        del path[1]
    return path


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    message = str(exc)
    if isinstance(exc.__cause__, NotAnObject):
        detail = [{"loc": ["body"], "msg": _("Send a JSON object of fields."), "type": "dict_type"}]
        return api.create_response(request, {"detail": detail}, status=422)
    if exc.status_code == 400 and message.startswith("Cannot parse request body"):
        message = _("The request body is not valid JSON.")
    elif exc.status_code == 403 and message == "CSRF check Failed":
        message = _("The request lacks the session's CSRF token (the X-CSRFToken header).")
    return api.create_response(request, {"detail": message}, status=exc.status_code)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": _("Not found.")}, status=404)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(
        request, {"detail": _("You do not have permission to do this.")}, status=403
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    # Requests without valid credentials are counted per client address (guessing tokens).
    anonymous = ratelimit.Rate.parse(settings.CARTERA_API_ANON_RATE)
    verdict = ratelimit.hit(f"api:ip:{ratelimit.client_ip(request)}", anonymous)
    if not verdict.allowed:
        return _rate_limited(request, ratelimit.RateLimitExceededError(verdict.retry_after))
    return api.create_response(request, {"detail": _("Authentication required.")}, status=401)


@api.exception_handler(ratelimit.RateLimitExceededError)
def _rate_limited(request: HttpRequest, exc: ratelimit.RateLimitExceededError) -> HttpResponse:
    response = api.create_response(
        request,
        {
            "detail": _("Too many requests. Try again in %(seconds)s seconds.")
            % {"seconds": exc.retry_after}
        },
        status=429,
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


def _translate_pydantic(error: dict[str, Any]) -> str:
    """Pydantic's messages are English only: say the common ones in the user's language."""
    kind = error.get("type", "")
    messages = {
        "missing": _("This field is required."),
        "string_type": _("Enter a text value."),
        "int_parsing": _("Enter a whole number."),
        "int_type": _("Enter a whole number."),
        "int_from_float": _("Enter a whole number."),
        "bool_parsing": _("Enter true or false."),
        "bool_type": _("Enter true or false."),
        "decimal_parsing": _("Enter a number."),
        "finite_number": _("Enter a number."),
        "nul_character": _("Remove the control characters from this text."),
        "date_type": _("Enter a valid date."),
        "date_from_datetime_inexact": _("Enter a valid date."),
        "float_parsing": _("Enter a number."),
        "string_pattern_mismatch": _("Enter a valid value."),
        "too_long": _("This list is too long."),
        "less_than": _("This number is too large."),
        "greater_than": _("This number is too small."),
        "decimal_type": _("Enter a number."),
        "date_from_datetime_parsing": _("Enter a valid date."),
        "date_parsing": _("Enter a valid date."),
        "datetime_parsing": _("Enter a valid date and time."),
        "list_type": _("Enter a list."),
        "dict_type": _("Enter an object."),
        "model_attributes_type": _("Enter an object."),
        "json_invalid": _("The request body is not valid JSON."),
        "extra_forbidden": _("This field is not known."),
        "string_too_long": _("This text is too long."),
        "greater_than_equal": _("This number is too small."),
        "less_than_equal": _("This number is too large."),
        "literal_error": _("Select a valid choice."),
        "enum": _("Select a valid choice."),
    }
    return messages.get(kind, str(error.get("msg", _("Enter a valid value."))))


api.add_router("/", "cartera.customers.api.router")
api.add_router("/", "cartera.customers.api_segments.router")
api.add_router("/", "cartera.privacy.api.router")
api.add_router("/", "cartera.quality.api.router")
api.add_router("/", "cartera.transfer.api.router")
api.add_router("/", "cartera.transfer.api_export.router")
api.add_router("/", "cartera.sales.api.router")
api.add_router("/", "cartera.insights.api.router")
api.add_router("/", "cartera.activities.api.router")
api.add_router("/", "cartera.activities.api_documents.router")


@csrf_exempt  # like every API operation: nothing to protect, and a JSON answer to all methods
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """An /api/ address that names no operation (or an id that is not a number): JSON 404."""
    return api.create_response(request, {"detail": _("Not found.")}, status=404)


class MethodNotAllowedMiddleware:
    """A method an API address does not offer answers 405 in JSON, as every other API error,
    and in the user's language; ``Allow`` still lists the methods it offers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if response.status_code != 405 or match is None or match.namespace != api.urls_namespace:
            return response
        allowed = response.get("Allow", "")
        message = _("This address does not take %(method)s requests; it takes %(allowed)s.") % {
            "method": request.method,
            "allowed": allowed,
        }
        answer = api.create_response(request, {"detail": message}, status=405)
        answer["Allow"] = allowed
        return answer
