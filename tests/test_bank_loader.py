"""The YAML loader and the lint rules (pure: no app, no database)."""
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from quizapp.banks.lint import lint_paths
from quizapp.banks.loader import load_bank
from quizapp.banks.sources import chinese_to_int, load_sources, parse_source

from .conftest import SAMPLE_BANK, SOURCES

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "question_banks" / "bank.schema.json").read_text("utf-8"))


def write(tmp_path, body: str, name="bank.yaml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


HEADER = "bank:\n  id: t\n  title: 测试\n  document: 监察法\n  version: \"2024\"\n  in_force: true\nquestions:\n"


def question(qid="q-1", **fields) -> str:
    base = {
        "id": qid, "type": "单选", "topic": "总则", "difficulty": 1, "stem": f"题干 {qid}（  ）",
        "options": {"A": "甲", "B": "乙"}, "answer": "A", "explanation": "因为。",
        "source": {"doc": "jianchafa-2024", "article": 7, "basis": "中华人民共和国国家监察委员会是最高监察机关。"},
    }
    base.update(fields)
    text = yaml.safe_dump([base], allow_unicode=True, sort_keys=False)
    return "".join("  " + line + "\n" for line in text.splitlines())


def test_sample_bank_loads_with_canonical_answers():
    bank = load_bank(SAMPLE_BANK)
    assert bank.errors == []
    assert bank.bank_id == "test-sample" and len(bank.questions) == 12
    by_id = {q.qid: q for q in bank.questions}
    assert by_id["t-0001"].answer == "A"
    assert by_id["t-0006"].answer == ["A", "B", "C"]
    assert by_id["t-0009"].answer is False and by_id["t-0010"].answer is False
    assert by_id["t-0012"].answer == [["管理", "经营管理"], ["管理"]]
    assert by_id["t-0001"].line == 9 and by_id["t-0002"].line > by_id["t-0001"].line


def test_sample_bank_matches_json_schema():
    jsonschema.validate(yaml.safe_load(SAMPLE_BANK.read_text("utf-8")), SCHEMA)


def test_every_error_is_reported_with_file_id_and_line(tmp_path):
    body = HEADER + question("ok-1") + question("bad-1", type="问答") + question("bad-2", difficulty=5, answer="Z")
    path = write(tmp_path, body)
    bank = load_bank(path)
    messages = [str(e) for e in bank.errors]
    assert len(bank.questions) == 1
    assert any("[bad-1]" in m and "type 无效" in m for m in messages)
    assert any("[bad-2]" in m and "difficulty" in m for m in messages)
    assert any("[bad-2]" in m and "answer" in m for m in messages)
    lines = {e.qid: e.line for e in bank.errors}
    assert lines["bad-1"] < lines["bad-2"] and all(m.startswith(str(path)) for m in messages)


@pytest.mark.parametrize("fields, message", [
    ({"type": "多选", "answer": "AB"}, "至少要有一个错误选项"),
    ({"type": "多选", "answer": "A"}, "至少要有两个字母"),
    ({"answer": "C"}, "不存在的选项"),
    ({"options": {"A": "甲", "B": "甲"}}, "选项文字有重复"),
    ({"options": {"A": "甲", "C": "乙"}}, "顺序排列"),
    ({"type": "判断", "answer": "也许", "options": None}, "true 或 false"),
    ({"type": "填空", "stem": "有两个空____和____", "answer": ["一"], "options": None}, "answer 有 1 项"),
    ({"source": {"doc": "jianchafa-2018", "article": "第七条", "basis": "x"}}, "source.article"),
    ({"source": {"doc": "jianchafa-2018", "article": 7, "basis": "字" * 81}}, "超过 80 个字"),
    ({"explanation": ""}, "解析"),
])
def test_each_format_rule(tmp_path, fields, message):
    if fields.get("options", 1) is None:
        fields = {k: v for k, v in fields.items() if k != "options"}
        body = HEADER + question("q-1", **fields).replace("    options:\n      A: 甲\n      B: 乙\n", "")
    else:
        body = HEADER + question("q-1", **fields)
    bank = load_bank(write(tmp_path, body))
    assert any(message in e.message for e in bank.errors), [str(e) for e in bank.errors]


def test_yaml_syntax_error_names_the_line(tmp_path):
    bank = load_bank(write(tmp_path, HEADER + "  - id: x\n    stem: [unclosed\n"))
    assert len(bank.errors) == 1 and "YAML 语法错误" in bank.errors[0].message and bank.errors[0].line >= 5


def test_duplicate_ids_and_near_duplicate_stems_across_files(tmp_path):
    write(tmp_path, HEADER + question("dup", stem="监察机关是（  ）。"), "a.yaml")
    write(tmp_path, HEADER.replace("id: t", "id: u") + question("dup", stem="监察机关 是（ ）"), "b.yaml")
    _, errors = lint_paths([tmp_path])
    messages = [e.message for e in errors]
    assert any("题目 id 与" in m for m in messages)
    assert any("题干与" in m for m in messages)


@pytest.fixture(scope="module")
def sources():
    return load_sources(SOURCES)


def test_sources_are_split_into_articles(sources):
    assert chinese_to_int("一百四十三") == 143 and chinese_to_int("十五") == 15
    assert len([k for k in sources["jianchafa-2018"].articles if isinstance(k, int)]) == 69
    assert len([k for k in sources["xianfa-2018"].articles if isinstance(k, int)]) == 143
    assert "序言" in sources["xianfa-2018"].articles and "总纲" in sources["dangzhang-2017"].articles
    amendment = sources["xianfa-xiuzhengan-2018"].articles
    assert sorted(k for k in amendment) == list(range(32, 53))


def test_out_of_sequence_article_lines_are_quotations():
    doc = parse_source("x", "第一条 甲。\n\n第二条 宪法增加一条：\n\n第九十条 引文。\n\n第三条 丙。\n")
    assert sorted(doc.articles) == [1, 2, 3]
    assert "第九十条 引文。" in doc.articles[2].text


def test_sample_bank_passes_citation_checks(sources):
    _, errors = lint_paths([SAMPLE_BANK], sources)
    assert errors == []


@pytest.mark.parametrize("fields, message", [
    ({"source": {"doc": "nope-2000", "article": 1, "basis": "x"}}, "不在原文索引中"),
    ({"source": {"doc": "jianchafa-2018", "article": 70, "basis": "x"}}, "没有第 70 条"),
    ({"source": {"doc": "jianchafa-2018", "article": 8, "basis": "中华人民共和国国家监察委员会是最高监察机关。"}}, "逐字摘录"),
    ({"options": {"A": "最高人民法院", "B": "甲"}}, "在所引条文中找不到"),
    ({"type": "多选", "options": {"A": "国家监察委员会", "B": "最高监察机关", "C": "最高审判机关"}, "answer": "BC"},
     "正确选项 C「最高审判机关」在所引条文中找不到"),
    ({"type": "填空", "stem": "国家监察委员会是最高____。", "answer": ["审判机关"]}, "不在 source.basis 中"),
])
def test_each_citation_rule(tmp_path, sources, fields, message):
    body = HEADER + question("c-1", **fields)
    if fields.get("type") == "填空":
        body = body.replace("    options:\n      A: 甲\n      B: 乙\n", "")
    _, errors = lint_paths([write(tmp_path, body)], sources)
    assert any(message in e.message for e in errors), [str(e) for e in errors]
    assert all(e.qid == "c-1" and e.line == 8 for e in errors)


def test_basis_ignores_whitespace_but_not_punctuation(sources):
    article = sources["jianchafa-2018"].articles[7]
    assert article.contains("中华人民共和国 国家监察委员会\n是最高监察机关。")
    assert not article.contains("中华人民共和国国家监察委员会是最高监察机关!")


def test_sources_without_index_use_every_markdown_file(tmp_path):
    (tmp_path / "difang-tiaoli.md").write_text("# 某县机关效能建设规定\n\n## 第一章 总则\n\n第一条 为了提高机关效能，制定本规定。\n\n第二条 本规定适用于全县机关。\n", encoding="utf-8")
    (tmp_path / "README.md").write_text("说明", encoding="utf-8")
    docs = load_sources(tmp_path)
    assert list(docs) == ["difang-tiaoli"] and docs["difang-tiaoli"].title == "某县机关效能建设规定"
    assert docs["difang-tiaoli"].articles[2].contains("本规定适用于全县机关。")
    assert docs["difang-tiaoli"].articles[1].chapter == "第一章 总则"


def test_a_part_heading_ends_an_article():
    """`## 第二编 分则` closes the last article of 第一编, as 第X章 and 第X节 do."""
    doc = parse_source("t", "## 第一编 总则\n## 第一章 任务\n第一条 甲。\n第二条 乙。\n## 第二编 分则\n## 第二章 处分\n第三条 丙。\n")
    assert doc.articles[2].paragraphs == ["乙。"]
    assert doc.articles[3].chapter == "第二章 处分"
