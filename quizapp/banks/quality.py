"""Lint rules about how questions are written, beyond their format and citation.

Each rule takes loaded banks (and, where it needs article text, the sources) and returns
BankError values naming file, line and question id. No Flask, no database.

- key letters: no 单选 key letter above KEY_LETTER_MAX in a bank of KEY_LETTER_MIN_COUNT or
  more 单选; 多选 keys not mostly a leading run (AB, ABC, …) — papers shuffle options, but a
  fixed or printed paper, an export or the file itself would show the pattern;
- explanations that name option letters (wrong once options are shuffled);
- a 填空 answer written in its own stem;
- 判断 statements whose wording gives them away: per bank, the share of true statements that
  restate their article verbatim and the share of false ones must be within JUDGE_GAP points;
- near-duplicate stems across all banks (similarity ≥ NEAR_DUPLICATE after removing the law's
  name and version), unless the two questions share a `group` (one paper never holds two
  questions of a group, so a deliberate pair is declared by grouping it);
- give-aways: a question on the same article whose stem states every correct option of a
  choice question (each at least GIVEAWAY_MIN characters) hands out that answer, so the two
  must share a group;
- versions: where the sources hold two versions of one document, a question citing an article
  of the older version whose text changed in the newer one must name its version in the stem;
  every question of a bank whose version is not in force names that version in its stem; a
  bank in force cites no superseded source.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from difflib import SequenceMatcher

from ..text import normalize_answer
from .loader import BankError, BankFile, Question
from .sources import SourceDoc, squash

KEY_LETTER_MAX = 0.35
KEY_LETTER_MIN_COUNT = 40
LEADING_RUN_MAX = 0.5
LEADING_RUN_MIN_COUNT = 10
JUDGE_GAP = 0.20
JUDGE_MIN_COUNT = 10
VERBATIM = 0.8  # a sentence with one key word changed still reads as the article's own wording
NEAR_DUPLICATE = 0.9
GIVEAWAY_MIN = 4

# 「A项」「选项B」「C选项」「故选D」「答案为A」「A、B、C」「AB两项」: option letters, which mean
# nothing once a paper shuffles the options.
_LETTER_REFERENCE = re.compile(
    r"(?<![A-Za-z])(?:[A-H](?:[、,，和与及]?[A-H])*\s*(?:项|选项|两项|三项|四项)"
    r"|选项\s*[A-H]|[故应]选\s*[A-H]|答案\s*(?:为|是)\s*[A-H]|[A-H](?:、[A-H])+)(?![A-Za-z])"
)
# 《…》 names, with a version before or after them, and the usual leads, which every question
# on a law repeats: removed before comparing stems, so only what is asked is compared.
_LAW_NAME = re.compile(r"(?:\d{4}\s*年\s*(?:修正|修订|修改)?\s*(?:的|后的)?\s*)?《[^》]*》(?:\s*[（(]\s*\d{4}\s*年[^）)]*[）)])?")
_LEADS = re.compile(r"^(?:根据|依照|依据|按照|按)?(?:的)?(?:规定)?[，,]?")
_JUDGE_LEAD = re.compile(r"^(?:[^，。]{0,30}?(?:规定|明确|要求)[，,：:]|(?:根据|依照|依据|按照)[^，。]{0,40}[，,])")


def key_letter_errors(bank: BankFile) -> list[BankError]:
    errors = []
    singles = [q for q in bank.questions if q.type == "single"]
    if len(singles) >= KEY_LETTER_MIN_COUNT:
        counts = Counter(q.answer for q in singles)
        for letter, count in sorted(counts.items()):
            if count / len(singles) > KEY_LETTER_MAX:
                errors.append(BankError(bank.path, 1, "", f"单选题答案为 {letter} 的有 {count} 道，占 {count / len(singles):.0%}"
                                        f"（共 {len(singles)} 道），超过 {KEY_LETTER_MAX:.0%}：请调整选项顺序使答案字母分布均衡"))
    multiples = [q for q in bank.questions if q.type == "multiple"]
    if len(multiples) >= LEADING_RUN_MIN_COUNT:
        runs = sum(1 for q in multiples if is_leading_run(q.answer))
        if runs / len(multiples) > LEADING_RUN_MAX:
            errors.append(BankError(bank.path, 1, "", f"多选题答案为连续开头字母（AB、ABC…）的有 {runs} 道，占 {runs / len(multiples):.0%}"
                                    f"（共 {len(multiples)} 道），超过 {LEADING_RUN_MAX:.0%}：请调整选项顺序"))
    return errors


def is_leading_run(letters: list[str]) -> bool:
    return "".join(letters) == "ABCDEFGH"[:len(letters)]


def explanation_letter_errors(bank: BankFile) -> list[BankError]:
    return [BankError(bank.path, q.line, q.qid, f"解析引用了选项字母「{match.group(0)}」：试卷会打乱选项顺序，请改用选项内容或条文原文")
            for q in bank.questions if (match := _LETTER_REFERENCE.search(q.explanation))]


def fill_answer_errors(bank: BankFile) -> list[BankError]:
    errors = []
    for q in bank.questions:
        if q.type != "fill":
            continue
        stem = normalize_answer(q.stem)
        for number, variants in enumerate(q.answer, start=1):
            shown = [v for v in variants if len(normalize_answer(v)) >= 2 and normalize_answer(v) in stem]
            if shown:
                errors.append(BankError(bank.path, q.line, q.qid, f"第 {number} 个空的答案「{shown[0]}」出现在题干中"))
    return errors


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"[。；;！？\n]", squash(text)) if s]


def judge_is_verbatim(q: Question, article_text: str) -> bool:
    """True when the statement, without its lead (「根据《…》，」, 「…规定，」), restates one
    sentence of its article nearly word for word (similarity ≥ VERBATIM), or lies inside it."""
    statement = squash(_JUDGE_LEAD.sub("", squash(q.stem))).rstrip("。")
    if not statement:
        return False
    text = squash(article_text)
    if statement in text:
        return True
    matcher = SequenceMatcher(autojunk=False)
    matcher.set_seq2(statement)
    for sentence in _sentences(article_text):
        matcher.set_seq1(sentence)
        if matcher.real_quick_ratio() >= VERBATIM and matcher.quick_ratio() >= VERBATIM and matcher.ratio() >= VERBATIM:
            return True
    return False


def judge_balance_errors(bank: BankFile, sources: dict[str, SourceDoc]) -> list[BankError]:
    shares = {}
    for value in (True, False):
        judged = [q for q in bank.questions if q.type == "judge" and q.answer is value]
        if len(judged) < JUDGE_MIN_COUNT:
            return []
        verbatim = sum(1 for q in judged if judge_is_verbatim(q, _article_text(q, sources)))
        shares[value] = (verbatim, len(judged))
    (vt, nt), (vf, nf) = shares[True], shares[False]
    gap = vt / nt - vf / nf
    if abs(gap) <= JUDGE_GAP:
        return []
    return [BankError(bank.path, 1, "", f"判断题措辞泄露答案：正确的 {nt} 道中 {vt} 道（{vt / nt:.0%}）照搬条文，"
                      f"错误的 {nf} 道中 {vf} 道（{vf / nf:.0%}），相差超过 {JUDGE_GAP:.0%}。"
                      "请让对错两类说法措辞相近：错误说法改动同一句原文的一个关键词，正确说法也可以转述")]


def _article_text(q: Question, sources: dict[str, SourceDoc]) -> str:
    doc = sources.get(q.source_doc)
    key = int(q.source_article) if q.source_article.isdigit() else q.source_article
    article = doc.articles.get(key) if doc else None
    return article.text if article else ""


def comparable_stem(stem: str) -> str:
    """The stem as compared for near-duplicates: without law names, versions and leads."""
    return normalize_answer(_LEADS.sub("", _LAW_NAME.sub("", stem)))


def near_duplicate_errors(files: list[BankFile]) -> list[BankError]:
    """Pairs of stems (of any banks) with similarity ≥ NEAR_DUPLICATE, except pairs sharing a
    group. Candidates come from shared character bigrams, so the full comparison runs only on
    pairs that could pass; exact duplicates are reported by the loader's cross-file check."""
    entries = [(bank, q, comparable_stem(q.stem)) for bank in files for q in bank.questions]
    postings: dict[str, list[int]] = defaultdict(list)
    grams = []
    for index, (_, _, text) in enumerate(entries):
        own = {text[i:i + 2] for i in range(len(text) - 1)}
        grams.append(own)
        for gram in own:
            postings[gram].append(index)
    errors = []
    matcher = SequenceMatcher(autojunk=False)
    for index, (bank, q, text) in enumerate(entries):
        if len(grams[index]) < 4:
            continue
        shared = Counter(other for gram in grams[index] for other in postings[gram] if other < index)
        matcher.set_seq2(text)
        for other, count in shared.items():
            if count < 0.75 * min(len(grams[index]), len(grams[other])):
                continue
            other_bank, other_q, other_text = entries[other]
            if text == other_text or (getattr(q, 'group', '') and q.group == getattr(other_q, 'group', '')):
                continue
            matcher.set_seq1(other_text)
            if matcher.quick_ratio() >= NEAR_DUPLICATE and (ratio := matcher.ratio()) >= NEAR_DUPLICATE:
                errors.append(BankError(bank.path, q.line, q.qid, f"题干与 {other_bank.path}:{other_q.line} [{other_q.qid}] 几乎相同"
                                        f"（相似度 {ratio:.2f}）：请改写，或给两题设同一个 group（同组题不会出现在同一份试卷上）"))
    return errors


