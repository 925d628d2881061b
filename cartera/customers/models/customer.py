"""The customer record (ficha de cliente) and its visibility rules."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from cartera.core.models import Company, VisibilityMode
from cartera.core.text import fold, sort_key, squash
from cartera.customers.models.options import (
    CustomerGroup,
    FiscalType,
    Kind,
    LeadSource,
    LegalForm,
    PaymentMethod,
    Sector,
    Tag,
)

if TYPE_CHECKING:
    from cartera.accounts.models import User


class Stage(models.TextChoices):
    LEAD = "lead", _("Lead")
    PROSPECT = "prospect", _("Prospect")
    CLIENT = "client", _("Client")
    FORMER = "former", _("Former client")
    LOST = "lost", _("Lost")


class Status(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")
    SUSPENDED = "suspended", _("Suspended")


class Activity(models.TextChoices):
    ACTIVE = "active", _("Buying")
    PRE_INACTIVE = "pre_inactive", _("Pre-inactive")
    INACTIVE = "inactive", _("Inactive buyer")
    NEVER = "never", _("Never bought")


class LossReason(models.TextChoices):
    NON_PAYMENT = "non_payment", _("Non-payment")
    UNUSED = "unused", _("Does not use the product")
    COMPETITOR = "competitor", _("Went to a competitor")
    CEASED = "ceased", _("Ceased to exist")
    NOT_INTERESTED = "not_interested", _("Not interested")
    OTHER = "other", _("Other")


class CompanySize(models.TextChoices):
    MICRO = "micro", _("1–9 employees")
    SMALL = "small", _("10–49 employees")
    MEDIUM = "medium", _("50–249 employees")
    LARGE = "large", _("250 or more employees")


def own_portfolio(user: Any) -> Q:
    """What a salesperson or a reader sees of rows with an ``owner``: their own and their
    team's, or all of them when the company shows the whole portfolio to everyone (that
    setting is read in the same SQL statement)."""
    mine = Q(owner=user)
    if team_id := getattr(user, "team_id", None):
        mine |= Q(owner__team_id=team_id)
    everyone = Exists(Company.objects.filter(pk=1, visibility_mode=VisibilityMode.ALL))
    return mine | Q(everyone)


class CustomerQuerySet(models.QuerySet["Customer"]):
    # Set by search(): lists of search results count and sort only the first matches.
    _searched = False
    _first_matches: Any = None

    def _clone(self) -> CustomerQuerySet:
        clone: CustomerQuerySet = super()._clone()  # type: ignore[misc]
        clone._searched = self._searched
        clone._first_matches = self._first_matches
        return clone

    def first_ids(self, limit: int) -> tuple[list[int], bool]:
        """In one query: the ids of up to ``limit`` + 1 of these customers, in the order the
        database finds them, and whether a bounded search left matches of the index out."""
        if self._first_matches is None:
            return list(self.order_by().values_list("pk", flat=True)[: limit + 1]), False
        ids, truncated = self._first_matches.read(self, limit)
        return ids, truncated

    @property
    def is_search(self) -> bool:
        """Whether the search box narrowed these customers (see BoundedPaginator)."""
        return self._searched

    def among(self, ids: Sequence[int]) -> CustomerQuerySet:
        """Only the customers ``ids``, read through this queryset already: its order, joins and
        prefetches, without running its conditions again."""
        qs = Customer.objects.filter(pk__in=list(ids))
        qs.query.select_related = copy.deepcopy(self.query.select_related)
        qs._prefetch_related_lookups = self._prefetch_related_lookups  # type: ignore[attr-defined]
        if self.query.order_by:
            qs = qs.order_by(*self.query.order_by)
        return qs

    def with_activity(self, activity: str) -> CustomerQuerySet:
        """The customers whose purchase activity is ``activity`` (no row in
        ``PurchaseActivity``: never bought)."""
        if activity == Activity.NEVER:
            return self.filter(purchase__isnull=True)
        return self.filter(purchase__activity=activity)

    def visible_to(self, user: Any) -> CustomerQuerySet:
        """The customers a user may see: every read of customer data starts here."""
        if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
            return self.none()
        if user.is_admin:
            return self
        # Data blocked after an erasure request is kept for the law, for administrators only.
        unblocked = self.filter(blocked_at__isnull=True)
        if user.sees_whole_portfolio:
            return unblocked
        return unblocked.filter(own_portfolio(user))

    def editable_by(self, user: User) -> CustomerQuerySet:
        """Customers a user may change: managers any, salespeople their own and their team's."""
        if not user.can_write:
            return self.none()
        if user.is_admin:
            return self
        if user.sees_whole_portfolio:
            return self.filter(blocked_at__isnull=True)
        mine = Q(owner=user)
        if user.team_id:
            mine |= Q(owner__team_id=user.team_id)
        return self.filter(mine, blocked_at__isnull=True)

    def current(self) -> CustomerQuerySet:
        return self.filter(archived_at__isnull=True)

    def archived(self) -> CustomerQuerySet:
        return self.filter(archived_at__isnull=False)

    def search(self, text: str, *, bounded: bool = True) -> CustomerQuerySet:
        """Accent- and case-insensitive search over names, code, tax id, e-mails and phones.

        Every word must appear; a query typed as one id or phone number
        ("B-1234567-4", "+34 600 11 22 33") also matches its letters and digits alone.
        ``bounded`` (the default) reads only the first CARTERA_MAX_SEARCH_COUNT matches of the
        index (SQLite: by id) when every word has three characters or more; ``first_ids`` tells
        whether there were more. Filters then narrow those, and lists sort and count them.
        """
        from cartera.customers.search import FirstMatches, contains

        words = fold(text).split()
        if not words:
            return self
        squashed = squash(text)
        either = squashed if len(squashed) >= 3 and (len(words) > 1 or squashed != words[0]) else ""
        limit = settings.CARTERA_MAX_SEARCH_COUNT if bounded else 0
        if limit and all(len(word) >= 3 for word in words):
            first = FirstMatches(words, either, using=self.db, limit=limit)
            found = self.filter(first.q())
            found._first_matches = first
        else:
            condition = Q()
            for word in words:
                condition &= contains(word, using=self.db)
            if either:
                condition |= contains(either, using=self.db)
            found = self.filter(condition)
        found._searched = True
        return found


