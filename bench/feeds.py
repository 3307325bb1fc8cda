"""A burst of agency files into a drop folder, and how the server takes it in.

    python3 bench/feeds.py DROP STAGE SERVER_PID COUNT OUT.json

Writes COUNT files into STAGE (the canonical fixtures, each made unique), moves them all into
DROP at once, as a transfer script would, then waits until every one has left DROP and samples
the server's resident memory as it goes. Writes the timings and the memory samples to OUT.json.
"""
import json
import os
import re
import sys
import time

drop, stage, pid, count, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
fixtures = "Tests/Fixtures"


def read(path):
    with open(os.path.join(fixtures, path), encoding="utf-8") as f:
        return f.read()


wire = read("reuters-almaty-2022-01-07.txt")
ninjs = json.loads(read("ninjs/examples/3.1/004_simple_text_article.json"))
xml = {}
for path in ("newsml-g2/LISTING_2_NewsML-G2_Text_Document.xml", "nitf/reuters-almaty-2022-01-07.nitf.xml"):
    if os.path.exists(os.path.join(fixtures, path)):
        xml[path] = read(path)


def item(n):
    """The n-th file: its name and bytes. Each differs from every other in its bytes and its agency id."""
    kind = n % 5
    if kind == 1:
        doc = dict(ninjs, uri=f"urn:bench:ninjs:{n}", version="1")
        return f"item-{n}.json", json.dumps(doc).encode()
    if kind == 2 and xml:
        path = sorted(xml)[n % len(xml)]
        text = xml[path]
        text = re.sub(r'guid="[^"]*"', f'guid="urn:bench:g2:{n}"', text, count=1)
        text = re.sub(r'(<doc-id[^>]*id-string=)"[^"]*"', rf'\1"urn:bench:nitf:{n}"', text, count=1)
        text = text.replace("</p>", f" Dispatch {n}.</p>", 1)
        return f"item-{n}.xml", text.encode()
    return f"item-{n}.txt", (wire + f"\nDispatch {n} from the bench.\n").encode()


def rss_kb():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def waiting():
    return sum(1 for e in os.scandir(drop) if e.is_file() and not e.name.startswith("."))


os.makedirs(stage, exist_ok=True)
names = []
size = 0
for n in range(1, count + 1):
    name, data = item(n)
    with open(os.path.join(stage, name), "wb") as f:
        f.write(data)
    names.append(name)
    size += len(data)
# Written a while ago, as files that have finished arriving are: the folder's settle time
# does not count against the server.
past = time.time() - 60
for name in names:
    os.utime(os.path.join(stage, name), (past, past))

rss_before = rss_kb()
started = time.monotonic()
for name in names:
    os.rename(os.path.join(stage, name), os.path.join(drop, name))
moved = time.monotonic()
samples = []
deadline = started + 900
left = count
while left > 0 and time.monotonic() < deadline:
    time.sleep(0.5)
    left = waiting()
    samples.append({"t": round(time.monotonic() - started, 2), "left": left, "rss_kb": rss_kb()})
elapsed = time.monotonic() - started
done = len(os.listdir(os.path.join(drop, "done"))) if os.path.isdir(os.path.join(drop, "done")) else 0
failed_dir = os.path.join(drop, "failed")
failed = sorted(os.listdir(failed_dir)) if os.path.isdir(failed_dir) else []
json.dump(
    {
        "files": count,
        "bytes": size,
        "formats": {"wire-text": sum(n.endswith(".txt") for n in names), "ninjs": sum(n.endswith(".json") for n in names),
                    "xml": sum(n.endswith(".xml") for n in names)},
        "move_s": round(moved - started, 2),
        "elapsed_s": round(elapsed, 2),
        "files_per_s": round(count / elapsed, 1) if left == 0 else 0,
        "done": done,
        "failed": failed,
        "left": left,
        "rss_before_kb": rss_before,
        "samples": samples,
    },
    open(out, "w"),
)
