"""The writing-quality lint rules (quizapp.banks.quality) and per-edition stats, on small banks
written for each rule, and on a two-version source folder made for the version rules."""
from __future__ import annotations

import json

import pytest
import yaml

from quizapp.banks.lint import lint_paths
from quizapp.banks.loader import load_bank
from quizapp.banks.sources import load_sources
from quizapp.banks.stats import editions, format_edition


def bank(tmp_path, questions, name="b.yaml", header=None, bank_id="b"):
    head = header or {"id": bank_id, "title": "测试", "document": "测试法", "version": "2024", "in_force": True}
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"bank": head, "questions": questions}, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path


def single(i, answer="A", stem=None, explanation="第一条规定了甲。", options=None, **extra):
    return {"id": f"q{i}", "type": "单选", "topic": "总则", "difficulty": 1,
            "stem": stem or f"第{i}号问题问的是第{i * 7919}种情形（  ）。",
            "options": options or {"A": f"甲{i}", "B": f"乙{i}", "C": f"丙{i}", "D": f"丁{i}"}, "answer": answer,
            "explanation": explanation, "source": {"doc": "x", "article": 1, "basis": "甲"}, **extra}


def messages(path_or_paths, sources=None):
    paths = path_or_paths if isinstance(path_or_paths, list) else [path_or_paths]
    return [e.message for e in lint_paths(paths, sources)[1]]


def test_single_key_letters_must_be_balanced(tmp_path):
    skewed = bank(tmp_path, [single(i, "A" if i < 20 else "BCD"[i % 3]) for i in range(40)])
    assert any("单选题答案为 A 的有 20 道，占 50%" in m for m in messages(skewed))
    balanced = bank(tmp_path, [single(i, "ABCD"[i % 4]) for i in range(40)], name="ok.yaml")
    assert not any("单选题答案" in m for m in messages(balanced))


def test_multiple_keys_must_not_be_mostly_leading_runs(tmp_path):
    def multiple(i, answer):
        return {**single(i), "type": "多选", "answer": answer}
    runs = bank(tmp_path, [multiple(i, ["AB", "ABC", "BD"][i % 3]) for i in range(12)])
    assert any("连续开头字母" in m for m in messages(runs))
    varied = bank(tmp_path, [multiple(i, ["AB", "ACD", "BD"][i % 3]) for i in range(12)], name="ok.yaml")
    assert not any("连续开头字母" in m for m in messages(varied))


@pytest.mark.parametrize("text", ["A项错误。", "选项C是正确的。", "故选D。", "答案为B。", "A、C两项说法正确。", "B选项不对"])
def test_explanations_may_not_name_option_letters(tmp_path, text):
    assert any("解析引用了选项字母" in m for m in messages(bank(tmp_path, [single(1, explanation=text)])))


def test_explanation_without_letters_passes(tmp_path):
    assert not any("选项字母" in m for m in messages(bank(tmp_path, [single(1, explanation="《监察法》第十五条规定，包括公职人员。")])))


def test_a_fill_answer_may_not_appear_in_its_own_stem(tmp_path):
    fill = {"id": "f1", "type": "填空", "topic": "总则", "difficulty": 1, "stem": "监察委员会是专责机关，是行使监察职能的____。",
            "answer": ["专责机关"], "explanation": "见第三条。", "source": {"doc": "x", "article": 1, "basis": "专责机关"}}
    assert any("第 1 个空的答案「专责机关」出现在题干中" in m for m in messages(bank(tmp_path, [fill])))
    fill["stem"] = "监察委员会是行使监察职能的____。"
    assert not any("出现在题干中" in m for m in messages(bank(tmp_path, [fill], name="ok.yaml")))


def test_near_duplicate_stems_across_banks_unless_grouped(tmp_path):
    a = bank(tmp_path, [single(1, stem="根据《监察法》，监察机关对涉嫌职务犯罪的人员可以采取留置措施的期限是（  ）。")], "a.yaml", bank_id="a")
    b = bank(tmp_path, [single(2, stem="根据2018年《中华人民共和国监察法》，监察机关对涉嫌职务犯罪人员可以采取留置措施的期限是（  ）。")],
             "b.yaml", bank_id="b")
    assert any("几乎相同" in m and "[q1]" in m for m in messages([a, b]))
    a = bank(tmp_path, [single(1, stem="根据《监察法》，监察机关对涉嫌职务犯罪的人员可以采取留置措施的期限是（  ）。", group="g1")],
             "a.yaml", bank_id="a")
    b = bank(tmp_path, [single(2, stem="根据2018年《中华人民共和国监察法》，监察机关对涉嫌职务犯罪人员可以采取留置措施的期限是（  ）。",
                               group="g1")], "b.yaml", bank_id="b")
    assert not any("几乎相同" in m for m in messages([a, b]))


def test_a_stem_that_states_anothers_key_is_a_giveaway(tmp_path):
    ask = single(1, stem="国家监察委员会由（  ）产生。", options={"A": "全国人民代表大会", "B": "国务院", "C": "最高人民法院", "D": "中央军委"})
    tell = {"id": "j1", "type": "判断", "topic": "总则", "difficulty": 1, "stem": "国家监察委员会主任由全国人民代表大会选举。",
            "answer": True, "explanation": "第一条。", "source": {"doc": "x", "article": 1, "basis": "甲"}}
    found = messages(bank(tmp_path, [ask, tell]))
    assert any("题干写出了 [q1] 的正确答案「全国人民代表大会」" in m for m in found)
    grouped = messages(bank(tmp_path, [{**ask, "group": "npc"}, {**tell, "group": "npc"}], name="ok.yaml"))
    assert not any("正确答案" in m for m in grouped)


