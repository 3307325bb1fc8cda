#!/usr/bin/env python3
"""A flame graph (SVG) from `perf script` output, with Swift names shortened.

usage: perf script -i perf.data | flamegraph.py TITLE OUT.svg [FOLDED.txt]

Each sample's stack is folded root-first; a frame's width is its share of the samples. Symbols
are demangled by swift-demangle when it is on PATH (--simplified), else shown as perf gives them.
FOLDED.txt, when given, gets the folded stacks ("a;b;c count"), the input of other tools.
"""
import collections
import html
import re
import shutil
import subprocess
import sys

title, out = sys.argv[1], sys.argv[2]
folded_out = sys.argv[3] if len(sys.argv) > 3 else None

stacks = collections.Counter()
frames = []
for line in sys.stdin:
    line = line.rstrip("\n")
    if not line.strip():
        if frames:
            stacks[tuple(reversed(frames))] += 1
            frames = []
        continue
    if not line.startswith((" ", "\t")):
        continue  # the sample's header line
    match = re.match(r"\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)$", line)
    if match:
        symbol = re.sub(r"\+0x[0-9a-f]+$", "", match.group(1))
        dso = match.group(2).rsplit("/", 1)[-1]
        frames.append(symbol if symbol != "[unknown]" else f"[{dso}]")
if frames:
    stacks[tuple(reversed(frames))] += 1

# Demangle every distinct symbol at once.
names = sorted({frame for stack in stacks for frame in stack})
demangled = dict(zip(names, names))
tool = shutil.which("swift-demangle")
if tool:
    result = subprocess.run([tool, "--simplified"], input="\n".join(names), capture_output=True, text=True)
    lines = result.stdout.split("\n")
    if result.returncode == 0 and len(lines) >= len(names):
        demangled = dict(zip(names, lines))


def short(name):
    name = demangled.get(name, name)
    name = re.sub(r"\(.*\)", "()", name)  # parameter lists
    name = re.sub(r"<[^<>]*>", "", re.sub(r"<[^<>]*>", "", name))  # generic arguments, two levels
    return name[:160]


folded = collections.Counter()
for stack, count in stacks.items():
    folded[";".join(short(frame) for frame in stack)] += count
if folded_out:
    with open(folded_out, "w") as f:
        for stack, count in sorted(folded.items()):
            f.write(f"{stack} {count}\n")

# A tree of frames, then boxes laid out left to right, root at the bottom.
tree = {"children": {}, "count": 0}
for stack, count in folded.items():
    node = tree
    node["count"] += count
    for frame in stack.split(";"):
        node = node["children"].setdefault(frame, {"children": {}, "count": 0})
        node["count"] += count
total = tree["count"] or 1
width, row, font = 1600, 16, 11
depth = 0


def measure(node, level):
    global depth
    depth = max(depth, level)
    for child in node["children"].values():
        measure(child, level + 1)


measure(tree, 0)
height = (depth + 3) * row
boxes = []


def place(node, name, x, level):
    w = node["count"] / total * width
    if w < 1.0:
        return
    y = height - (level + 1) * row
    hue = 10 + (hash(name) % 40)
    label = html.escape(name)
    pct = 100 * node["count"] / total
    text = label if len(name) * 6.5 < w else (label[: max(0, int(w / 6.5) - 2)] + "..") if w > 30 else ""
    boxes.append(
        f'<g><title>{label} ({node["count"]} samples, {pct:.2f}%)</title>'
        f'<rect x="{x:.1f}" y="{y}" width="{max(w - 0.5, 0.1):.1f}" height="{row - 1}" fill="hsl({hue},85%,60%)"/>'
        f'<text x="{x + 3:.1f}" y="{y + row - 4}" font-size="{font}">{text}</text></g>')
    cx = x
    for child_name, child in sorted(node["children"].items()):
        place(child, child_name, cx, level + 1)
        cx += child["count"] / total * width


cx = 0.0
for name, child in sorted(tree["children"].items()):
    place(child, name, cx, 0)
    cx += child["count"] / total * width
with open(out, "w") as f:
    f.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="monospace">'
            f'<rect width="100%" height="100%" fill="#fff"/>'
            f'<text x="4" y="14" font-size="13">{html.escape(title)} ({total} samples)</text>'
            + "".join(boxes) + "</svg>\n")

# The frames that hold the most samples, whole (self and below): where to look first.
inclusive = collections.Counter()
for stack, count in folded.items():
    for frame in set(stack.split(";")):
        inclusive[frame] += count
print(f"{title}: {total} samples; frames holding the most:")
for frame, count in inclusive.most_common(40):
    print(f"{100 * count / total:6.2f}%  {frame}")
