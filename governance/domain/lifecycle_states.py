"""The lifecycle's state names (DESIGN section 4), in a module of their own: a read query that
only compares states (``status`` answering from a kept summary) needs them without the fold's
classes (``governance.lifecycle`` re-exports them)."""

from __future__ import annotations

DRAFT = "draft"
VALIDATED = "validated"
APPROVED = "approved"
REJECTED = "rejected"
PRODUCTION = "production"
ROLLED_BACK = "rolled_back"
RETIRED = "retired"
SUPERSEDED = "superseded"  # a standing, never a fold milestone: was live, replaced since
