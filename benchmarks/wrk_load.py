"""wrk (Debian package `wrk`) as the load generator of the HTTP benchmarks: a closed loop of
saves, or each connection one participant pacing their saves with a random think time. In C,
so the client does not share the server's limits the way the Python client does.
"""
from __future__ import annotations

import json
import random
import re
import subprocess
import tempfile
from pathlib import Path

from benchmarks.harness import USER_AGENT


WRK_REPORT = re.compile(r"Latency Distribution.*?50%\s+([\d.]+)(us|ms|s).*?99%\s+([\d.]+)(us|ms|s)", re.S)


def _ms(value: str, unit: str) -> float:
    return round(float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], 1)


def wrk_closed_loop(base: str, requests: list[tuple[str, str, str]], connections: int, seconds: float,
                    think_ms: float = 0.0, threads: int = 1) -> dict:
    """Closed loop with wrk (C) so the client does not limit the server: each request is a
    random (path, cookie and headers, JSON body) from `requests` (a sample of at most 4,000:
    much larger Lua tables made wrk send broken requests).

    With `think_ms`, each connection is one participant who waits a random think time
    (exponential, that mean) after each acknowledged save before the next: the realistic
    round, paced in C rather than by a Python client that shares the server's cores."""
    requests = random.Random(3).sample(requests, min(len(requests), 4000))
    rows = ",\n".join("{%s,%s,%s}" % (json.dumps(p), json.dumps(h), json.dumps(b)) for p, h, b in requests)
    script = Path(tempfile.gettempdir()) / "quizapp-bench.lua"
    script.write_text(f"""local r = {{
{rows}
}}
math.randomseed(7)
request = function()
  local x = r[math.random(#r)]
  local headers = {{["Content-Type"] = "application/json", ["User-Agent"] = "{USER_AGENT}"}}
  for pair in string.gmatch(x[2], "[^|]+") do
    local k, v = pair:match("^(.-): (.*)$")
    headers[k] = v
  end
  return wrk.format("POST", x[1], headers, x[3])
end
""" + ("" if not think_ms else f"""
delay = function()
  return math.floor(-math.log(1 - math.random()) * {think_ms})
end
"""), encoding="utf-8")
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{int(seconds)}s", "--timeout", "30s",
                          "--latency", "-s", str(script), base],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    latency = WRK_REPORT.search(out)
    return {"requests": total, "errors": errors, "seconds": seconds,
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": _ms(latency.group(1), latency.group(2)), "p99_ms": _ms(latency.group(3), latency.group(4)),
            "client": "wrk"}


