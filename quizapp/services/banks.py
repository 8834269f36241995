"""Importing bank files into the database.

`import_banks` lints everything first and writes nothing if any file has an error; otherwise
all files are written in one transaction. Unchanged questions are left alone; a changed
question becomes a new version and the previous version stops being drawn for new papers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from ..banks.lint import lint_paths
from ..banks.loader import BankError, BankFile
from ..banks.sources import SourceDoc
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
    current = {q.qid: q for q in db.session.scalars(select(Question).where(Question.is_current.is_(True)))}
    done, total = 0, sum(len(f.questions) for f in files)
    try:
        for bank_file in files:
            bank = _upsert_bank(bank_file)
            report.banks.append(bank.slug)
            for question in bank_file.questions:
                _import_question(bank, question, current.get(question.qid), report)
                done += 1
                if progress:
                    progress(done, total)
        audit.record("bank.import", "、".join(report.banks),
                     f"新增 {report.added}，更新 {report.changed}，未变 {report.unchanged}",
                     files=[Path(f.path).name for f in files])
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report


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
        bank = Bank(slug=bank_file.bank_id, title=bank_file.title, file_name=Path(bank_file.path).name)
        db.session.add(bank)
        db.session.flush()
    else:
        bank.title, bank.file_name = bank_file.title, Path(bank_file.path).name
    return bank


def _import_question(bank: Bank, q, existing: Question | None, report: ImportReport) -> None:
    digest = q.content_hash()
    if existing is not None and existing.content_hash == digest and existing.bank_id == bank.id:
        report.unchanged += 1
        return
    version = 1
    if existing is not None:
        existing.is_current = False
        version = existing.version + 1
        report.changed += 1
    else:
        report.added += 1
    db.session.add(Question(
        bank_id=bank.id, qid=q.qid, version=version, is_current=True, content_hash=digest,
        type=q.type, topic=q.topic, difficulty=q.difficulty, stem=q.stem, options=q.options,
        answer=q.answer, explanation=q.explanation, source_doc=q.source_doc,
        source_article=q.source_article, source_basis=q.source_basis,
    ))
    # Flush the retired version first so the (qid, version) pair never clashes mid-write.
    db.session.flush()
