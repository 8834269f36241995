"""The organizer's pages, one module per area; all routes share one blueprint under /admin."""
from flask import Blueprint

bp = Blueprint("organizer", __name__)

from . import advance, attempts, audit_log, banks, health, jobs, people, practice, results, routes, units  # noqa: E402,F401  (register routes)
