#!/usr/bin/env python3
"""The audit trail's part of scripts/bench.

usage: audit.py paths DIR STORY_IDS_FILE EVENTS   request paths and the matching SQL for each query kind
       audit.py report RAW_JSON OUT_DIR     the table, and OUT_DIR/audit-results.json

Each kind is one query an auditor runs: a story's history, and /v1/audit by story, actor, action,
a day, and an actor over a week; and the floor, /health, which needs neither token nor database. The paths vary the story, actor and time (fixed seed), so that a
measurement is not one cached row; the SQL is the first path's query, for EXPLAIN ANALYZE.
"""
import datetime
import json
import random
import statistics
import sys

# scripts/audit-events: 200 users, a 30-second step from 2025-11-01 00:00 UTC.
ACTORS = ([f"gen-reporter-{n:03}" for n in range(1, 151)] + [f"gen-editor-{n:03}" for n in range(1, 41)]
          + [f"gen-publisher-{n:03}" for n in range(1, 11)])
ACTIONS = ["create", "edit", "submit", "request_changes", "approve", "publish", "correct", "user.role"]
START = datetime.datetime(2025, 11, 1, tzinfo=datetime.timezone.utc)
ORDER = "ORDER BY at DESC, id DESC LIMIT 101"
P95_TARGET_MS = 5.0
FLOOR = "health"


def stamp(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def paths(out, ids_file, events):
    rng = random.Random(9)
    ids = [line.strip() for line in open(ids_file) if line.strip()]
    span_days = max(1, events * 30 // 86400)

    def day(length):
        since = START + datetime.timedelta(days=rng.randrange(max(1, span_days - length + 1)))
        return since, since + datetime.timedelta(days=length)

    # The floor: /health over the same client, server and host, with no token and no database.
    # What it takes in a round, no query can take less.
    kinds = {FLOOR: {"paths": ["/health"], "sql": None}}
    def add(kind, path, where, order=ORDER):
        entry = kinds.setdefault(kind, {"paths": [], "sql": None})
        entry["paths"].append(path)
        if entry["sql"] is None:
            entry["sql"] = f"SELECT * FROM audit_events WHERE {where} {order}"

    for _ in range(200):
        story = rng.choice(ids)
        add("history", f"/v1/stories/{story}/history",
            f"story_id = '{story}' AND id < 9223372036854775807", "ORDER BY id DESC LIMIT 101")
        story = rng.choice(ids)
        add("story", f"/v1/audit?story={story}", f"story_id = '{story}'")
        actor = rng.choice(ACTORS)
        add("actor", f"/v1/audit?actor={actor}", f"actor = '{actor}'")
        action = rng.choice(ACTIONS)
        add("action", f"/v1/audit?action={action}", f"action = '{action}'")
        since, until = day(1)
        add("day", f"/v1/audit?since={stamp(since)}&until={stamp(until)}",
            f"at >= '{stamp(since)}' AND at < '{stamp(until)}'")
        actor = rng.choice(ACTORS)
        since, until = day(7)
        add("actor+week", f"/v1/audit?actor={actor}&since={stamp(since)}&until={stamp(until)}",
            f"actor = '{actor}' AND at >= '{stamp(since)}' AND at < '{stamp(until)}'")
    for kind, entry in kinds.items():
        name = kind.replace("+", "-")
        open(f"{out}/{name}.paths", "w").write("\n".join(entry["paths"]) + "\n")
        if entry["sql"]:
            open(f"{out}/{name}.sql", "w").write(entry["sql"] + ";\n")
        print(kind, name)


def report(raw_file, out):
    raw = json.load(open(raw_file))
    rows = []
    for size in raw["sizes"]:
        # Each query ran in rounds (one before rounds were kept): its figures are the medians.
        runs, steals = {}, {}
        for q in size["queries"]:
            runs.setdefault(q["kind"], []).append(q["wrk"])
            steals.setdefault(q["kind"], []).append(q.get("steal_pct"))
        for kind, wrks in runs.items():
            def median_ms(key):
                return round(statistics.median(w[key] for w in wrks) / 1000, 2)
            p95 = median_ms("p95_us")
            non2xx = sum(w["non2xx"] for w in wrks)
            rows.append({
                "events": size["events"], "query": kind, "rounds": len(wrks),
                "requests": sum(w["requests"] for w in wrks), "non2xx": non2xx,
                "p50_ms": median_ms("p50_us"), "p95_ms": p95, "p99_ms": median_ms("p99_us"),
                "p95_ms_each": [round(w["p95_us"] / 1000, 2) for w in wrks],
                "steal_pct_each": steals[kind],
                "met": None if kind == FLOOR else p95 < P95_TARGET_MS and non2xx == 0,
            })
    chain = raw.get("chain") or []
    by_mode = {m: [r["wrk"]["requests"] / (r["wrk"]["duration_us"] / 1e6) for r in chain if r["mode"] == m]
               for m in ("chain", "off")}
    chain_result = None
    if by_mode["chain"] and by_mode["off"]:
        on, off = statistics.median(by_mode["chain"]), statistics.median(by_mode["off"])
        chain_result = {"runs": chain, "median_rps_chain": round(on, 1), "median_rps_off": round(off, 1),
                        "ratio": round(on / off, 3), "target": 0.9, "met": on / off >= 0.9}
    result = {"date": raw["date"], "sizes": [{k: v for k, v in s.items() if k != "queries"} for s in raw["sizes"]],
              "queries": rows, "p95_target_ms": P95_TARGET_MS, "chain": chain_result}
    json.dump(result, open(f"{out}/audit-results.json", "w"), indent=2)

    if rows:
        print(f"{'events':>9} {'query':<11} {'requests':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}  "
              f"target p95 < 5 ms (medians of the rounds; each round's p95, and the host's steal)")
        for r in rows:
            errors = f"  ({r['non2xx']} non-2xx)" if r["non2xx"] else ""
            each = " / ".join(f"{p:.2f}" + (f" ({st:.0f}%)" if st is not None else "")
                              for p, st in zip(r["p95_ms_each"], r["steal_pct_each"]))
            verdict = "floor" if r["met"] is None else "met" if r["met"] else "MISSED"
            print(f"{r['events']:>9} {r['query']:<11} {r['requests']:>8} {r['p50_ms']:>7.2f} {r['p95_ms']:>7.2f} "
                  f"{r['p99_ms']:>7.2f}  {verdict} ({each}){errors}")
    for s in raw["sizes"]:
        line = f"{s['events']:>9} events: sealed in {s['seal_s']:.1f} s; verify {s['verify_s']:.1f} s, peak RSS {s['verify_rss_kb'] / 1024:.1f} MB"
        print(line + (" (target < 60 s: " + ("met" if s["verify_s"] < 60 else "MISSED") + ")" if s["events"] >= 1_000_000 else ""))
    if chain_result:
        runs = ", ".join(f"{r['mode']} {r['wrk']['requests'] / (r['wrk']['duration_us'] / 1e6):.0f}" for r in chain)
        print(f"transitions/s with the chain {chain_result['median_rps_chain']:.0f}, without "
              f"{chain_result['median_rps_off']:.0f} (medians of three, interleaved: {runs}): "
              f"{chain_result['ratio']:.1%} (target >= 90%: {'met' if chain_result['met'] else 'MISSED'})")


if __name__ == "__main__":
    if sys.argv[1] == "paths":
        paths(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "report":
        report(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
