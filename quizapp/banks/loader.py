"""Read a YAML bank file into typed questions, collecting every error with file, id and line.

Contract: `load_bank(path)` never raises for bad content; it returns a `BankFile` whose
`errors` list is empty exactly when every question is well-formed. Callers must not import a
file with errors. Parsing uses PyYAML's safe loader only (its C version when available).

A bank is plain data, so YAML anchors and aliases (`&a` / `*a`, and the `<<` merge that needs
them) are refused before anything is built: nested aliases let a few hundred bytes expand to
gigabytes ("billion laughs"). Files over MAX_BANK_BYTES and nesting deeper than MAX_DEPTH are
refused too; each refusal is one error naming the file and line.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

TYPE_ALIASES = {
    "单选": "single", "single": "single",
    "多选": "multiple", "multiple": "multiple",
    "判断": "judge", "judge": "judge",
    "填空": "fill", "fill": "fill",
}
TYPE_LABELS = {"single": "单选题", "multiple": "多选题", "judge": "判断题", "fill": "填空题"}
JUDGE_WORDS = {"正确": True, "对": True, "错误": False, "错": False}
BLANK = "____"
BANK_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
QUESTION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
OPTION_KEY = re.compile(r"^[A-H]$")
UNNUMBERED_ARTICLES = ("总纲", "序言")


@dataclass(frozen=True)
class BankError:
    file: str
    line: int
    qid: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return f"{where}: [{self.qid}] {self.message}" if self.qid else f"{where}: {self.message}"


@dataclass
class Question:
    """One validated question. `answer` is canonical per type:
    single → "A"; multiple → ["A", "C"] (sorted); judge → True/False;
    fill → [["variant", …], …] one list per blank."""

    qid: str
    type: str
    topic: str
    difficulty: int
    stem: str
    options: list[list[str]]
    answer: object
    explanation: str
    source_doc: str
    source_article: str
    source_basis: str
    line: int = 0
    group: str = ""  # questions of one group never share a paper (near-duplicates, give-aways)

    def content_hash(self) -> str:
        """Digest of everything a participant or a scorer sees, and of the draw group when set
        (so regrouping reaches the database); the line number is excluded. A question without
        a group hashes as it did before groups existed."""
        data = asdict(self)
        data.pop("line")
        if not data["group"]:
            data.pop("group")
        raw = json.dumps(data, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass
class BankFile:
    """One bank file. `document`/`version` name the text it asks about (e.g. 监察法, 2024);
    `in_force` False marks a superseded version, which rounds draw only when asked to, and
    `superseded_by` names the bank of the version in force."""

    path: str
    bank_id: str = ""
    title: str = ""
    document: str = ""
    version: str = ""
    in_force: bool = True
    superseded_by: str = ""
    questions: list[Question] = field(default_factory=list)
    errors: list[BankError] = field(default_factory=list)


SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10× faster
# The largest shipped bank is ~230 KB; 4 MB leaves room for a bank of ~15,000 questions.
MAX_BANK_BYTES = 4 * 1024 * 1024
# A bank needs 4 levels (bank → questions → question → options/source); deep nesting only
# serves to exhaust the composer's recursion.
MAX_DEPTH = 12


class UnsafeYaml(Exception):
    """A construct banks never need and an attacker would use; `line` is 1-based."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line, self.message = line, message


def _refuse_unsafe(text: str) -> None:
    """Raise UnsafeYaml at the first anchor, alias or over-deep nesting. This walks the parser's
    events only (cheap, constant memory), so nothing is expanded before the check."""
    depth = 0
    for event in yaml.parse(text, Loader=SafeLoader):
        line = event.start_mark.line + 1 if event.start_mark else 0
        if isinstance(event, yaml.AliasEvent):
            raise UnsafeYaml(line, f"不允许使用 YAML 别名（*{event.anchor}）：题库中每道题请完整写出，不要引用其他内容")
        if getattr(event, "anchor", None):
            raise UnsafeYaml(line, f"不允许使用 YAML 锚点（&{event.anchor}）：题库中每道题请完整写出，不要引用其他内容")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise UnsafeYaml(line, f"嵌套层数超过 {MAX_DEPTH} 层，不是题库格式")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _parse(text: str) -> tuple[object, list[int]]:
    """Parse once with the safe loader (the same constructors as `yaml.safe_load`) and return
    the data and the 1-based line of each item of the top-level `questions` list.
    Raises UnsafeYaml (before composing anything) for anchors, aliases or deep nesting."""
    _refuse_unsafe(text)
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    lines: list[int] = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == "questions" and isinstance(value, yaml.SequenceNode):
                lines = [item.start_mark.line + 1 for item in value.value]
    return data, lines


