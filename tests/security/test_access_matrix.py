"""Who may open what: every URL of the URL configuration, every method, every kind of user.

The cases are generated from Django's resolver, the ninja API's operations included, and
each one must have an expected outcome in ``MATRIX``: a new endpoint fails here until
someone decides, and writes down, who may use it. The company runs in team visibility, so a
salesperson of another team must not even learn that a customer exists (404).

Every case also checks that a request which is not an allowed write leaves the data
exactly as it was (only the access log may grow), and the CSRF tests check that no form or
API write is accepted from a session without the CSRF token.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.db.models import Model
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from ninja.operation import PathView

from cartera.accounts.models import Role, Team, User
from cartera.activities import documents, follow_up
from cartera.activities.models import Attachment, FollowUpList, Reminder
from cartera.activities.services import create_task
from cartera.audit.models import AuditEvent
from cartera.core.models import Company, VisibilityMode
from cartera.customers import segments
from cartera.customers.models import Customer, Segment
from cartera.privacy import services as privacy
from cartera.privacy.models import DataSubjectRequest, PrivacyPolicy
from cartera.quality.models import DuplicatePair
from cartera.sales import opportunities as sales_opportunities
from cartera.sales import services as sales
from cartera.sales.models import Opportunity, PipelineStage, Product, SalesDocument
from cartera.transfer import services as imports
from cartera.transfer.models import Import
from tests.conftest import bearer, client_for, make_customer, make_user, valid_cif

ACTORS = ("owner", "teammate", "outsider", "reader", "manager", "admin", "anonymous")
SIGNED_IN = ACTORS[:-1]
API_METHODS = ("GET", "POST", "PATCH", "DELETE")
UI_METHODS = ("GET", "POST")


# --- Expected outcomes ------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """The status a request must get; for redirects, where to; whether it may change data."""

    status: int
    location: str | None = None  # the start of the Location header; {pk}, {user} filled in
    writes: bool = False  # an allowed change: the data may differ afterwards

    def __str__(self) -> str:
        return f"{self.status} → {self.location}" if self.location else str(self.status)


OK = Expect(200)
CREATED = Expect(201, writes=True)
LOGIN = Expect(302, "/accounts/login/")  # to the login page (login_required, logout, …)
FORBIDDEN = Expect(403)
MISSING = Expect(404)  # also what a customer the user may not see looks like
NOT_ALLOWED = Expect(405)
INVALID = Expect(422)  # the empty form or body is refused by validation
UNAUTHORIZED = Expect(401)

Row = dict[str, Expect]


def to(location: str, *, writes: bool = False) -> Expect:
    return Expect(302, location, writes)


def signed_in(everyone: Expect, *, anonymous: Expect = LOGIN, **actors: Expect) -> Row:
    """``everyone`` for each signed-in actor unless named; anonymous visitors go to login."""
    row = dict.fromkeys(SIGNED_IN, everyone)
    row.update(actors, anonymous=anonymous)
    return row


def public(everyone: Expect, **actors: Expect) -> Row:
    """Open to anonymous visitors too (``anonymous=`` may say otherwise)."""
    return signed_in(everyone, **({"anonymous": everyone} | actors))


def admins(admin: Expect, *, anonymous: Expect = LOGIN) -> Row:
    return signed_in(FORBIDDEN, admin=admin, anonymous=anonymous)


def managers(allowed: Expect, *, anonymous: Expect = LOGIN) -> Row:
    return signed_in(FORBIDDEN, manager=allowed, admin=allowed, anonymous=anonymous)


def of_customer(visible: Expect, *, reader: Expect | None = None, anonymous: Expect = LOGIN) -> Row:
    """A page of the team Norte's customer: the outsider (team Sur) must not find it."""
    return signed_in(visible, outsider=MISSING, reader=reader or visible, anonymous=anonymous)


def editing_customer(allowed: Expect, *, anonymous: Expect = LOGIN) -> Row:
    """A change to the customer: its team, managers and admins; the reader only sees it."""
    return of_customer(allowed, reader=FORBIDDEN, anonymous=anonymous)


def of_pair(allowed: Expect) -> Row:
    """A pair of the team Norte's customers: only who may edit both finds it."""
    return signed_in(allowed, outsider=MISSING, reader=MISSING)


def api(everyone: Expect, **actors: Expect) -> Row:
    return signed_in(everyone, anonymous=UNAUTHORIZED, **actors)


def api_of_pair(allowed: Expect) -> Row:
    return api(allowed, outsider=MISSING, reader=MISSING)


def api_of_customer(visible: Expect, *, reader: Expect | None = None, **actors: Expect) -> Row:
    return of_customer(visible, reader=reader, anonymous=UNAUTHORIZED) | actors


def own_import(allowed: Expect) -> Row:
    """The owner's import: theirs and the administrators'; others do not find it."""
    return signed_in(MISSING, owner=allowed, admin=allowed, reader=FORBIDDEN)


CUSTOMER = "/customers/{pk}/"
WORLD_NAME = "Matriz"  # the world's segment and follow-up list
WORLD_IMPORT = "matriz.csv"  # the owner's import
SEGMENT_GONE = Expect(302, "/customers/segments/", writes=True)
LIST_GONE = Expect(302, "/follow-up/", writes=True)
SEGMENT_KEEPERS = ("owner", "manager", "admin")  # who may delete the world's shared segment
DELETED = Expect(204, writes=True)
PRIVACY = "/privacy/customers/{pk}/"
IMPORT = "/import/{import}/"
DUPLICATES = "/duplicates/"
SALES_DOCUMENT = "/sales/documents/{sales_document}/"
OPPORTUNITY = "/sales/opportunities/{opportunity}/"

