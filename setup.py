"""What pyproject.toml cannot say: the package list. `question_banks/` and `migrations/` stay at
the top of the repository (bank authors, `make lint-banks` and Alembic use those paths) and are
shipped inside the package as quizapp.question_banks and quizapp.migrations (package-dir in
pyproject.toml), where quizapp.paths finds them in an installed copy. Discovery keeps every
future quizapp subpackage in the wheel without editing this list."""
from setuptools import find_namespace_packages, setup

SHIPPED = ["quizapp.question_banks", "quizapp.migrations", "quizapp.migrations.versions"]

setup(packages=find_namespace_packages(include=["quizapp", "quizapp.*"], exclude=["*.__pycache__"]) + SHIPPED)
