#!/usr/bin/env python3
"""Search latency: one client, one keep-alive connection, one request at a time.

usage: search.py HOST PORT TOKEN OUT.json [--seconds 20] [--seed 7]

Drives GET /v1/stories over HTTP against stories from scripts/gen-stories (loaded by
scripts/load-stories) and times each request from sending it to the last byte of the answer.
Kinds, each reported on its own:

  typical  what the p95 target (< 50 ms) is about: one or two words and a state OR a desk filter,
           20 a page. The words come from the generator's own vocabulary
           (scripts/story_vocabulary.py): a fixed set of a few hundred candidate terms (cities,
           people by the name stories use for them, desk topic words, content words of middle
           frequency), drawn uniformly with the seed; a two-word query is a proper noun and a
           topic or content word, as people search ("Almaty protest"). Runs --seconds.
  worst    the most frequent content word alone, no filter: it is in most stories.
  filters  no q: a desk and a state, newest first.
  paging   nextCursor followed from page 1 to page 5 of one-word typical queries; the figures
           are of pages 2 to 5 (page 1 is a typical query), with each page's own under by_page.
The last three run a quarter of --seconds each (3 s at least, 5 requests at least). A second of
unmeasured requests goes first.

Every answer must be 200 with JSON holding a `stories` list; anything else is an error, counted
per kind (there must be none): the script then exits 1, after writing OUT.json. A summary that
shows a state or desk other than the filter's is counted as a mismatch (also reported).
Writes OUT.json: the date, and per kind requests, p50/p95/p99/max in ms, errors, mean_results.
"""
import argparse
import datetime
import http.client
import json
import math
import os
import random
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "scripts"))
import story_vocabulary as sv  # noqa: E402

TARGET_P95_MS = 50.0
LIMIT = 20
# How often a desk filters on each state (the generator's mix leans the same way).
STATE_CHOICES = ["draft", "in_review", "approved", "published", "spiked", "killed"]
STATE_WEIGHTS = [30, 25, 10, 25, 5, 5]
PAGES = 5


class Client:
    def __init__(self, host, port, token):
        self.host, self.port = host, port
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.connection = None
        self.error_samples = []

    def get(self, path):
        """(seconds, status, parsed JSON or None). Status 0: the connection failed."""
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        start = time.perf_counter()
        try:
            self.connection.request("GET", path, headers=self.headers)
            response = self.connection.getresponse()
            payload = response.read()
            elapsed = time.perf_counter() - start
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()
            self.connection = None
            self.note(f"{path}: {type(error).__name__}: {error}")
            return time.perf_counter() - start, 0, None
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
            self.connection = None
        body = None
        if response.status == 200:
            try:
                body = json.loads(payload)
            except ValueError:
                body = None
            if not (isinstance(body, dict) and isinstance(body.get("stories"), list)):
                self.note(f"{path}: 200 without a stories list: {payload[:200]!r}")
                body = None
        else:
            self.note(f"{path}: {response.status} {payload[:300]!r}")
        return elapsed, response.status, body

    def note(self, text):
        if len(self.error_samples) < 10:
            self.error_samples.append(text)


def path_of(params):
    return "/v1/stories?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)


class Kind:
    def __init__(self, name, description):
        self.name, self.description = name, description
        self.latencies, self.results, self.errors, self.mismatches = [], [], 0, 0
        self.examples = []

    def record(self, path, elapsed, status, body, params):
        if len(self.examples) < 5:
            self.examples.append(path)
        self.latencies.append(elapsed * 1000)
        if status != 200 or body is None:
            self.errors += 1
            return
        stories = body["stories"]
        self.results.append(len(stories))
        for summary in stories:
            if not isinstance(summary, dict):
                continue
            states = params.get("state", "").split(",") if "state" in params else None
            if (states and "state" in summary and summary["state"] not in states) or (
                    "desk" in params and "desk" in summary and summary["desk"] != params["desk"]):
                self.mismatches += 1

    def summary(self):
        ordered = sorted(self.latencies)

        def pct(p):
            if not ordered:
                return None
            return round(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)], 2)

        return {"description": self.description, "requests": len(ordered), "p50_ms": pct(50), "p95_ms": pct(95),
                "p99_ms": pct(99), "max_ms": round(ordered[-1], 2) if ordered else None, "errors": self.errors,
                "mean_results": round(sum(self.results) / len(self.results), 2) if self.results else 0,
                "filter_mismatches": self.mismatches, "examples": self.examples}


def typical_queries(terms, rng, count):
    """Typical searches: one or two words, and a state or a desk."""
    proper = terms["proper"]
    others = terms["content"] + terms["topic"]
    everything = proper + others
    queries = []
    for _ in range(count):
        if rng.random() < 0.5:
            q = rng.choice(everything)
        else:
            q = f"{rng.choice(proper)} {rng.choice(others)}"
        params = {"q": q}
        if rng.random() < 0.5:
            params["state"] = rng.choices(STATE_CHOICES, STATE_WEIGHTS)[0]
        else:
            params["desk"] = rng.choice(sv.DESKS)
        params["limit"] = str(LIMIT)
        queries.append(params)
    return queries


