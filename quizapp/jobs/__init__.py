"""The kinds of background job (quizapp.services.jobs runs them): importing a roster, opening
a round with prepared papers, exporting a leaderboard, computing a 体检. Importing this package
registers every handler; `quizapp worker` (quizapp.jobs.worker) runs them from Redis."""
from . import exports, health, roster, rounds  # noqa: F401  (register the handlers)