def load_bank(path: str | Path) -> BankFile:
    path = Path(path)
    result = BankFile(str(path))

    def fail(line: int, qid: str, message: str) -> None:
        result.errors.append(BankError(str(path), line, qid, message))

    try:
        size = path.stat().st_size
        if size > MAX_BANK_BYTES:
            fail(0, "", f"文件过大（{size / 1048576:.1f} MB），一个题库文件不能超过 {MAX_BANK_BYTES // 1048576} MB，请拆分为多个文件")
            return result
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        fail(0, "", "无法读取文件：需要 UTF-8 编码（请用记事本“另存为”并选择 UTF-8）")
        return result
    except OSError as exc:
        fail(0, "", f"无法读取文件：{exc.strerror or exc}")
        return result
    try:
        data, lines = _parse(text)
    except UnsafeYaml as exc:
        fail(exc.line, "", exc.message)
        return result
    except RecursionError:
        fail(0, "", "嵌套层数过深，不是题库格式")
        return result
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        fail(mark.line + 1 if mark else 0, "", f"YAML 语法错误：{getattr(exc, 'problem', exc)}")
        return result
    if not isinstance(data, dict):
        fail(1, "", "文件顶层必须是包含 bank 和 questions 的映射")
        return result
    _read_header(data.get("bank"), result, fail)
    items = data.get("questions")
    if not isinstance(items, list) or not items:
        fail(1, "", "缺少 questions 列表，或列表为空")
        return result
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        line = lines[index] if index < len(lines) else 0
        question = _read_question(item, line, fail)
        if question is None:
            continue
        if question.qid in seen:
            fail(line, question.qid, f"题目 id 重复（第 {seen[question.qid]} 行已使用）")
            continue
        seen[question.qid] = line
        result.questions.append(question)
    return result


def _read_header(header, result: BankFile, fail) -> None:
    if not isinstance(header, dict):
        fail(1, "", "缺少 bank 段（需要 id 和 title）")
        return
    bank_id, title = header.get("id"), header.get("title")
    if not isinstance(bank_id, str) or not BANK_ID.match(bank_id):
        fail(1, "", "bank.id 必须由小写字母、数字和连字符组成，例如 jianchafa-2018")
    else:
        result.bank_id = bank_id
    if not isinstance(title, str) or not title.strip():
        fail(1, "", "bank.title 不能为空")
    else:
        result.title = title.strip()
    document, version, in_force = header.get("document"), header.get("version"), header.get("in_force")
    if not isinstance(document, str) or not document.strip() or len(document) > 100:
        fail(1, "", "bank.document 必须写明所考文件的名称（不超过 100 字），如 监察法、纪律处分条例")
    else:
        result.document = document.strip()
    if isinstance(version, int) and not isinstance(version, bool):
        version = str(version)
    if not isinstance(version, str) or not version.strip() or len(version) > 32:
        fail(1, "", "bank.version 必须写明文件的版本，如 \"2024\"")
    else:
        result.version = version.strip()
    if not isinstance(in_force, bool):
        fail(1, "", "bank.in_force 必须是 true（现行有效）或 false（已被新版本取代）")
    else:
        result.in_force = in_force
    superseded_by = header.get("superseded_by")
    if superseded_by is not None and (not isinstance(superseded_by, str) or not BANK_ID.match(superseded_by)):
        fail(1, "", "bank.superseded_by 应为取代它的题库 id，如 jianchafa-2024")
    elif in_force is False and not superseded_by:
        fail(1, "", "已失效的版本（in_force: false）必须用 superseded_by 写明取代它的题库 id")
    else:
        result.superseded_by = superseded_by or ""


def _text(item: dict, key: str) -> str | None:
    value = item.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _read_question(item, line: int, fail) -> Question | None:
    """Validate one list item; report every problem found and return None if any."""
    if not isinstance(item, dict):
        fail(line, "", "题目必须是映射（键: 值）")
        return None
    qid = item.get("id")
    qid = str(qid) if qid is not None else ""
    problems = []

    def bad(message: str) -> None:
        problems.append(message)

    if not QUESTION_ID.match(qid):
        bad("缺少 id，或 id 含有字母、数字、连字符和下划线以外的字符")
    qtype = TYPE_ALIASES.get(str(item.get("type", "")).strip())
    if qtype is None:
        bad(f"type 无效：{item.get('type')!r}，应为 单选/多选/判断/填空")
    difficulty = item.get("difficulty")
    if not isinstance(difficulty, int) or isinstance(difficulty, bool) or difficulty not in (1, 2, 3):
        bad("difficulty 必须是 1、2 或 3")
    fields = {key: _text(item, key) for key in ("topic", "stem", "explanation")}
    for key, label in (("topic", "topic（专题）"), ("stem", "stem（题干）"), ("explanation", "explanation（解析）")):
        if fields[key] is None:
            bad(f"缺少 {label}")
    source = _read_source(item.get("source"), bad)
    group = item.get("group")
    if group is not None and (not isinstance(group, str) or not QUESTION_ID.match(group)):
        bad("group 只能由字母、数字、连字符和下划线组成")
    options, answer = [], None
    if qtype is not None:
        options, answer = _read_answer(qtype, item, fields["stem"] or "", bad)
    for message in problems:
        fail(line, qid, message)
    if problems:
        return None
    return Question(
        qid=qid, type=qtype, topic=fields["topic"], difficulty=difficulty, stem=fields["stem"],
        options=options, answer=answer, explanation=fields["explanation"],
        source_doc=source[0], source_article=source[1], source_basis=source[2], line=line,
        group=group or "",
    )