def giveaway_errors(files: list[BankFile]) -> list[BankError]:
    by_article: dict[tuple[str, str], list[tuple[BankFile, Question]]] = defaultdict(list)
    for bank in files:
        for q in bank.questions:
            by_article[(q.source_doc, q.source_article)].append((bank, q))
    errors = []
    for pairs in by_article.values():
        for _, choice in pairs:
            if choice.type not in ("single", "multiple"):
                continue
            options = dict(choice.options)
            keys = [choice.answer] if choice.type == "single" else choice.answer
            texts = [normalize_answer(options[k]) for k in keys]
            if any(len(t) < GIVEAWAY_MIN for t in texts):
                continue
            for bank, other in pairs:
                if other is choice or (choice.group and choice.group == other.group):
                    continue
                stem = normalize_answer(other.stem)
                if all(t in stem for t in texts):
                    errors.append(BankError(bank.path, other.line, other.qid, f"题干写出了 [{choice.qid}] 的正确答案"
                                            f"「{'、'.join(options[k] for k in keys)[:40]}」：两题同卷会互相泄露答案，请给两题设同一个 group"))
    return errors


def version_pairs(sources: dict[str, SourceDoc]) -> dict[str, str]:
    """For each source that an other source of the same document supersedes: older → newer
    slug. Versions of one document share the index title; the year in the slug orders them."""
    by_title: dict[str, list[str]] = defaultdict(list)
    for slug, doc in sources.items():
        if doc.title:
            by_title[doc.title].append(slug)
    newer = {}
    for slugs in by_title.values():
        ordered = sorted(slugs, key=_year)
        for old in ordered[:-1]:
            newer[old] = ordered[-1]  # every older version is compared with the current one
    return newer


