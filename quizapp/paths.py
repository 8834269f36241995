"""Where the shipped data folders are, in a checkout and in an installed package alike.

The repository keeps `question_banks/` and `migrations/` at its top level (bank authors, `make
lint-banks` and Alembic use those paths); the wheel carries them inside the package as
`quizapp/question_banks` and `quizapp/migrations` (setup.py maps them there). Inside the
package wins, so an installed copy never reaches for a checkout that is not there.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def shipped(name: str) -> Path:
    """The folder `name` inside the installed package if it is there, else beside the package
    in the checkout (an editable install or a source tree)."""
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else PACKAGE_DIR.parent / name


QUESTION_BANKS = shipped("question_banks")
MIGRATIONS = shipped("migrations")
