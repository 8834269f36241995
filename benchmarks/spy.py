"""py-spy on a benchmark's gunicorn workers during one phase, and a flame summary of it.

    with PhaseProfile(server, "/tmp/prof", "spike", seconds=15):
        ...the phase...
    print(flame_summary(Path("/tmp/prof").glob("spike-*.txt")))

py-spy (PyPI package `py-spy`, root or ptrace rights needed) samples each worker at 100 Hz
with --idle, so time spent waiting on the database counts; only samples inside a request
(under Flask's wsgi_app) are summarized, so a worker waiting for its next connection does not.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def worker_pids(master_pid: int) -> list[int]:
    """The gunicorn master's children (its workers)."""
    out = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


class PhaseProfile:
    """Records every worker of `server` (benchmarks.harness.Server) for `seconds` from entry;
    a no-op when `out_dir` is None or py-spy is not installed."""

    def __init__(self, server, out_dir: str | None, name: str, seconds: float):
        self.server, self.dir, self.name, self.seconds, self.processes = server, out_dir, name, seconds, []

    def __enter__(self):
        spy = shutil.which("py-spy")
        if self.dir and spy:
            Path(self.dir).mkdir(parents=True, exist_ok=True)
            for pid in worker_pids(self.server.process.pid):
                self.processes.append(subprocess.Popen(
                    [spy, "record", "--idle", "-r", "100", "-d", str(int(self.seconds)), "-f", "raw",
                     "-p", str(pid), "-o", str(Path(self.dir) / f"{self.name}-{pid}.txt")],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        return self

    def __exit__(self, *exc):
        for process in self.processes:
            try:
                process.wait(timeout=self.seconds + 30)
            except subprocess.TimeoutExpired:
                process.terminate()
        return False


def _frames(stack: str) -> list[tuple[str, str]]:
    frames = []
    for part in stack.split(";"):
        match = FRAME.match(part.strip())
        if match:
            frames.append((match["func"], match["file"]))
    return frames


def flame_summary(files, top: int = 25) -> dict:
    """Shares of the request samples (frames from Flask's wsgi_app down): per frame, inclusive
    (function and file, the file shortened to the package path), the `top` largest below 99%;
    per the deepest quizapp (or benchmark) frame, "self-and-below" (where a request's time goes
    by our own call site); and the share spent waiting on the database (psycopg's
    Connection.wait anywhere in the stack, or sqlite3's execute/commit at the leaf)."""
    inclusive, own, total, waiting = Counter(), Counter(), 0, 0
    for path in files:
        for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            frames = _frames(stack)
            start = next((i for i, (func, _) in enumerate(frames) if func.endswith("wsgi_app")), None)
            if start is None:
                continue
            frames, n = frames[start:], int(count)
            total += n
            leaf_func = frames[-1][0]
            if any(func == "Connection.wait" and "psycopg" in file for func, file in frames) or (
                    leaf_func.endswith(("execute", "commit")) and "sqlite" in frames[-1][1]):
                waiting += n
            ours = [f"{func} ({file})" for func, file in frames if file.startswith(("quizapp/", "benchmarks/"))]
            own[ours[-1] if ours else "(framework only)"] += n
            for key in {f"{func} ({re.sub(r'^.*?/(site-packages|main)/', '', file)})" for func, file in frames}:
                inclusive[key] += n
    if not total:
        return {"request_samples": 0}
    share = lambda n: round(n / total, 3)  # noqa: E731
    return {"request_samples": total, "waiting_on_database": share(waiting),
            "by_own_call_site": [(key, share(n)) for key, n in own.most_common(top)],
            "frames": [(key, share(n)) for key, n in inclusive.most_common() if n < 0.99 * total][:top]}
