"""Write a large synthetic bank whose every question cites a real article verbatim.

Used by the bank benchmark (lint + import of 10,000 questions). Each question is a true
判断 statement whose basis is the opening of a real article (so `bank lint --sources` checks
it for real); stems are numbered so none is a duplicate. Not content for a real competition.

    python benchmarks/make_bank.py --count 10000 --sources ../shared/sources -o /tmp/bench-bank
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from quizapp.banks.sources import load_sources  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--per-file", type=int, default=2500)
    parser.add_argument("--sources", default="../shared/sources")
    parser.add_argument("-o", "--output", default="/tmp/bench-bank")
    args = parser.parse_args()
    articles = [(slug, key, article) for slug, doc in load_sources(args.sources).items()
                for key, article in doc.articles.items() if isinstance(key, int) and article.paragraphs[0]]
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.yaml"):
        old.unlink()
    for start in range(0, args.count, args.per_file):
        questions = []
        for n in range(start, min(start + args.per_file, args.count)):
            slug, key, article = articles[n % len(articles)]
            basis = article.paragraphs[0][:60]
            questions.append({
                "id": f"bench-{n:05d}", "type": "判断", "topic": article.chapter or "总则", "difficulty": 1 + n % 3,
                "stem": f"（练习{n}）{basis}", "answer": True, "explanation": f"见原文第{key}条。",
                "source": {"doc": slug, "article": key, "basis": basis},
            })
        bank = {"bank": {"id": f"bench-{start // args.per_file}", "title": f"基准测试题库 {start // args.per_file}"},
                "questions": questions}
        path = out / f"bench-{start // args.per_file}.yaml"
        path.write_text(yaml.safe_dump(bank, allow_unicode=True, sort_keys=False), encoding="utf-8")
    print(f"wrote {args.count} questions to {out}")


if __name__ == "__main__":
    main()