# (URL name, method) → actor → outcome. Requests carry the bodies of POST_DATA / API_BODIES
# (an empty form otherwise), so a write either succeeds or is refused by validation.
MATRIX: dict[tuple[str, str], Row] = {
    # core
    ("core:home", "GET"): signed_in(to("/today/")),
    ("core:home", "POST"): signed_in(to("/today/")),
    ("core:set_language", "GET"): public(NOT_ALLOWED),  # the login page offers it too
    ("core:set_language", "POST"): public(to("/")),
    ("core:settings", "GET"): admins(OK),
    ("core:settings", "POST"): admins(INVALID),
    ("core:jobs", "GET"): admins(OK),
    ("core:jobs", "POST"): admins(NOT_ALLOWED),
    ("core:job_retry", "GET"): admins(NOT_ALLOWED),
    ("core:job_retry", "POST"): admins(MISSING),  # the id is no failed job (tests/core/test_jobs)
    # accounts: logging in and out is public by design
    ("accounts:login", "GET"): public(to("/today/"), anonymous=OK),
    ("accounts:login", "POST"): public(to("/today/"), anonymous=OK),
    ("accounts:login_code", "GET"): public(LOGIN),  # nobody is half-way through a login
    ("accounts:login_code", "POST"): public(LOGIN),
    ("accounts:logout", "GET"): public(NOT_ALLOWED),
    ("accounts:logout", "POST"): public(LOGIN),
    ("accounts:password_change", "GET"): signed_in(OK),
    ("accounts:password_change", "POST"): signed_in(OK),  # the form again, with its errors
    ("accounts:password_done", "GET"): signed_in(OK),
    ("accounts:password_done", "POST"): signed_in(NOT_ALLOWED),
    ("accounts:two_factor", "GET"): signed_in(OK),
    ("accounts:two_factor", "POST"): signed_in(INVALID),
    ("accounts:users", "GET"): admins(OK),
    ("accounts:users", "POST"): admins(OK),
    ("accounts:user_create", "GET"): admins(OK),
    ("accounts:user_create", "POST"): admins(INVALID),
    ("accounts:user_edit", "GET"): admins(OK),
    ("accounts:user_edit", "POST"): admins(INVALID),
    ("accounts:user_two_factor_reset", "GET"): admins(NOT_ALLOWED),
    ("accounts:user_two_factor_reset", "POST"): admins(to("/accounts/users/{user}/", writes=True)),
    ("accounts:teams", "GET"): admins(OK),
    ("accounts:teams", "POST"): admins(INVALID),
    # customers
    ("customers:list", "GET"): signed_in(OK),
    ("customers:list", "POST"): signed_in(OK),
    ("customers:create", "GET"): signed_in(OK, reader=FORBIDDEN),
    ("customers:create", "POST"): signed_in(INVALID, reader=FORBIDDEN),
    ("customers:regions", "GET"): signed_in(OK),
    ("customers:regions", "POST"): signed_in(OK),
    ("customers:handover", "GET"): managers(OK),
    ("customers:handover", "POST"): managers(INVALID),
    ("customers:detail", "GET"): of_customer(OK),
    ("customers:detail", "POST"): of_customer(OK),
    ("customers:edit", "GET"): editing_customer(OK),
    ("customers:edit", "POST"): editing_customer(INVALID),
    ("customers:history", "GET"): of_customer(OK),
    ("customers:history", "POST"): of_customer(OK),
    ("customers:archive", "GET"): signed_in(NOT_ALLOWED),
    ("customers:archive", "POST"): editing_customer(to(CUSTOMER, writes=True)),
    ("customers:restore", "GET"): signed_in(NOT_ALLOWED),
    ("customers:restore", "POST"): editing_customer(to(CUSTOMER, writes=True)),
    ("customers:reviewed", "GET"): signed_in(NOT_ALLOWED),
    ("customers:reviewed", "POST"): editing_customer(to(CUSTOMER, writes=True)),
    # the administrators' lists
    **{
        (f"lists:{name}", method): admins(OK if method == "GET" else INVALID)
        for name in (
            "fiscal_types",
            "legal_forms",
            "lead_sources",
            "sectors",
            "groups",
            "custom_fields",
        )
        for method in UI_METHODS
    },
    # duplicates: a pair is found only by those who may edit both of its customers
    ("quality:list", "GET"): signed_in(OK, reader=FORBIDDEN),
    ("quality:list", "POST"): signed_in(NOT_ALLOWED),
    ("quality:scan", "GET"): signed_in(NOT_ALLOWED),
    ("quality:scan", "POST"): managers(to(DUPLICATES, writes=True)),
    ("quality:merge", "GET"): of_pair(OK),
    ("quality:merge", "POST"): of_pair(INVALID),  # not confirmed: nothing happens
    ("quality:dismiss", "GET"): signed_in(NOT_ALLOWED),
    ("quality:dismiss", "POST"): of_pair(to(DUPLICATES, writes=True)),
    ("quality:reopen", "GET"): signed_in(NOT_ALLOWED),
    ("quality:reopen", "POST"): of_pair(to(DUPLICATES)),  # open already: no change
    # data protection
    ("privacy:customer", "GET"): of_customer(OK),
    ("privacy:customer", "POST"): editing_customer(to(PRIVACY, writes=True)),
    ("privacy:package", "GET"): admins(OK),
    ("privacy:package", "POST"): admins(OK),
    ("privacy:block", "GET"): admins(NOT_ALLOWED),
    ("privacy:block", "POST"): admins(to(PRIVACY, writes=True)),
    ("privacy:anonymize", "GET"): admins(NOT_ALLOWED),
    ("privacy:anonymize", "POST"): admins(to(PRIVACY)),  # not blocked yet: nothing happens
    ("privacy:requests", "GET"): managers(OK),
    ("privacy:requests", "POST"): managers(OK),
    ("privacy:request", "GET"): managers(OK),
    ("privacy:request", "POST"): managers(to(PRIVACY, writes=True)),
    ("privacy:policy", "GET"): admins(OK),
    ("privacy:policy", "POST"): admins(INVALID),
    # segments: the world's one is the owner's, shared; bulk actions; follow-up lists (shared)
    ("segments:list", "GET"): signed_in(OK),
    ("segments:list", "POST"): signed_in(NOT_ALLOWED),
    ("segments:create", "GET"): signed_in(OK),
    ("segments:create", "POST"): signed_in(INVALID),
    ("segments:open", "GET"): signed_in(to("/customers/?stage=client")),
    ("segments:open", "POST"): signed_in(NOT_ALLOWED),
    ("segments:edit", "GET"): signed_in(FORBIDDEN, owner=OK),
    ("segments:edit", "POST"): signed_in(FORBIDDEN, owner=INVALID),
    ("segments:delete", "GET"): signed_in(NOT_ALLOWED),
    ("segments:delete", "POST"): managers(SEGMENT_GONE) | {"owner": SEGMENT_GONE},
    ("bulk:action", "GET"): signed_in(NOT_ALLOWED),
    ("bulk:action", "POST"): signed_in(INVALID, reader=FORBIDDEN),
    ("follow_up:lists", "GET"): signed_in(OK),
    ("follow_up:lists", "POST"): signed_in(INVALID, reader=FORBIDDEN),
    ("follow_up:open", "GET"): signed_in(to("/customers/?follow_up_list=")),
    ("follow_up:open", "POST"): signed_in(NOT_ALLOWED),
    ("follow_up:edit", "GET"): signed_in(FORBIDDEN, owner=OK),
    ("follow_up:edit", "POST"): signed_in(FORBIDDEN, owner=INVALID),
    ("follow_up:delete", "GET"): signed_in(NOT_ALLOWED),
    ("follow_up:delete", "POST"): managers(LIST_GONE) | {"owner": LIST_GONE},
    ("follow_up:remove", "GET"): signed_in(NOT_ALLOWED),
    ("follow_up:remove", "POST"): signed_in(to("/follow-up/"), reader=FORBIDDEN),  # none ticked
    # exports: what each one sees of the list, the world's shared segment, a customer's vCards
    ("export:customers", "GET"): signed_in(OK),
    ("export:customers", "POST"): signed_in(NOT_ALLOWED),
    ("export:download", "GET"): signed_in(INVALID),  # no format or columns chosen
    ("export:download", "POST"): signed_in(NOT_ALLOWED),
    ("export:segment", "GET"): signed_in(OK),
    ("export:segment", "POST"): signed_in(NOT_ALLOWED),
    ("export:segment_download", "GET"): signed_in(INVALID),
    ("export:segment_download", "POST"): signed_in(NOT_ALLOWED),
    ("export:customer_vcard", "GET"): of_customer(OK),
    ("export:customer_vcard", "POST"): signed_in(NOT_ALLOWED),
    # tasks: the agenda, a customer's tasks (the world's task is the owner's, not private)
    ("tasks:agenda", "GET"): signed_in(OK),
    ("tasks:agenda", "POST"): signed_in(NOT_ALLOWED),
    ("tasks:create", "GET"): signed_in(OK, reader=FORBIDDEN),
    ("tasks:create", "POST"): signed_in(INVALID, reader=FORBIDDEN),  # no customer chosen
    ("tasks:customer_create", "GET"): of_customer(OK, reader=FORBIDDEN),
    ("tasks:customer_create", "POST"): of_customer(INVALID, reader=FORBIDDEN),
    ("tasks:detail", "GET"): of_customer(OK),
    ("tasks:detail", "POST"): editing_customer(INVALID),
    ("tasks:done", "GET"): signed_in(NOT_ALLOWED),
    ("tasks:done", "POST"): editing_customer(to(CUSTOMER, writes=True)),
    ("tasks:reopen", "GET"): signed_in(NOT_ALLOWED),
    ("tasks:reopen", "POST"): editing_customer(to(CUSTOMER)),  # open already: nothing to do
    ("tasks:snooze", "GET"): signed_in(NOT_ALLOWED),
    ("tasks:snooze", "POST"): editing_customer(to(CUSTOMER, writes=True)),
    # the private calendar feed: its key is the credential, so no session; a wrong one is 404
    ("calendar:feed", "GET"): public(MISSING),
    ("calendar:feed", "POST"): public(NOT_ALLOWED),
    ("calendar:settings", "GET"): signed_in(OK),
    ("calendar:settings", "POST"): signed_in(INVALID),
    # documents of the customer (the world's one is the owner's and not private)
    ("documents:list", "GET"): of_customer(OK),
    ("documents:list", "POST"): of_customer(INVALID, reader=FORBIDDEN),  # upload, no file
    ("documents:download", "GET"): of_customer(OK),
    ("documents:download", "POST"): signed_in(NOT_ALLOWED),
    ("documents:delete", "GET"): signed_in(NOT_ALLOWED),
    ("documents:delete", "POST"): editing_customer(to(CUSTOMER, writes=True)),
    # activities: Mi día, the lifecycle, notes and the timeline of the customer
    ("activities:today", "GET"): signed_in(OK),
    ("activities:today", "POST"): signed_in(NOT_ALLOWED),
    ("activities:today_task_done", "GET"): signed_in(NOT_ALLOWED),
    ("activities:today_task_done", "POST"): editing_customer(to("/today/", writes=True)),
    ("activities:today_task_snooze", "GET"): signed_in(NOT_ALLOWED),
    ("activities:today_task_snooze", "POST"): editing_customer(to("/today/", writes=True)),
    # a reminder is its user's alone (the world's is the owner's)
    ("activities:today_reminder_done", "GET"): signed_in(NOT_ALLOWED),
    ("activities:today_reminder_done", "POST"): signed_in(
        MISSING, owner=to("/today/", writes=True)
    ),
    ("activities:today_reminder_snooze", "GET"): signed_in(NOT_ALLOWED),
    ("activities:today_reminder_snooze", "POST"): signed_in(
        MISSING, owner=to("/today/", writes=True)
    ),
    ("activities:stage", "GET"): editing_customer(OK),
    ("activities:stage", "POST"): editing_customer(INVALID),
    ("activities:status", "GET"): editing_customer(OK),
    ("activities:status", "POST"): editing_customer(INVALID),
    ("activities:note_create", "GET"): of_customer(OK, reader=FORBIDDEN),
    ("activities:note_create", "POST"): of_customer(INVALID, reader=FORBIDDEN),
    ("activities:timeline", "GET"): of_customer(OK),
    ("activities:timeline", "POST"): signed_in(NOT_ALLOWED),
    # the API's schema and docs are public by design: they describe, they hold no data
    ("api:openapi-json", "GET"): public(OK),
    ("api:openapi-json", "POST"): public(OK),
    # an /api/ address that names no operation answers a JSON 404 to everyone
    ("api_not_found", "GET"): public(MISSING),
    ("api_not_found", "POST"): public(MISSING),
    ("api:openapi-view", "GET"): public(OK),
    ("api:openapi-view", "POST"): public(OK),
    ("api:api-root", "GET"): public(MISSING),
    ("api:api-root", "POST"): public(MISSING),
    # API operations (anonymous: 401; undeclared methods: 405, checked without a row)
    ("api:list_customers", "GET"): api(OK),
    ("api:create_customer", "POST"): api(CREATED, reader=FORBIDDEN),
    ("api:get_customer", "GET"): api_of_customer(OK),
    ("api:patch_customer", "PATCH"): api_of_customer(Expect(200, writes=True), reader=FORBIDDEN),
    ("api:archive_customer", "DELETE"): api_of_customer(Expect(200, writes=True), reader=FORBIDDEN),
    ("api:restore_customer", "POST"): api_of_customer(Expect(200, writes=True), reader=FORBIDDEN),
    ("api:customer_history", "GET"): api_of_customer(OK),
    ("api:check_tax_id_endpoint", "GET"): api(OK),
    ("api:list_consents", "GET"): api_of_customer(OK),
    ("api:add_consent", "POST"): api_of_customer(CREATED, reader=FORBIDDEN),
    ("api:list_requests", "GET"): api(OK),  # an empty list for salespeople
    ("api:add_request", "POST"): api_of_customer(FORBIDDEN, manager=CREATED, admin=CREATED),
    ("api:personal_data", "GET"): api_of_customer(FORBIDDEN, admin=OK),
    ("api:list_segments", "GET"): api(OK),
    ("api:create_segment", "POST"): api(CREATED),  # anyone may save their own filters
    ("api:get_segment", "GET"): api(OK),
    ("api:patch_segment", "PATCH"): api(FORBIDDEN, owner=Expect(200, writes=True)),
    ("api:delete_segment", "DELETE"): api(FORBIDDEN, **dict.fromkeys(SEGMENT_KEEPERS, DELETED)),
    ("api:segment_customer_list", "GET"): api(OK),
    ("api:export_customers", "GET"): api(OK),  # what each one sees, streamed
    ("api:export_segment", "GET"): api(OK),
    # the other team's salesperson is answered, and nothing of the customer changes
    ("api:bulk_customers", "POST"): api(Expect(200, writes=True), outsider=OK, reader=FORBIDDEN),
    ("api:list_documents", "GET"): api_of_customer(OK),
    ("api:upload_document", "POST"): api_of_customer(INVALID, reader=FORBIDDEN),  # no file
    ("api:get_document", "GET"): api_of_customer(OK),
    ("api:download_document", "GET"): api_of_customer(OK),
    ("api:delete_document", "DELETE"): api_of_customer(Expect(204, writes=True), reader=FORBIDDEN),
    # sales: the catalogue (managers keep it), the world's draft quote and open opportunity
    ("sales:products", "GET"): signed_in(OK),
    ("sales:products", "POST"): signed_in(OK),
    ("sales:product_create", "GET"): managers(OK),
    ("sales:product_create", "POST"): managers(INVALID),
    ("sales:product_edit", "GET"): managers(OK),
    ("sales:product_edit", "POST"): managers(INVALID),
    ("sales:documents", "GET"): signed_in(OK),
    ("sales:documents", "POST"): signed_in(OK),
    ("sales:document_create", "GET"): signed_in(OK, reader=FORBIDDEN),  # choose the customer
    ("sales:document_create", "POST"): signed_in(INVALID, reader=FORBIDDEN),
    ("sales:document", "GET"): of_customer(OK),
    ("sales:document", "POST"): of_customer(OK),
    ("sales:document_edit", "GET"): editing_customer(OK),
    ("sales:document_edit", "POST"): editing_customer(INVALID),
    ("sales:document_pdf", "GET"): of_customer(OK),
    ("sales:document_pdf", "POST"): of_customer(OK),
    ("sales:document_state", "GET"): signed_in(NOT_ALLOWED),
    ("sales:document_state", "POST"): editing_customer(to(SALES_DOCUMENT)),  # no state given
    ("sales:document_convert", "GET"): signed_in(NOT_ALLOWED),
    ("sales:document_convert", "POST"): editing_customer(to(SALES_DOCUMENT)),  # no type given
    ("sales:board", "GET"): signed_in(OK),
    ("sales:board", "POST"): signed_in(OK),
    ("sales:opportunities", "GET"): signed_in(OK),
    ("sales:opportunities", "POST"): signed_in(OK),
    ("sales:opportunity_create", "GET"): editing_customer(OK),
    ("sales:opportunity_create", "POST"): editing_customer(INVALID),
    ("sales:opportunity", "GET"): of_customer(OK),
    ("sales:opportunity", "POST"): editing_customer(INVALID),
    ("sales:opportunity_move", "GET"): signed_in(NOT_ALLOWED),
    ("sales:opportunity_move", "POST"): editing_customer(to("/sales/pipeline/")),  # no stage
    ("sales:opportunity_win", "GET"): signed_in(NOT_ALLOWED),
    ("sales:opportunity_win", "POST"): editing_customer(to(OPPORTUNITY, writes=True)),
    ("sales:opportunity_lose", "GET"): signed_in(NOT_ALLOWED),
    ("sales:opportunity_lose", "POST"): editing_customer(to(OPPORTUNITY)),  # no reason given
    ("sales:stages", "GET"): admins(OK),
    ("sales:stages", "POST"): admins(INVALID),
    # portfolio analysis: everyone sees the figures of what they may see; managers recompute
    ("insights:dashboard", "GET"): signed_in(OK),
    ("insights:dashboard", "POST"): signed_in(NOT_ALLOWED),
    ("insights:export", "GET"): signed_in(OK),
    ("insights:export", "POST"): signed_in(NOT_ALLOWED),
    ("insights:refresh", "GET"): signed_in(NOT_ALLOWED),
    ("insights:refresh", "POST"): managers(to("/insights/", writes=True)),
    ("api:list_products", "GET"): api(OK),
    ("api:create_product", "POST"): api(FORBIDDEN, manager=CREATED, admin=CREATED),
    ("api:get_product", "GET"): api(OK),
    ("api:patch_product", "PATCH"): api(
        FORBIDDEN, manager=Expect(200, writes=True), admin=Expect(200, writes=True)
    ),
    ("api:list_sales_documents", "GET"): api(OK),
    ("api:create_sales_document", "POST"): api_of_customer(CREATED, reader=FORBIDDEN),
    ("api:get_sales_document", "GET"): api_of_customer(OK),
    ("api:patch_sales_document", "PATCH"): api_of_customer(
        Expect(200, writes=True), reader=FORBIDDEN
    ),
    ("api:change_sales_document_state", "POST"): api_of_customer(
        Expect(200, writes=True), reader=FORBIDDEN
    ),
    ("api:convert_sales_document", "POST"): api_of_customer(CREATED, reader=FORBIDDEN),
    ("api:list_pipeline_stages", "GET"): api(OK),
    ("api:list_opportunities", "GET"): api(OK),
    ("api:create_opportunity", "POST"): api_of_customer(CREATED, reader=FORBIDDEN),
    ("api:get_opportunity", "GET"): api_of_customer(OK),
    ("api:patch_opportunity", "PATCH"): api_of_customer(Expect(200, writes=True), reader=FORBIDDEN),
    ("api:win_opportunity", "POST"): api_of_customer(Expect(200, writes=True), reader=FORBIDDEN),
    ("api:lose_opportunity", "POST"): api_of_customer(Expect(200, writes=True), reader=FORBIDDEN),
    ("api:purchase_history", "GET"): api_of_customer(OK),
    ("api:insights_dashboard", "GET"): api(OK),
    ("api:list_customer_tasks", "GET"): api_of_customer(OK),
    ("api:create_customer_task", "POST"): api_of_customer(CREATED, reader=FORBIDDEN),
    ("api:list_tasks", "GET"): api(OK),
    ("api:get_task", "GET"): api_of_customer(OK),
    ("api:patch_task", "PATCH"): api_of_customer(Expect(200, writes=True), reader=FORBIDDEN),
    ("api:complete_task", "POST"): api_of_customer(Expect(200, writes=True), reader=FORBIDDEN),
    ("api:reopen_task", "POST"): api_of_customer(OK, reader=FORBIDDEN),  # open: no change
    ("api:snooze_task", "POST"): api_of_customer(Expect(200, writes=True), reader=FORBIDDEN),
    ("api:list_notes", "GET"): api_of_customer(OK),
    ("api:log_note", "POST"): api_of_customer(CREATED, reader=FORBIDDEN),
    ("api:change_stage", "POST"): api_of_customer(Expect(200, writes=True), reader=FORBIDDEN),
    ("api:change_status", "POST"): api_of_customer(Expect(200, writes=True), reader=FORBIDDEN),
    ("api:customer_timeline", "GET"): api_of_customer(OK),
    # the import: the owner's file, seen by them and the administrators; readers cannot import
    ("transfer:start", "GET"): signed_in(OK, reader=FORBIDDEN),
    ("transfer:start", "POST"): signed_in(INVALID, reader=FORBIDDEN),  # no file
    ("transfer:template", "GET"): signed_in(OK, reader=FORBIDDEN),
    ("transfer:template", "POST"): signed_in(OK, reader=FORBIDDEN),
    ("transfer:detail", "GET"): own_import(OK),
    ("transfer:detail", "POST"): own_import(OK),
    ("transfer:progress", "GET"): own_import(OK),
    ("transfer:progress", "POST"): own_import(OK),
    ("transfer:mapping", "GET"): signed_in(NOT_ALLOWED),
    ("transfer:mapping", "POST"): own_import(INVALID),  # no column chosen
    ("transfer:run", "GET"): signed_in(NOT_ALLOWED),
    ("transfer:run", "POST"): own_import(to(IMPORT)),  # not checked yet: refused
    ("transfer:cancel", "GET"): signed_in(NOT_ALLOWED),
    ("transfer:cancel", "POST"): own_import(to(IMPORT)),  # not running: refused
    ("transfer:undo", "GET"): signed_in(NOT_ALLOWED),
    ("transfer:undo", "POST"): own_import(to(IMPORT)),  # not imported: refused
    ("transfer:errors", "GET"): signed_in(MISSING, reader=FORBIDDEN),  # no invalid rows
    ("transfer:errors", "POST"): signed_in(MISSING, reader=FORBIDDEN),
    ("api:upload_import", "POST"): api(INVALID, reader=FORBIDDEN),  # no file
    ("api:get_import", "GET"): api(MISSING, owner=OK, admin=OK),
    ("api:set_import_mapping", "POST"): api(
        MISSING, owner=Expect(200, writes=True), admin=Expect(200, writes=True)
    ),
    ("api:import_report", "GET"): api(MISSING, owner=OK, admin=OK),
    ("api:run_import", "POST"): api(MISSING, owner=INVALID, admin=INVALID),  # not checked yet
    ("api:list_duplicate_pairs", "GET"): api(OK),  # an empty list for those who may not edit
    ("api:dismiss_duplicate_pair", "POST"): api_of_pair(Expect(200, writes=True)),
    ("api:merge_duplicate_pair", "POST"): api_of_pair(Expect(200, writes=True)),
    ("api:request_duplicate_scan", "POST"): api(
        FORBIDDEN, manager=Expect(202, writes=True), admin=Expect(202, writes=True)
    ),
}

