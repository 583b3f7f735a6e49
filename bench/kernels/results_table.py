#!/usr/bin/env python3
"""Markdown table of qsdk_kernels_bench results (bench/kernels/README.md).

Usage: results_table.py RUN.json [RUN.json ...]

Each RUN.json is a --benchmark_out=RUN.json --benchmark_out_format=json file. With several
runs, each shape keeps its best median (GOPS_p50) over the runs and each precision its best
peak: on a machine shared with other jobs the best of a few runs is the closest to what the
kernel does undisturbed. Percentages are recomputed from those two.
"""
import json
import re
import sys

PRECISIONS = ("fp32", "bf16", "int8")


def main(paths):
    peaks = {}  # precision -> GOPS
    gops = {}  # (net, shape) -> {precision: GOPS_p50}
    order = []
    contexts = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            run = json.load(f)
        context = run["context"]
        contexts.append(context)
        for precision in PRECISIONS:
            value = context.get("peak_gops_" + precision, "")
            match = re.match(r"([0-9.]+)", value)
            if match:
                peaks[precision] = max(peaks.get(precision, 0.0), float(match.group(1)))
        for bench in run["benchmarks"]:
            if bench.get("run_type") != "iteration" or "GOPS_p50" not in bench:
                continue
            parts = bench["name"].split("/")
            if parts[0] != "conv":
                continue
            key = (parts[1], parts[2])
            if key not in gops:
                gops[key] = {}
                order.append(key)
            best = gops[key].get(parts[3], 0.0)
            gops[key][parts[3]] = max(best, bench["GOPS_p50"])

    print("| net | layer | " + " | ".join(
        f"{p} GOPS | {p} % peak" for p in PRECISIONS) + " |")
    print("|---|---|" + "---:|---:|" * len(PRECISIONS))
    peak_cells = []
    for p in PRECISIONS:
        peak_cells.append(f"{peaks[p]:.0f}" if p in peaks else "-")
        peak_cells.append("100")
    print("| peak | best matmul (512³, 1024³, 2048³) | " + " | ".join(peak_cells) + " |")
    for key in order:
        cells = []
        for p in PRECISIONS:
            value = gops[key].get(p)
            if value is None:
                cells += ["-", "-"]
                continue
            cells.append(f"{value:.0f}" if value >= 10 else f"{value:.1f}")
            cells.append(f"{100.0 * value / peaks[p]:.0f}" if peaks.get(p) else "-")
        print(f"| {key[0]} | {key[1]} | " + " | ".join(cells) + " |")
    loads = ", ".join(f"{c['load_avg'][0]:.1f}" for c in contexts if "load_avg" in c)
    print(f"\n{len(paths)} run(s); 1-minute load average at each start: {loads}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
