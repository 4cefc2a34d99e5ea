#!/usr/bin/env python3
"""Print `make bench` results as one markdown table.

Usage: bench_table.py GO_BENCH_OUTPUT PY_BENCH_JSON

The Go file is `go test -bench` output; every benchmark line becomes a row
with its ns/op and its custom metrics. The Python file is the JSON written
by tests_py/bench_classify.py: a list of {"name", "value", "unit", "target"}
rows (or a flat {name: value} mapping).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

BENCH_LINE = re.compile(r"^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$")


# Ratios printed under the Go rows: (label, numerator, denominator, target),
# benchmark names without "Benchmark", compared on ns/op.
RATIOS = [("Classify(string) / bart ParseAddr+Lookup", "ClassifyVsBart/engine", "ClassifyVsBart/bart", "≤ 2.5×")]


def go_rows(text: str) -> list[tuple[str, str]]:
    rows = []
    ns: dict[str, float] = {}
    metric: dict[str, float] = {}  # a benchmark's own "ratio" metric
    for line in text.splitlines():
        m = BENCH_LINE.match(line.strip())
        if not m:
            continue
        name, metrics = m.group(1).removeprefix("Benchmark"), m.group(3).split()
        pairs = [f"{metrics[i]} {metrics[i + 1]}" for i in range(0, len(metrics) - 1, 2)]
        rows.append((f"go {name}", ", ".join(pairs)))
        for i in range(0, len(metrics) - 1, 2):
            if metrics[i + 1] == "ns/op":
                ns[name] = float(metrics[i])
            if metrics[i + 1] == "ratio":
                metric[name] = float(metrics[i])
    for label, num, den, target in RATIOS:
        if ns.get(num) and ns.get(den):
            rows.append((f"go {label}", f"{ns[num] / ns[den]:.2f} × (target {target})"))
        if ratio := metric.get(f"{num.rsplit('/', 1)[0]}/interleaved"):
            rows.append((f"go {label}, interleaved rounds (thread CPU)", f"{ratio:.2f} × (target {target})"))
    return rows


def py_rows(data: object) -> list[tuple[str, str]]:
    if isinstance(data, dict):
        data = [{"name": k, "value": v, "unit": ""} for k, v in data.items()]
    rows = []
    for r in data:  # type: ignore[union-attr]
        target = f" (target {r['target']})" if r.get("target") else ""
        value = r["value"]
        shown = f"{value:.3g}" if isinstance(value, float) else str(value)
        rows.append((f"py {r['name']}", f"{shown} {r.get('unit', '')}".strip() + target))
    return rows


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    rows = go_rows(Path(sys.argv[1]).read_text())
    py = Path(sys.argv[2])
    if py.exists():
        rows += py_rows(json.loads(py.read_text()))
    width = max((len(n) for n, _ in rows), default=9)
    print(f"\n| {'benchmark'.ljust(width)} | result |")
    print(f"|{'-' * (width + 2)}|--------|")
    for name, result in rows:
        print(f"| {name.ljust(width)} | {result} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
