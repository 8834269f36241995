"""Database models (SQLAlchemy 2.0 typed). Times are naive UTC (see quizapp.clock).

Models hold data and small derived properties only; the rules live in the pure modules
(scoring, ranking, papers, advancement, prizes) and every write goes through quizapp.services.
"""
from .attempts import ATTEMPT_STATUSES, Attempt, AttemptEvent, AttemptItem, PreparedPaper
from .audit import AuditEvent
from .banks import Bank, Correction, Question
from .final import FINAL_STATUSES, Final, FinalEvent, FinalQuestion, FinalTeam
from .health import HealthReport
from .jobs import JOB_STATUSES, Job
from .people import ROLES, Unit, User
from .practice import PracticeItem, PracticeMistake, PracticeSession
from .rounds import ROUND_STATUSES, STAGES, Competition, Round, RoundEntrant, Team, TeamMember
from .settings import AppSetting

__all__ = [
    "ATTEMPT_STATUSES", "ROLES", "AppSetting", "ROUND_STATUSES", "STAGES", "Attempt", "AttemptEvent", "AttemptItem",
    "AuditEvent", "Bank", "Competition", "Correction", "FINAL_STATUSES", "Final", "FinalEvent", "FinalQuestion",
    "FinalTeam", "HealthReport", "JOB_STATUSES", "Job", "PracticeItem", "PracticeMistake", "PracticeSession", "PreparedPaper", "Question", "Round",
    "RoundEntrant", "Team", "TeamMember", "Unit", "User",
]