TODAY = "{today}"
# Form bodies that would succeed for an allowed user (others post an empty form).
POST_DATA: dict[str, dict[str, str]] = {
    "privacy:customer": {
        "consent-purpose": "commercial",
        "consent-legal_basis": "consent",
        "consent-state": "granted",
        "consent-recorded_on": TODAY,
        "consent-source": "formulario web",
    },
    "privacy:request": {"status": "completed", "resolution": "Datos enviados."},
}
API_BODIES: dict[str, dict[str, Any]] = {
    "api:create_customer": {
        "kind": "organization",
        "legal_name": "Alta por API",
        "stage": "lead",
        "channels": [{"type": "email", "value": "alta@api.example"}],
    },
    "api:patch_customer": {"notes": "Cambiado por la matriz de accesos"},
    "api:add_consent": {
        "purpose": "commercial",
        "legal_basis": "consent",
        "state": "granted",
        "recorded_on": TODAY,
    },
    "api:add_request": {"customer": "{pk}", "kind": "access", "received_on": TODAY},
    "api:create_segment": {"name": "Por API", "query": "stage=lead"},
    "api:patch_segment": {"name": "Renombrado"},
    "api:set_import_mapping": {"mapping": {"0": "legal_name"}},
    "api:create_product": {"code": "API-1", "name": "Producto de la matriz", "price": "10"},
    "api:patch_product": {"name": "Renombrado"},
    "api:create_sales_document": {
        "customer": "{pk}",
        "type": "quote",
        "lines": [{"description": "Matriz", "quantity": "1", "unit_price": "10", "tax_rate": "21"}],
    },
    "api:patch_sales_document": {"notes": "Cambiado por la matriz"},
    "api:change_sales_document_state": {"state": "sent"},
    "api:convert_sales_document": {"to": "order"},
    "api:create_opportunity": {
        "customer": "{pk}",
        "title": "Matriz",
        "amount": "100",
        "stage": "{stage}",
    },
    "api:patch_opportunity": {"title": "Renombrada"},
    "api:win_opportunity": {},
    "api:lose_opportunity": {"lost_reason": "other"},
    "api:bulk_customers": {
        "action": "set_follow_up",
        "params": {"follow_up": True},
        "ids": ["{pk}"],
    },
    "api:create_customer_task": {"type": "call", "subject": "Matriz", "due_date": TODAY},
    "api:patch_task": {"subject": "Cambiada por la matriz"},
    "api:log_note": {"kind": "note", "body": "Nota de la matriz"},
    "api:change_stage": {"stage": "former", "loss_reason": "not_interested"},
    "api:change_status": {"status": "inactive"},
    "api:merge_duplicate_pair": {"survivor": "{pk}"},
}
QUERY: dict[str, str] = {
    "api:check_tax_id_endpoint": "?country=ES&value=B12345674",
    "insights:export": "?chart=stage",
}
# Which object a path parameter names, when it is not the customer.
PARAMETERS: dict[tuple[str, str], str] = {
    ("accounts:user_edit", "pk"): "user",
    ("accounts:user_two_factor_reset", "pk"): "user",
    ("privacy:request", "pk"): "request",
    **dict.fromkeys(
        [("segments:open", "pk"), ("segments:edit", "pk"), ("segments:delete", "pk")], "segment"
    ),
    **dict.fromkeys(
        [
            ("api:get_segment", "segment_id"),
            ("api:patch_segment", "segment_id"),
            ("api:delete_segment", "segment_id"),
            ("api:segment_customer_list", "segment_id"),
            ("api:export_segment", "segment_id"),
        ],
        "segment",
    ),
    ("export:segment", "pk"): "segment",
    ("export:segment_download", "pk"): "segment",
    **dict.fromkeys(
        [
            ("follow_up:open", "pk"),
            ("follow_up:edit", "pk"),
            ("follow_up:delete", "pk"),
            ("follow_up:remove", "pk"),
        ],
        "follow_up_list",
    ),
    ("documents:download", "pk"): "document",
    **{(f"quality:{name}", "pk"): "pair" for name in ("merge", "dismiss", "reopen")},
    ("api:dismiss_duplicate_pair", "pair_id"): "pair",
    ("api:merge_duplicate_pair", "pair_id"): "pair",
    ("documents:delete", "pk"): "document",
    ("api:get_document", "document_id"): "document",
    ("api:download_document", "document_id"): "document",
    ("api:delete_document", "document_id"): "document",
    **{
        (f"transfer:{name}", "pk"): "import"
        for name in ("detail", "progress", "mapping", "run", "cancel", "undo", "errors")
    },
    **{
        (f"api:{name}", "import_id"): "import"
        for name in ("get_import", "set_import_mapping", "import_report", "run_import")
    },
    ("sales:product_edit", "pk"): "product",
    ("api:get_product", "product_id"): "product",
    ("api:patch_product", "product_id"): "product",
    **{
        (f"sales:{name}", "pk"): "sales_document"
        for name in (
            "document",
            "document_edit",
            "document_pdf",
            "document_state",
            "document_convert",
        )
    },
    **{
        (f"api:{name}", "document_id"): "sales_document"
        for name in (
            "get_sales_document",
            "patch_sales_document",
            "change_sales_document_state",
            "convert_sales_document",
        )
    },
    ("sales:opportunity_create", "customer_id"): "pk",
    **{
        (f"sales:{name}", "pk"): "opportunity"
        for name in ("opportunity", "opportunity_move", "opportunity_win", "opportunity_lose")
    },
    **{
        (f"api:{name}", "opportunity_id"): "opportunity"
        for name in ("get_opportunity", "patch_opportunity", "win_opportunity", "lose_opportunity")
    },
    **{(f"tasks:{name}", "pk"): "task" for name in ("detail", "done", "reopen", "snooze")},
    ("activities:today_task_done", "pk"): "task",
    ("activities:today_task_snooze", "pk"): "task",
    ("activities:today_reminder_done", "pk"): "reminder",
    ("activities:today_reminder_snooze", "pk"): "reminder",
    **{
        (f"api:{name}", "task_id"): "task"
        for name in ("get_task", "patch_task", "complete_task", "reopen_task", "snooze_task")
    },
}