def _year(slug: str) -> int:
    match = re.search(r"(\d{4})$", slug)
    return int(match.group(1)) if match else 0


def changed_articles(old: SourceDoc, new: SourceDoc) -> set[int | str]:
    """Articles of `old` whose text is not, word for word, the text of some article of `new`
    (renumbering alone does not count as a change)."""
    current = {squash(article.text) for article in new.articles.values()}
    return {key for key, article in old.articles.items() if squash(article.text) not in current}


def version_errors(files: list[BankFile], sources: dict[str, SourceDoc]) -> list[BankError]:
    newer = version_pairs(sources)
    changed = {old: changed_articles(sources[old], sources[new]) for old, new in newer.items()}
    errors = []
    for bank in files:
        for q in bank.questions:
            if q.source_doc not in changed:
                continue
            key = int(q.source_article) if q.source_article.isdigit() else q.source_article
            year = str(_year(q.source_doc))
            if key in changed[q.source_doc] and year not in q.stem:
                errors.append(BankError(bank.path, q.line, q.qid, f"所引 {q.source_doc} 第 {q.source_article} 条在新版本"
                                        f"（{newer[q.source_doc]}）中已修改：题干必须写明版本（如「{year}年《…》」）"))
    return errors


def superseded_bank_errors(bank: BankFile, newer: dict[str, str]) -> list[BankError]:
    """A superseded version's questions say which version they ask about (「2018年《监察法》」);
    a bank in force asks about no superseded text."""
    if not bank.in_force:
        return [BankError(bank.path, q.line, q.qid, f"本题库的版本（{bank.version}）已失效：题干必须写明版本，如「{bank.version}年《…》」")
                for q in bank.questions if bank.version[:4] not in q.stem]
    return [BankError(bank.path, q.line, q.qid, f"本题库为现行有效版本，却引用了已被 {newer[q.source_doc]} 取代的 {q.source_doc}")
            for q in bank.questions if q.source_doc in newer]


def quality_errors(files: list[BankFile], sources: dict[str, SourceDoc] | None) -> list[BankError]:
    """Every rule above over all files; the rules needing article text run only with sources."""
    errors = []
    newer = version_pairs(sources) if sources is not None else {}
    for bank in files:
        errors += key_letter_errors(bank) + explanation_letter_errors(bank) + fill_answer_errors(bank)
        errors += superseded_bank_errors(bank, newer)
        if sources is not None:
            errors += judge_balance_errors(bank, sources)
    errors += near_duplicate_errors(files) + giveaway_errors(files)
    if sources is not None:
        errors += version_errors(files, sources)
    return errors