def _read_source(source, bad) -> tuple[str, str, str]:
    if not isinstance(source, dict):
        bad("缺少 source（出处：doc、article、basis）")
        return ("", "", "")
    doc, article, basis = source.get("doc"), source.get("article"), source.get("basis")
    if not isinstance(doc, str) or not doc.strip():
        bad("source.doc 不能为空，应为原文文件名，如 jianchafa-2018")
        doc = ""
    if isinstance(article, bool) or not (
        (isinstance(article, int) and article > 0) or article in UNNUMBERED_ARTICLES
    ):
        bad("source.article 必须是正整数条号，或 总纲 / 序言")
        article = ""
    if not isinstance(basis, str) or not basis.strip():
        bad("source.basis 不能为空，应为所引条文的原文摘录")
        basis = ""
    elif len(basis.strip()) > 80:
        bad(f"source.basis 超过 80 个字（{len(basis.strip())} 个）")
    return (doc.strip(), str(article), basis.strip())


def _read_options(item, bad) -> list[list[str]]:
    raw = item.get("options")
    if not isinstance(raw, dict) or not 2 <= len(raw) <= 8:
        bad("options 必须是 2–8 个“字母: 选项文字”")
        return []
    options = []
    for expected, (key, text) in zip("ABCDEFGH", raw.items()):
        if str(key) != expected:
            bad(f"选项字母应按 A、B、C… 顺序排列，此处应为 {expected}，实为 {key}")
            return []
        if not isinstance(text, (str, int, float)) or isinstance(text, bool) or not str(text).strip():
            bad(f"选项 {key} 的文字不能为空")
            return []
        options.append([expected, str(text).strip()])
    texts = [text for _, text in options]
    if len(set(texts)) != len(texts):
        bad("选项文字有重复")
    return options


def _read_answer(qtype: str, item: dict, stem: str, bad) -> tuple[list[list[str]], object]:
    answer = item.get("answer")
    if qtype in ("single", "multiple"):
        options = _read_options(item, bad)
        keys = {key for key, _ in options}
        if isinstance(answer, list):
            letters = [str(a).strip() for a in answer]
        elif isinstance(answer, str):
            letters = [c for c in answer.replace(",", "").replace("，", "").replace(" ", "")]
        else:
            letters = []
        if not letters or any(not OPTION_KEY.match(a) for a in letters) or len(set(letters)) != len(letters):
            bad("answer 必须是选项字母，如 A 或 ABD")
            return options, None
        if options and not set(letters) <= keys:
            bad(f"answer 引用了不存在的选项：{''.join(sorted(set(letters) - keys))}")
        if qtype == "single" and len(letters) != 1:
            bad("单选题的 answer 只能是一个字母")
        if qtype == "multiple" and len(letters) < 2:
            bad("多选题的 answer 至少要有两个字母")
        if qtype == "multiple" and options and len(letters) == len(options):
            bad("多选题至少要有一个错误选项")
        return options, (letters[0] if qtype == "single" else sorted(letters))
    if "options" in item:
        bad("判断题和填空题不写 options")
    if qtype == "judge":
        if isinstance(answer, bool):
            return [], answer
        if isinstance(answer, str) and answer.strip() in JUDGE_WORDS:
            return [], JUDGE_WORDS[answer.strip()]
        bad("判断题的 answer 必须是 true 或 false")
        return [], None
    blanks = _read_blanks(answer)
    if blanks is None:
        bad("填空题的 answer 必须是列表：每个空一项，每项是一个字符串或可接受写法的列表")
        return [], None
    count = stem.count(BLANK)
    if count != len(blanks):
        bad(f"题干中有 {count} 个空（____），answer 有 {len(blanks)} 项")
    return [], blanks


def _read_blanks(answer) -> list[list[str]] | None:
    if isinstance(answer, (str, int)) and not isinstance(answer, bool):
        answer = [answer]
    if not isinstance(answer, list) or not answer:
        return None
    blanks = []
    for entry in answer:
        variants = entry if isinstance(entry, list) else [entry]
        variants = [str(v).strip() for v in variants if not isinstance(v, (bool, dict, list))]
        if not variants or any(not v for v in variants):
            return None
        blanks.append(variants)
    return blanks