def run_for(seconds, minimum, step):
    """Calls step() until `seconds` have passed and it ran `minimum` times."""
    deadline = time.monotonic() + seconds
    n = 0
    while n < minimum or time.monotonic() < deadline:
        step(n)
        n += 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("token")
    parser.add_argument("out")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    terms = sv.search_terms(args.seed)
    worst_word = sv.worst_case_word("en")
    typical = typical_queries(terms, rng, 5000)
    paging_terms = terms["proper"] + terms["topic"]
    client = Client(args.host, args.port, args.token)
    other_seconds = max(3.0, args.seconds / 4)

    def measure(kind, params):
        path = path_of(params)
        elapsed, status, body = client.get(path)
        kind.record(path, elapsed, status, body, params)
        return body

    # Unmeasured: connection, caches, the server's first plans.
    warm = Kind("warm-up", "")
    run_for(1.0, 20, lambda n: measure(warm, typical[-1 - n % 500]))

    kinds = {}
    kind = kinds["typical"] = Kind("typical", "one or two words and a state or a desk filter, 20 a page")
    run_for(args.seconds, 20, lambda n: measure(kind, typical[n % len(typical)]))

    kind = kinds["worst"] = Kind("worst", f"the most frequent content word ({worst_word!r}) alone, no filter, "
                                          "20 a page")
    run_for(other_seconds, 5, lambda n: measure(kind, {"q": worst_word, "limit": str(LIMIT)}))

    filter_rng = random.Random(args.seed + 1)
    kind = kinds["filters"] = Kind("filters", "no q: a desk and a state, newest first, 20 a page")
    run_for(other_seconds, 5, lambda n: measure(kind, {
        "desk": filter_rng.choice(sv.DESKS), "state": filter_rng.choices(STATE_CHOICES, STATE_WEIGHTS)[0],
        "order": "newest", "limit": str(LIMIT)}))

    paging_rng = random.Random(args.seed + 2)
    kind = kinds["paging"] = Kind("paging", f"pages 2 to {PAGES} of a one-word query with a state or desk "
                                            "filter, following nextCursor")
    pages = [Kind(f"page {n}", "") for n in range(1, PAGES + 1)]
    reached = [0] * (PAGES + 1)

    def follow(_):
        params = {"q": paging_rng.choice(paging_terms)}
        if paging_rng.random() < 0.5:
            params["state"] = paging_rng.choices(STATE_CHOICES[:4], STATE_WEIGHTS[:4])[0]
        else:
            params["desk"] = paging_rng.choice(sv.DESKS)
        params["limit"] = str(LIMIT)
        body = measure(pages[0], params)
        page = 1
        while page < PAGES and body is not None and body.get("nextCursor"):
            page += 1
            following = dict(params, cursor=body["nextCursor"])
            body = measure(pages[page - 1], following)
            # The paging figure is of the pages reached through a cursor.
            kind.latencies.append(pages[page - 1].latencies[-1])
            if body is None:
                kind.errors += 1
            else:
                kind.results.append(len(body["stories"]))
            if len(kind.examples) < 5:
                kind.examples.append(path_of(following))
        reached[page] += 1

    run_for(other_seconds, 5, follow)
    kind.errors += pages[0].errors
    kind.mismatches = sum(page.mismatches for page in pages[1:])

    report = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "server": f"{args.host}:{args.port}", "client": "one connection, sequential requests",
        "seconds": args.seconds, "seed": args.seed, "target_p95_ms": TARGET_P95_MS,
        "candidate_terms": {group: len(words) for group, words in terms.items()},
        "kinds": {name: k.summary() for name, k in kinds.items()},
    }
    report["kinds"]["paging"]["by_page"] = {
        str(n + 1): {key: value for key, value in page.summary().items() if key not in ("description", "examples")}
        for n, page in enumerate(pages)}
    report["kinds"]["paging"]["sequences"] = sum(reached)
    report["kinds"]["paging"]["last_page_reached"] = {str(n): reached[n] for n in range(1, PAGES + 1)}
    typical_p95 = report["kinds"]["typical"]["p95_ms"]
    report["typical_p95_met"] = typical_p95 is not None and typical_p95 < TARGET_P95_MS
    errors = sum(k["errors"] for k in report["kinds"].values()) + warm.errors
    report["errors"] = errors
    report["error_samples"] = client.error_samples
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")

    for name, k in report["kinds"].items():
        line = (f"search: {name}: {k['requests']} requests, p50 {k['p50_ms']} ms, p95 {k['p95_ms']} ms")
        if name == "typical":
            line += f" (target < {TARGET_P95_MS:g} ms): {'met' if report['typical_p95_met'] else 'missed'}"
        line += (f", p99 {k['p99_ms']} ms, max {k['max_ms']} ms, {k['mean_results']} results on average, "
                 f"{k['errors']} errors")
        if k["filter_mismatches"]:
            line += f", {k['filter_mismatches']} summaries outside the filter"
        print(line, file=sys.stderr)
    if errors:
        print(f"search: {errors} requests failed (there must be none); first ones:", file=sys.stderr)
        for sample in client.error_samples:
            print(f"  {sample}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