# --- The endpoints, from the URL configuration ---------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str  # namespaced URL name, or the route when the pattern has no name
    route: str  # e.g. "customers/<int:pk>/"
    method: str
    declared: bool = True  # False: a method the API path does not offer (405 for everyone)


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[tuple]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            name = f"{namespace}{pattern.name}" if pattern.name else route
            yield route, name, pattern


def _path_view(callback: Any) -> PathView | None:
    """The ninja PathView behind an API URL pattern (it dispatches by method)."""
    for cell in getattr(callback, "__closure__", None) or ():
        if isinstance(cell.cell_contents, PathView):
            return cell.cell_contents
    return None


def _operation_name(operation: Any) -> str:
    """The URL name ninja gives an operation: its url_name, else the function's name."""
    return getattr(operation, "url_name", None) or operation.view_func.__name__


def endpoints() -> list[Endpoint]:
    """Every (URL, method) to try: GET and POST on pages, every method on API paths."""
    found: list[Endpoint] = []
    api_routes: dict[str, list[str]] = {}
    api_declared: dict[str, set[str]] = {}
    for route, name, pattern in _walk(get_resolver().url_patterns):
        view = _path_view(pattern.callback)
        if view is None:
            found += [Endpoint(name, route, method) for method in UI_METHODS]
            continue
        names = api_routes.setdefault(route, [])
        names.append(name)
        operations = view.operations
        short = name.rpartition(":")[2]
        operation = next(
            (op for op in operations if _operation_name(op) == short),
            operations[min(len(names), len(operations)) - 1],
        )
        for method in operation.methods:
            found.append(Endpoint(name, route, method.upper()))
            api_declared.setdefault(route, set()).add(method.upper())
    for route, names in api_routes.items():
        for method in API_METHODS:
            if method not in api_declared[route]:
                found.append(Endpoint(names[0], route, method, declared=False))
    return found


