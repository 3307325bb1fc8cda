#!/usr/bin/env python3
"""Seeds stories through the API: POST the story document COUNT times over keep-alive connections.

usage: seed.py HOST PORT TOKEN STORY_JSON COUNT IDS_OUT
"""
import http.client
import json
import sys
import threading

host, port, token, story_path, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
document = json.load(open(story_path, encoding="utf-8"))
ids, lock, failures = [], threading.Lock(), []


def worker(n):
    connection = http.client.HTTPConnection(host, port, timeout=30)
    for k in range(n):
        body = dict(document, headline=f"{document['headline']} ({k})")
        connection.request("POST", "/v1/stories", json.dumps(body).encode(),
                           {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        response = connection.getresponse()
        payload = response.read()
        if response.status != 201:
            failures.append(f"{response.status} {payload[:200]!r}")
            return
        with lock:
            ids.append(json.loads(payload)["id"])


threads = [threading.Thread(target=worker, args=(count // 8 + (1 if i < count % 8 else 0),)) for i in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if failures:
    sys.exit(f"seeding failed: {failures[0]}")
with open(out, "w") as f:
    f.write("\n".join(ids) + "\n")
print(f"seeded {len(ids)} stories")
