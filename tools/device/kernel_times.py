"""Sums an ncu --csv --page raw report of a decode run by kernel, for its last complete step.

A step starts at an embedding_bf16 launch; the last one in the report is the last decode step,
ended by the report's end (its sampling kernels). Prints, for that step and the one before it,
each (kernel, grid) with its launch count and total microseconds, then the step's sum."""
import csv
import sys
from collections import OrderedDict


def rows(path):
    with open(path, newline="") as f:
        lines = [l for l in f if l.startswith('"')]
    reader = csv.reader(lines)
    header = next(reader)
    name_i = header.index("Kernel Name")
    grid_i = header.index("Grid Size") if "Grid Size" in header else None
    time_i = header.index("gpu__time_duration.sum")
    out = []
    for r in reader:
        try:
            t = float(r[time_i].replace(",", ""))
        except ValueError:
            continue  # the units row
        out.append((r[name_i], r[grid_i] if grid_i is not None else "", t))
    return out


def summarize(step, title):
    groups = OrderedDict()
    for name, grid, t in step:
        key = (name[:60], grid)
        c, s = groups.get(key, (0, 0.0))
        groups[key] = (c + 1, s + t)
    total = sum(t for _, _, t in step)
    print(f"== {title}: {len(step)} kernels, sum {total / 1000:.1f} us")
    for (name, grid), (c, s) in sorted(groups.items(), key=lambda kv: -kv[1][1]):
        print(f"{s / 1000:9.1f} us  {c:4d} x {s / c / 1000:7.2f} us  {name} {grid}")


def main():
    data = rows(sys.argv[1])
    # --print-units base: nanoseconds.
    starts = [i for i, (n, _, _) in enumerate(data) if n.startswith("embedding_bf16")]
    if len(starts) < 2:
        print(f"fewer than two embedding launches in {len(data)} kernels")
        return
    summarize(data[starts[-1]:], "last decode step")
    summarize(data[starts[-2]:starts[-1]], "the step before")


main()