def among(customers: CustomerQuerySet, outer: str = "customer_id") -> Exists:
    """A condition for rows of another model: their customer is one of ``customers``.

    Written as a correlated EXISTS on the customer's primary key, so checking a customer's
    few tasks or entries costs a few index lookups, never a scan of the whole register
    (``customer__in=<queryset>`` makes SQLite build the visible set of all customers first).
    """
    return Exists(customers.filter(pk=OuterRef(outer)))


SORT_NAME_LENGTH = 255


def sort_name_of(legal_name: str, trade_name: str = "") -> str:
    """The name the list shows first (the trade name, else the legal name), as it sorts."""
    return sort_key(trade_name or legal_name)[:SORT_NAME_LENGTH]


class Customer(models.Model):
    """A person or organisation the company deals with, at any stage."""

    code = models.CharField(_("customer code"), max_length=24, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    fiscal_type = models.ForeignKey(
        FiscalType,
        verbose_name=_("fiscal type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    legal_name = models.CharField(_("legal name"), max_length=200)
    trade_name = models.CharField(_("trade name"), max_length=200, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("surnames"), max_length=150, blank=True)
    legal_form = models.ForeignKey(
        LegalForm,
        verbose_name=_("legal form"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    tax_id = models.CharField(_("tax id"), max_length=32, blank=True)
    tax_id_type = models.CharField(_("tax id type"), max_length=16, blank=True)
    tax_country = models.CharField(_("tax country"), max_length=2, blank=True)

    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices, default=Stage.LEAD)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    status_reason = models.CharField(_("reason for the status"), max_length=200, blank=True)
    loss_reason = models.CharField(
        _("reason for loss"), max_length=20, choices=LossReason.choices, blank=True
    )
    loss_detail = models.CharField(_("loss detail or competitor"), max_length=200, blank=True)

    group = models.ForeignKey(
        CustomerGroup,
        verbose_name=_("group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="+")
    follow_up = models.BooleanField(_("follow-up"), default=False)
    client_since = models.DateField(_("client since"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,  # the portfolio is handed over, never orphaned
        related_name="owned_customers",
    )
    notes = models.TextField(_("notes"), blank=True)

    payment_method = models.CharField(
        _("payment method"), max_length=20, choices=PaymentMethod.choices, blank=True
    )
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"), null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    language = models.CharField(_("language"), max_length=8, blank=True)
    lead_source = models.ForeignKey(
        LeadSource,
        verbose_name=_("lead source"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    sector = models.ForeignKey(
        Sector,
        verbose_name=_("sector"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    size = models.CharField(_("size"), max_length=10, choices=CompanySize.choices, blank=True)
    annual_revenue = models.DecimalField(
        _("estimated annual revenue"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    purchase_potential = models.DecimalField(
        _("purchase potential"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    custom_data = models.JSONField(_("custom fields"), default=dict, blank=True)

    reviewed_at = models.DateTimeField(_("data reviewed at"), null=True, blank=True)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    blocked_at = models.DateTimeField(_("blocked at"), null=True, blank=True)
    erase_after = models.DateField(_("to be anonymised after"), null=True, blank=True)
    anonymized_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Folded names, code, ids, e-mails and phone digits, kept in step by the services.
    search_text = models.TextField(editable=False, default="")
    # The name the list shows, as it sorts (``sort_name_of``), kept in step on save;
    # compared byte by byte (PostgreSQL: collation "C", set by its migration), as the key is
    # made for, whatever the database's own collation.
    sort_name = models.CharField(
        max_length=SORT_NAME_LENGTH, editable=False, default="", db_default=""
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["sort_name", "id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(
                fields=["tax_country", "tax_id"],
                condition=~Q(tax_id=""),
                name="customer_unique_tax_id_per_country",
            ),
        ]
        indexes = [
            # The list's sort orders: its first page reads 25 entries of one of these.
            models.Index(fields=["sort_name", "id"], name="customer_sort_name"),
            models.Index(fields=["created_at", "id"], name="customer_created"),
            models.Index(fields=["updated_at", "id"], name="customer_updated"),
            models.Index(fields=["owner", "sort_name"], name="customer_owner_sort_name"),
            models.Index(fields=["stage", "sort_name"], name="customer_stage_sort_name"),
            models.Index(fields=["status"], name="customer_status"),
            # Only the archived: SQLite would otherwise read ``archived_at IS NULL`` (nearly
            # every customer) through this index instead of walking the list's sort order.
            models.Index(
                fields=["archived_at"],
                name="customer_archived",
                condition=Q(archived_at__isnull=False),
            ),
            # The duplicate check looks a tax id up by country, and an import's chunk looks
            # thousands up before it knows their countries; SQLite cannot use the partial
            # unique index for either, so they get a plain one, tax id first.
            models.Index(fields=["tax_id", "tax_country"], name="customer_tax_lookup"),
        ]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.sort_name = sort_name_of(self.legal_name, self.trade_name)
        fields = kwargs.get("update_fields")
        if fields is not None and {"legal_name", "trade_name"} & set(fields):
            kwargs["update_fields"] = list({*fields, "sort_name"})
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        return self.trade_name or self.legal_name

    @property
    def activity(self) -> str:
        """Purchase activity, kept in ``PurchaseActivity`` (select ``purchase`` with the
        customer to read it without a query)."""
        try:
            return self.purchase.activity
        except PurchaseActivity.DoesNotExist:
            return Activity.NEVER

    def get_activity_display(self) -> str:
        return str(Activity(self.activity).label)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def is_active(self) -> bool:
        return self.status == Status.ACTIVE and self.archived_at is None

    def build_search_text(
        self, channels: Iterable[Any] | None = None, contacts: Iterable[Any] | None = None
    ) -> str:
        """Everything the search box matches, folded; channels and contacts included.

        ``channels`` and ``contacts`` default to the saved ones; a customer being created passes
        its unsaved ones, in the order the saved ones would be read.
        """
        parts = [self.code, self.legal_name, self.trade_name, self.first_name, self.last_name]
        parts.append(squash(self.tax_id))
        for channel in self.channels.all() if channels is None else channels:
            parts.append(channel.search_form())
        for contact in self.contacts.all() if contacts is None else contacts:
            parts.extend([contact.first_name, contact.last_name, contact.email])
        return " ".join(fold(p) for p in parts if p)

    def effective_payment_terms(self) -> int | None:
        if self.payment_terms_days is not None:
            return self.payment_terms_days
        return self.group.payment_terms_days if self.group else None


class PurchaseActivity(models.Model):
    """A customer's purchase activity, derived from its invoices (``cartera.sales.activity``);
    a customer without a row has never bought.

    It lives beside the customer, not in its row: the recompute may move most of the
    portfolio at once (the first run after loading an invoice history, a change of
    thresholds), and rewriting a narrow table with one index takes seconds where rewriting the
    customers' rows, with every index of the register, would take minutes on PostgreSQL.
    """

    # No constraint in the database: the recompute writes only ids it read from the customers,
    # and checking a million of them again at commit would double its time.
    customer = models.OneToOneField(
        Customer, primary_key=True, on_delete=models.CASCADE, related_name="purchase",
        verbose_name=_("customer"), db_constraint=False,
    )  # fmt: skip
    activity = models.CharField(_("purchase activity"), max_length=16, choices=Activity.choices)

    class Meta:
        verbose_name = _("purchase activity")
        verbose_name_plural = _("purchase activities")
        indexes = [models.Index(fields=["activity"], name="purchase_activity")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.activity}"
