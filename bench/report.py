#!/usr/bin/env python3
"""Turns the raw bench measurements into the table, bench/results.json and bench/chart.png.

usage: report.py RAW_JSON OUT_DIR
"""
import json
import os
import sys

raw = json.load(open(sys.argv[1]))
out = sys.argv[2]
# Issue 11's floor: each operation's share of what PostgreSQL does with the same SQL.
targets = {"read": 0.45, "history": 0.2, "transition": 0.55, "create": 0.55, "list": 0.2}
# And the p99 of reads under the bench's connections.
read_p99_target_ms = 4
rows = []
for op in raw["operations"]:
    wrk, pg = op["wrk"], op["pgbench_tps"]
    rps = wrk["requests"] / (wrk["duration_us"] / 1e6)
    ratio = rps / pg if pg else None
    target = targets.get(op["name"])
    rows.append({
        "operation": op["name"],
        "wiredesk_rps": round(rps, 1),
        "p50_ms": round(wrk["p50_us"] / 1000, 2),
        "p99_ms": round(wrk["p99_us"] / 1000, 2),
        "non2xx": wrk["non2xx"],
        "socket_errors": wrk["socket_errors"],
        "pgbench_tps": round(pg, 1),
        "ratio": round(ratio, 3) if ratio is not None else None,
        "target": target,
        "met": None if target is None else ratio >= target,
    })
rss_mb = raw["peak_rss_kb"] / 1024
result = {
    "date": raw["date"], "machine": raw["machine"], "duration_s": raw["duration_s"],
    "connections": raw["connections"], "stories": raw["stories"], "operations": rows,
    "peak_rss_mb": round(rss_mb, 1), "rss_target_mb": 150, "rss_met": rss_mb < 150,
}
json.dump(result, open(f"{out}/results.json", "w"), indent=2)

header = f"{'operation':<11} {'wiredesk req/s':>14} {'p50 ms':>8} {'p99 ms':>8} {'pgbench tps':>12} {'ratio':>7}  target"
print(header)
print("-" * len(header))
for r in rows:
    target = "" if r["target"] is None else f">= {r['target']:.0%} {'met' if r['met'] else 'MISSED'}"
    errors = f"  ({r['non2xx']} non-2xx)" if r["non2xx"] else ""
    print(f"{r['operation']:<11} {r['wiredesk_rps']:>14.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
          f"{r['pgbench_tps']:>12.0f} {r['ratio']:>7.1%}  {target}{errors}")
read = next((r for r in rows if r["operation"] == "read"), None)
if read:
    met = "met" if read["p99_ms"] <= read_p99_target_ms else "MISSED"
    print(f"read p99: {read['p99_ms']:.2f} ms (target <= {read_p99_target_ms} ms: {met})")
    result["read_p99_target_ms"] = read_p99_target_ms
    result["read_p99_met"] = read["p99_ms"] <= read_p99_target_ms
    json.dump(result, open(f"{out}/results.json", "w"), indent=2)
print(f"server peak RSS: {rss_mb:.1f} MB (target < 150 MB: {'met' if rss_mb < 150 else 'MISSED'})")

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib missing: no chart")
    sys.exit(0)
names = [r["operation"] for r in rows]
x = range(len(names))
fig, ax = plt.subplots(figsize=(7, 3.6), dpi=120)
ax.bar([i - 0.2 for i in x], [r["pgbench_tps"] for r in rows], 0.4, label="pgbench (same SQL)", color="#9aa5b1")
ax.bar([i + 0.2 for i in x], [r["wiredesk_rps"] for r in rows], 0.4, label="Wiredesk over HTTP", color="#1f6feb")
for i, r in enumerate(rows):
    ax.annotate(f"{r['ratio']:.0%}", (i + 0.2, r["wiredesk_rps"]), ha="center", va="bottom", fontsize=8)
ax.set_xticks(list(x), names)
ax.set_ylabel("per second")
ax.set_title(f"Wiredesk over HTTP vs pgbench doing the same SQL\n"
             f"{raw['connections']} connections; wrk, server and PostgreSQL on one {os.cpu_count()}-core host", fontsize=9)
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(f"{out}/chart.png")
print(f"wrote {out}/results.json and {out}/chart.png")
