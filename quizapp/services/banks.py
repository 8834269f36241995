"""Importing bank files into the database.

`import_banks` lints everything first and writes nothing if any file has an error; otherwise
all files are written in one transaction. Unchanged questions are left alone; a changed
question becomes a new version and the previous version stops being drawn for new papers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, select, update

from ..banks.lint import lint_paths
from ..banks.loader import BankError, BankFile
from ..banks.sources import SourceDoc
from ..clock import utcnow
from ..extensions import db
from ..models import Bank, Question
from . import audit


class BankImportError(Exception):
    def __init__(self, errors: list[BankError]):
        super().__init__(f"{len(errors)} 处错误，未导入任何题目")
        self.errors = errors


@dataclass
class ImportReport:
    banks: list[str] = field(default_factory=list)
    added: int = 0
    changed: int = 0
    unchanged: int = 0


def import_banks(paths, sources: dict[str, SourceDoc] | None = None, progress=None) -> ImportReport:
    """Lint then import. Raises BankImportError (nothing written) if any file has an error.
    `progress`, if given, is called with (questions handled so far, total)."""
    files, errors = lint_paths(paths, sources)
    if errors:
        raise BankImportError(errors)
    report = ImportReport()
    current = {qid: (qid_id, version, digest, bank_id) for qid, qid_id, version, digest, bank_id in db.session.execute(
        select(Question.qid, Question.id, Question.version, Question.content_hash, Question.bank_id)
        .where(Question.is_current.is_(True)))}
    done, total = 0, sum(len(f.questions) for f in files)
    try:
        for bank_file in files:
            bank = _upsert_bank(bank_file)
            report.banks.append(bank.slug)
            retire, rows = [], []
            for question in bank_file.questions:
                digest = question.content_hash()
                existing = current.get(question.qid)
                done += 1
                if progress and (done % 500 == 0 or done == total):
                    progress(done, total)
                if existing and existing[2] == digest and existing[3] == bank.id:
                    report.unchanged += 1
                    continue
                if existing:
                    retire.append(existing[0])
                    report.changed += 1
                else:
                    report.added += 1
                rows.append(_row(bank.id, question, digest, existing[1] + 1 if existing else 1))
            # Retire the old versions first so a (qid, version) pair never clashes, then insert
            # all new versions in one multi-row statement.
            if retire:
                db.session.execute(update(Question).where(Question.id.in_(retire)).values(is_current=False))
            if rows:
                db.session.execute(insert(Question), rows)
        audit.record("bank.import", "、".join(report.banks),
                     f"新增 {report.added}，更新 {report.changed}，未变 {report.unchanged}",
                     files=[Path(f.path).name for f in files])
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report


def _row(bank_id: int, q, digest: str, version: int) -> dict:
    return dict(bank_id=bank_id, qid=q.qid, version=version, is_current=True, disabled=False, content_hash=digest,
                type=q.type, topic=q.topic, difficulty=q.difficulty, stem=q.stem, options=q.options, answer=q.answer,
                explanation=q.explanation, source_doc=q.source_doc, source_article=q.source_article,
                source_basis=q.source_basis, draw_group=q.group or None, created_at=utcnow())


def preview_changes(files: list[BankFile]) -> ImportReport:
    """What importing these (already linted) files would do, without writing anything."""
    current = {qid: digest for qid, digest in db.session.execute(
        select(Question.qid, Question.content_hash).where(Question.is_current.is_(True)))}
    report = ImportReport(banks=[f.bank_id for f in files])
    for question in (q for f in files for q in f.questions):
        digest = current.get(question.qid)
        if digest is None:
            report.added += 1
        elif digest == question.content_hash():
            report.unchanged += 1
        else:
            report.changed += 1
    return report


def _upsert_bank(bank_file: BankFile) -> Bank:
    bank = db.session.scalar(select(Bank).filter_by(slug=bank_file.bank_id))
    if bank is None:
        bank = Bank(slug=bank_file.bank_id)
        db.session.add(bank)
    bank.title, bank.file_name = bank_file.title, Path(bank_file.path).name
    bank.document, bank.version = bank_file.document, bank_file.version
    bank.in_force, bank.superseded_by = bank_file.in_force, bank_file.superseded_by or None
    db.session.flush()
    return bank
