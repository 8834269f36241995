"""Benchmark 4: lint and import 10,000 questions (a generated bank citing real articles).

    python benchmarks/bank_import.py --db sqlite --count 10000
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.harness import ROOT, SECRET, database_url  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--sources", default=str(ROOT.parent / "shared" / "sources"))
    parser.add_argument("--out")
    args = parser.parse_args()
    folder = Path("/tmp/quizapp-bench-bank")
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_bank.py"), "--count", str(args.count),
                    "--sources", args.sources, "-o", str(folder)], check=True, capture_output=True)
    from flask_migrate import upgrade

    from quizapp import create_app
    from quizapp.banks.lint import lint_paths
    from quizapp.banks.sources import load_sources
    from quizapp.services.banks import import_banks

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(args.db), "SECRET_KEY": SECRET})
    with app.app_context():
        upgrade()
        start = time.perf_counter()
        files, errors = lint_paths([folder], load_sources(args.sources))
        lint_seconds = time.perf_counter() - start
        assert not errors, errors[:3]
        start = time.perf_counter()
        report = import_banks([folder], load_sources(args.sources))  # lints again, then writes
        import_seconds = time.perf_counter() - start
        start = time.perf_counter()
        again = import_banks([folder], load_sources(args.sources))
        reimport_seconds = time.perf_counter() - start
    result = {"db": args.db, "questions": sum(len(f.questions) for f in files),
              "lint_seconds": round(lint_seconds, 2), "lint_and_import_seconds": round(import_seconds, 2),
              "added": report.added, "reimport_unchanged_seconds": round(reimport_seconds, 2),
              "reimport_unchanged": again.unchanged}
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