@pytest.fixture
def two_versions(tmp_path):
    """A document in two versions: article 1 unchanged, article 2 changed, article 3 renumbered."""
    folder = tmp_path / "sources"
    folder.mkdir()
    (folder / "fa-2018.md").write_text("第一条 甲是乙。\n第二条 丙应当经批准。\n第三条 丁。\n", encoding="utf-8")
    (folder / "fa-2024.md").write_text("第一条 甲是乙。\n第二条 丙不需要批准。\n第三条 新条文。\n第四条 丁。\n", encoding="utf-8")
    (folder / "index.json").write_text(json.dumps({"fa-2018": {"title": "某法", "file": "fa-2018.md"},
                                                   "fa-2024": {"title": "某法", "file": "fa-2024.md"}}), encoding="utf-8")
    return load_sources(folder)


def judge(i, stem, article, basis, doc, answer=True):
    return {"id": f"j{i}", "type": "判断", "topic": "总则", "difficulty": 1, "stem": stem, "answer": answer,
            "explanation": "见条文。", "source": {"doc": doc, "article": article, "basis": basis}}


def test_a_changed_article_of_the_older_version_needs_the_version_in_the_stem(tmp_path, two_versions):
    old = {"id": "old", "title": "旧", "document": "某法", "version": "2018", "in_force": False, "superseded_by": "new"}
    path = bank(tmp_path, [judge(1, "丙应当经批准。", 2, "丙应当经批准", "fa-2018"),
                           judge(2, "甲是乙。", 1, "甲是乙", "fa-2018")], header=old)
    found = [e for e in lint_paths([path], two_versions)[1]]
    changed = [e for e in found if "在新版本" in e.message]
    assert [e.qid for e in changed] == ["j1"]  # article 1 did not change
    # Every question of a superseded bank names its version, changed article or not.
    assert {e.qid for e in found if "已失效：题干必须写明版本" in e.message} == {"j1", "j2"}
    fixed = bank(tmp_path, [judge(1, "2018年某法规定，丙应当经批准。", 2, "丙应当经批准", "fa-2018"),
                            judge(2, "2018年某法规定，甲是乙。", 1, "甲是乙", "fa-2018")], name="ok.yaml", header=old)
    assert lint_paths([fixed], two_versions)[1] == []


def test_a_bank_in_force_may_not_cite_the_superseded_text(tmp_path, two_versions):
    path = bank(tmp_path, [judge(1, "甲是乙。", 1, "甲是乙", "fa-2018")])
    assert any("引用了已被 fa-2024 取代的 fa-2018" in m for m in messages(path, two_versions))


def test_header_must_name_document_version_and_whether_in_force(tmp_path):
    found = messages(bank(tmp_path, [single(1)], header={"id": "b", "title": "测试"}))
    assert any("bank.document" in m for m in found) and any("bank.version" in m for m in found)
    assert any("bank.in_force" in m for m in found)
    superseded = messages(bank(tmp_path, [single(1)], name="s.yaml",
                               header={"id": "b", "title": "测试", "document": "某法", "version": "2018", "in_force": False}))
    assert any("superseded_by" in m for m in superseded)


def _judges(true_verbatim: int, false_verbatim: int, n: int = 10):
    """n true and n false statements on article 1 of a one-article source."""
    article = "监察机关应当依法公正履行职责。" * 1
    items = []
    for i in range(n):
        items.append(judge(i, "监察机关应当依法公正履行职责。" if i < true_verbatim else f"第{i}种转述：监察工作要依法公正。",
                           1, "监察机关应当依法公正履行职责", "y"))
        items.append(judge(100 + i, "监察机关可以依法公正履行职责。" if i < false_verbatim else f"第{i}种错误转述：监察工作可以不依法。",
                           1, "监察机关应当依法公正履行职责", "y", answer=False))
    return article, items


@pytest.mark.parametrize("true_verbatim, false_verbatim, flagged", [(9, 0, True), (6, 5, False), (5, 3, False), (6, 2, True)])
def test_true_and_false_statements_must_be_worded_alike(tmp_path, true_verbatim, false_verbatim, flagged):
    article, items = _judges(true_verbatim, false_verbatim)
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "y.md").write_text(f"第一条 {article}\n", encoding="utf-8")
    found = messages(bank(tmp_path, items), load_sources(folder))
    assert any("判断题措辞泄露答案" in m for m in found) is flagged, found


def test_stats_per_document_and_version_with_uncovered_articles(tmp_path, two_versions):
    a = bank(tmp_path, [judge(1, "2018年某法规定，甲是乙。", 1, "甲是乙", "fa-2018")], name="a.yaml",
             header={"id": "a", "title": "旧", "document": "某法", "version": "2018", "in_force": False, "superseded_by": "b"})
    b1 = bank(tmp_path, [single(1, "B"), judge(2, "甲是乙。", 1, "甲是乙", "fa-2024")], name="b1.yaml",
              header={"id": "b1", "title": "新一", "document": "某法", "version": "2024", "in_force": True})
    b2 = bank(tmp_path, [judge(3, "丁。", 4, "丁", "fa-2024")], name="b2.yaml",
              header={"id": "b2", "title": "新二", "document": "某法", "version": "2024", "in_force": True})
    found = editions([load_bank(p) for p in (a, b1, b2)])
    assert [(e.document, e.version, len(e.questions)) for e in found] == [("某法", "2018", 1), ("某法", "2024", 3)]
    text = "\n".join(format_edition(found[1], two_versions))
    assert "《某法》2024年版（现行有效；题库 b1、b2）：共 3 题" in text
    assert "fa-2024：4 条中 2 条没有题目：第二条、第三条" in text
    assert "单选答案字母：B 1（100%）" in text
