from cartera.sales.models.catalogue import GroupPrice, Product, ProductKind
from cartera.sales.models.documents import (
    EDITABLE_STATES,
    OPEN_STATES,
    PREFIXES,
    STATES,
    TRANSITIONS,
    DocumentLine,
    DocumentState,
    DocumentType,
    PriceSource,
    SalesDocument,
    SalesDocumentQuerySet,
)
from cartera.sales.models.pipeline import (
    Opportunity,
    OpportunityQuerySet,
    Outcome,
    PipelineStage,
)

__all__ = [
    "EDITABLE_STATES",
    "OPEN_STATES",
    "PREFIXES",
    "STATES",
    "TRANSITIONS",
    "DocumentLine",
    "DocumentState",
    "DocumentType",
    "GroupPrice",
    "Opportunity",
    "OpportunityQuerySet",
    "Outcome",
    "PipelineStage",
    "PriceSource",
    "Product",
    "ProductKind",
    "SalesDocument",
    "SalesDocumentQuerySet",
]