ENDPOINTS = endpoints()
CASES = [
    pytest.param(endpoint, actor, id=f"{endpoint.name}-{endpoint.method}-{actor}")
    for endpoint in ENDPOINTS
    # a method the API path does not offer is refused before anything else: two actors do
    for actor in (ACTORS if endpoint.declared else ("admin", "anonymous"))
]


# --- Fixtures and helpers -----------------------------------------------------------------------


@dataclass
class World:
    users: dict[str, User]
    customer: Customer
    request: DataSubjectRequest
    document: Attachment
    sessions: dict[str, str]  # actor → session key, logged in once for the module
    baseline: dict[str, list[Any]]  # the data as every test starts with it

    def client(self, actor: str, **kwargs: Any) -> Client:
        """A browser of the actor (signed in, unless anonymous)."""
        client = Client(**kwargs)
        if actor in self.sessions:
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[actor]
        return client

    def context(self) -> dict[str, Any]:
        return {
            "pk": self.customer.pk,
            "user": self.users["owner"].pk,
            "request": self.request.pk,
            "segment": Segment.objects.get(name=WORLD_NAME).pk,
            "follow_up_list": FollowUpList.objects.get(name=WORLD_NAME).pk,
            "document": self.document.pk,
            "import": Import.objects.values_list("pk", flat=True).get(file_name=WORLD_IMPORT),
            "pair": DuplicatePair.objects.values_list("pk", flat=True).first(),
            "product": Product.objects.get(code=WORLD_NAME).pk,
            "sales_document": SalesDocument.objects.get(customer=self.customer).pk,
            "opportunity": Opportunity.objects.get(title=WORLD_NAME).pk,
            "stage": PipelineStage.objects.order_by("position").first().pk,
            "task": self.customer.tasks.order_by("pk").values_list("pk", flat=True).first(),
            "reminder": self.customer.reminders.values_list("pk", flat=True).first(),
            "today": datetime.date.today().isoformat(),
        }


def build_world() -> World:
    """The team Norte's client, one open data-protection request, and everyone who may ask."""
    company = Company.load()
    company.visibility_mode = VisibilityMode.TEAM
    company.save()
    PrivacyPolicy.load()  # the singletons exist, so that a read does not create them
    north = Team.objects.create(name="Norte")
    users = {
        "owner": make_user("olga", team=north),
        "teammate": make_user("tomas", team=north),
        "outsider": make_user("oscar", team=Team.objects.create(name="Sur")),
        # read-only member of the team: sees its customers, changes none
        "reader": make_user("rita", role=Role.READ_ONLY, team=north),
        "manager": make_user("marta", role=Role.MANAGER),
        "admin": make_user("ana", role=Role.ADMIN),
    }
    customer = make_customer(users["owner"])
    twin = make_customer(users["owner"], tax_id=valid_cif(7777777), legal_name="Gemelo SL")
    now = datetime.datetime.now(datetime.UTC)
    DuplicatePair.objects.create(
        customer_a=customer, customer_b=twin, score=90, reasons=[], found_at=now, seen_at=now
    )
    request = privacy.open_request(
        customer=customer, by=users["manager"], kind="access", received_on=datetime.date.today()
    )
    create_task(
        customer=customer,
        data={"type": "call", "subject": "Llamar", "due_date": datetime.date.today()},
        by=users["owner"],
    )
    Reminder.objects.create(
        user=users["owner"], customer=customer, kind="review",
        due_date=datetime.date.today(), key="world",
    )  # fmt: skip
    document = documents.attach_document(
        customer=customer,
        by=users["owner"],
        file=SimpleUploadedFile("contrato.pdf", b"%PDF-1.4\n%%EOF\n"),
        kind="contract",
    )
    segments.create_segment(name=WORLD_NAME, query="stage=client", shared=True, by=users["owner"])
    follow_up.create_list(name=WORLD_NAME, shared=True, by=users["owner"])
    imports.create_import(
        file=SimpleUploadedFile(WORLD_IMPORT, "Razón social;NIF\nUno;B12345674\n".encode()),
        name=WORLD_IMPORT,
        by=users["owner"],
    )
    Product.objects.create(code=WORLD_NAME, name="Producto", price=10)
    sales.create_document(
        customer=customer,
        doc_type="quote",
        data={},
        lines=[{"description": "Matriz", "quantity": "1", "unit_price": "10", "tax_rate": "21"}],
        by=users["owner"],
    )
    sales_opportunities.create_opportunity(
        customer=customer,
        data={"title": WORLD_NAME, "amount": 100, "stage": PipelineStage.objects.first()},
        by=users["owner"],
    )
    sessions = {}
    for actor, user in users.items():
        client = client_for(user)
        sessions[actor] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return World(
        users=users,
        customer=customer,
        request=request,
        document=document,
        sessions=sessions,
        baseline=snapshot(),
    )


@pytest.fixture(scope="module")
def shared_world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """One world for the module, rolled back at its end; each test runs in a savepoint.

    Hundreds of cases read the same few rows: building them once keeps the module fast,
    and the per-test transaction of ``django_db`` still undoes whatever a case changed.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        world = build_world()
        yield world
        world.document.file.storage.delete(world.document.file.name)  # files outlive rollbacks
        for upload in Import.objects.all():
            upload.file.delete(save=False)
        transaction.set_rollback(True)


@pytest.fixture
def world(shared_world: World, db: None) -> World:
    for cache in caches.all():  # the login rate limit counts in the cache across tests
        cache.clear()
    shared_world.customer.refresh_from_db()
    return shared_world


_CONVERTER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


def build_url(endpoint: Endpoint, world: World) -> str:
    """The route with each path parameter replaced by the id of the object it names."""
    context = world.context()

    def value(match: re.Match[str]) -> str:
        which = PARAMETERS.get((endpoint.name, match["name"]), "pk")
        return str(context[which])

    if "<" in endpoint.route and not _CONVERTER.search(endpoint.route):
        pytest.fail(f"Cannot build a URL for the pattern {endpoint.route!r}")
    url = "/" + _CONVERTER.sub(value, endpoint.route)
    return url + QUERY.get(endpoint.name, "")


def _fill(value: Any, context: dict[str, Any]) -> Any:
    if isinstance(value, str):
        filled = value.format(**context)
        return int(filled) if value == "{pk}" else filled
    if isinstance(value, dict):
        return {k: _fill(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, context) for v in value]
    return value


def send(client: Client, endpoint: Endpoint, url: str, context: dict[str, Any]) -> Any:
    method = endpoint.method.lower()
    if endpoint.name.startswith("api:") and _is_api_operation(endpoint):
        if method == "get":
            return client.get(url)
        body = json.dumps(_fill(API_BODIES.get(endpoint.name, {}), context))
        return getattr(client, method)(url, body, content_type="application/json")
    if method == "get":
        return client.get(url)
    if method == "post":
        return client.post(url, _fill(POST_DATA.get(endpoint.name, {}), context))
    return getattr(client, method)(url)


def _is_api_operation(endpoint: Endpoint) -> bool:
    return endpoint.name not in {"api:openapi-json", "api:openapi-view", "api:api-root"}


# Tables whose rows are the application's data (the access log may grow: reads are logged).
_IGNORED = {"sessions", "contenttypes", "auth", "axes", "admin"}
_NOT_CHANGES = ("view", "export")  # AuditEvent.objects.changes() leaves these out


def _data_models() -> list[type[Model]]:
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label not in _IGNORED and model is not AuditEvent
    ]


def snapshot() -> dict[str, Any]:
    """Every row of the application's tables, and the history of changes.

    Logging the actor in (``User.last_login``) is how every case starts, not a change.
    """
    if connection.vendor == "postgresql":
        return _snapshot_in_one_query()
    state: dict[str, Any] = {}
    for model in _data_models():
        rows = model._default_manager.order_by("pk").values()
        if model is User:
            rows = rows.values(*(f.attname for f in model._meta.concrete_fields))
            rows = rows.values(*(k for k in rows.query.values_select if k != "last_login"))
        state[model._meta.label] = list(rows)
    state["history"] = list(AuditEvent.objects.changes().order_by("pk").values())
    return state


def _snapshot_in_one_query() -> dict[str, Any]:
    """The same on PostgreSQL in one round trip (each query costs a network round trip)."""
    quote = connection.ops.quote_name
    parts = []
    for model in [*_data_models(), AuditEvent]:
        table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
        row = "to_jsonb(t) - 'last_login'" if model is User else "to_jsonb(t)"
        where = f"WHERE t.action NOT IN {_NOT_CHANGES!r}" if model is AuditEvent else ""
        label = "history" if model is AuditEvent else model._meta.label
        parts.append(
            f"'{label}', (SELECT coalesce(jsonb_agg({row} ORDER BY t.{pk}), '[]'::jsonb) "
            f"FROM {table} t {where})"
        )
    with connection.cursor() as cursor:
        # jsonb_build_object takes at most 100 arguments: 40 tables (80) per call, joined.
        groups = [parts[i : i + 40] for i in range(0, len(parts), 40)]
        objects = " || ".join(f"jsonb_build_object({', '.join(g)})" for g in groups)
        cursor.execute(f"SELECT {objects}")
        (state,) = cursor.fetchone()
    return json.loads(state) if isinstance(state, str) else state  # Django reads jsonb as text


def assert_unchanged(world: World) -> None:
    """The data is as the module's world built it (each test starts from that state)."""
    after = snapshot()
    changed = [name for name in world.baseline if world.baseline[name] != after.get(name)]
    assert changed == [], f"a refused or read-only request changed: {changed}"


def expected_for(endpoint: Endpoint, actor: str) -> Expect:
    if not endpoint.declared:
        return NOT_ALLOWED
    row = MATRIX.get((endpoint.name, endpoint.method))
    if row is None:
        pytest.fail(
            f"New endpoint without an access check: add ({endpoint.name!r}, "
            f"{endpoint.method!r}) for /{endpoint.route} to MATRIX in {__name__}."
        )
    return row[actor]


# --- The matrix -------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("endpoint", "actor"), CASES)
def test_access(world: World, endpoint: Endpoint, actor: str) -> None:
    # given the expected outcome for this actor, and the data as it is
    expected = expected_for(endpoint, actor)
    client = world.client(actor)
    context = world.context()
    url = build_url(endpoint, world)

    # when the actor sends the request
    response = send(client, endpoint, url, context)

    # then they get the expected answer, and only allowed writes changed anything
    got = Expect(response.status_code, response.get("Location"))
    assert response.status_code == expected.status, (
        f"{endpoint.method} {url} as {actor}: expected {expected}, got {got}"
    )
    if expected.location is not None:
        assert response["Location"].startswith(expected.location.format(**context)), (
            f"{endpoint.method} {url} as {actor}: expected {expected}, got {got}"
        )
    if not expected.writes:
        assert_unchanged(world)


def test_every_row_of_the_matrix_is_a_real_endpoint() -> None:
    # given the endpoints of the URL configuration
    known = {(e.name, e.method) for e in ENDPOINTS if e.declared}

    # then the matrix describes no endpoint that is gone (renamed, removed, other method)
    assert sorted(set(MATRIX) - known) == []


def test_every_row_names_every_actor() -> None:
    assert [key for key, row in MATRIX.items() if set(row) != set(ACTORS)] == []


# --- CSRF -------------------------------------------------------------------------------------

# A session's writes need the CSRF token: every page (any POST) and every API write. (The
# API's "no such address" answer writes nothing: it is the one exempt, answering 404.)
CSRF_CASES = [
    pytest.param(e, id=f"{e.name}-{e.method}")
    for e in ENDPOINTS
    if e.declared and e.method != "GET" and e.name != "api_not_found"
]


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", CSRF_CASES)
def test_session_write_without_csrf_token_is_refused(world: World, endpoint: Endpoint) -> None:
    # given an administrator's session whose browser holds the CSRF cookie (as a forged
    # cross-site request would send it) but does not put the token in the request
    client = world.client("admin", enforce_csrf_checks=True)
    client.cookies["csrftoken"] = _get_new_csrf_string()
    context = world.context()
    url = build_url(endpoint, world)

    # when it posts the form (or the API body) that would otherwise succeed
    response = send(client, endpoint, url, context)

    # then it is refused and nothing changed
    assert response.status_code == 403, f"{endpoint.method} {url}: {response.status_code}"
    assert_unchanged(world)


@pytest.mark.django_db
def test_bearer_token_writes_need_no_csrf_token(world: World) -> None:
    # given an integration authenticating with a token, not a session cookie
    client = Client(enforce_csrf_checks=True)

    # when it changes a customer
    response = client.patch(
        f"/api/customers/{world.customer.pk}",
        json.dumps({"notes": "Por token"}),
        content_type="application/json",
        **bearer(world.users["owner"]),
    )

    # then CSRF does not apply: no cookie can be forged into sending the header
    assert response.status_code == 200
    world.customer.refresh_from_db()
    assert world.customer.notes == "Por token"
