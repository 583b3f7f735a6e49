#!/usr/bin/python3
"""PyTorch peer (Debian python3-torch), adapted from the peer rig's torch_quant.py.

  torch_run.py --arch ARCH --weights W.pt --precision fp32|int8 [--calib DIR]
               (--spec SPEC_JSON | --serve)

ARCH is `torchvision:NAME` (e.g. torchvision:resnet50) or `FILE.py:CLASS(INT,...)` (e.g.
tools/train_fmnist.py:FmnistResNet(24)). W.pt is a state_dict. INT8 is FX graph-mode static
quantization with the oneDNN engine and its default qconfig (`get_default_qconfig_mapping
("onednn")`), calibrated on every .npy batch of DIR (sorted by name): the path PyTorch
documents for x86 INT8 inference. The model runs in eager mode (`torch.no_grad`), as
torchvision ships it.

SPEC_JSON is the same as ort_run.mjs's: {"phases": [{"batch", "sample_shape", "warmup",
"min_runs", "max_runs", "min_seconds"}...], "eval": {"x", "y", "batch"} (optional)}; one
JSON object is printed. With --serve, as `ort_run.mjs serve`: after loading (and
quantizing) it prints {"ready": true, ...}, then answers one JSON request per stdin line,
{"phase": ...}, {"eval": ...} or {"quit": true}, with one JSON line each.
Threads: TORCH_THREADS (default 2), `torch.set_num_threads`.
"""
import argparse
import importlib.util
import json
import os
import re
import resource
import sys
import time

import numpy as np
import torch


def load_model(arch, weights):
    src, cls = arch.split(":", 1)
    if src == "torchvision":
        import torchvision
        model = getattr(torchvision.models, cls)()
    else:
        m = re.fullmatch(r"(\w+)(?:\(([\d, ]*)\))?", cls)
        if not m:
            raise ValueError(f"--arch {arch}: expected FILE.py:CLASS or FILE.py:CLASS(INT,...)")
        args = [int(v) for v in (m.group(2) or "").split(",") if v.strip()]
        sys.path.insert(0, os.path.dirname(os.path.abspath(src)))
        spec = importlib.util.spec_from_file_location("peer_model", src)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        model = getattr(mod, m.group(1))(*args)
    if weights:
        model.load_state_dict(torch.load(weights))
    return model.eval()


def calib_batches(directory):
    files = sorted(f for f in os.listdir(directory) if f.endswith(".npy"))
    if not files:
        raise ValueError(f"--calib {directory}: no .npy files")
    return [torch.from_numpy(np.load(os.path.join(directory, f))) for f in files]


def quantize(model, batches):
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
    torch.backends.quantized.engine = "onednn"
    qm = prepare_fx(model, get_default_qconfig_mapping("onednn"), (batches[0],))
    with torch.no_grad():
        for x in batches:
            qm(x)
    return convert_fx(qm)


def percentile(sorted_ts, q):
    """numpy's default percentile (linear interpolation), as `qsdk bench` reports."""
    pos = q * (len(sorted_ts) - 1)
    lo, hi = int(np.floor(pos)), int(np.ceil(pos))
    return sorted_ts[lo] + (sorted_ts[hi] - sorted_ts[lo]) * (pos - lo)


def run_phase(model, ph):
    gen = np.random.default_rng(1234)
    shape = [ph["batch"]] + list(ph["sample_shape"])
    x = torch.from_numpy(gen.uniform(-1, 1, shape).astype(np.float32))
    ts = []
    with torch.no_grad():
        for _ in range(ph["warmup"]):
            model(x)
        start = time.perf_counter()
        elapsed = 0.0
        while len(ts) < ph["max_runs"] and (len(ts) < ph["min_runs"]
                                            or elapsed < ph["min_seconds"]):
            t = time.perf_counter()
            model(x)
            now = time.perf_counter()
            ts.append((now - t) * 1e3)
            elapsed = now - start
    s = sorted(ts)
    return {"batch": ph["batch"], "warmup": ph["warmup"],
            "latency_ms": {"p50": percentile(s, 0.5), "p90": percentile(s, 0.9),
                           "mean": sum(ts) / len(ts), "min": s[0], "max": s[-1],
                           "count": len(ts)},
            "wall_seconds": elapsed,
            "throughput_images_per_second": ph["batch"] * len(ts) / elapsed}


def evaluate(model, xfile, yfile, batch):
    x, y = np.load(xfile), np.load(yfile)
    correct = 0
    with torch.no_grad():
        for i in range(0, len(y), batch):
            pred = model(torch.from_numpy(x[i:i + batch])).argmax(1).numpy()
            correct += int((pred == y[i:i + batch]).sum())
    return {"samples": int(len(y)), "correct": correct, "top1": correct / len(y)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--arch", required=True)
    p.add_argument("--weights", default="")
    p.add_argument("--precision", choices=["fp32", "int8"], required=True)
    p.add_argument("--calib", help="directory of .npy calibration batches (int8)")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--spec")
    g.add_argument("--serve", action="store_true")
    a = p.parse_args()
    threads = int(os.environ.get("TORCH_THREADS", "2"))
    torch.set_num_threads(threads)
    torch.manual_seed(0)

    t = time.perf_counter()
    model = load_model(a.arch, a.weights)
    result = {"peer": "pytorch", "version": torch.__version__, "model": a.arch,
              "precision": a.precision, "threads": threads,
              "load_ms": (time.perf_counter() - t) * 1e3}
    if a.precision == "int8":
        if not a.calib:
            p.error("--precision int8 needs --calib")
        t = time.perf_counter()
        model = quantize(model, calib_batches(a.calib))
        result["quantize_seconds"] = time.perf_counter() - t
    if a.serve:
        serve(model, result)
        return
    spec = json.loads(a.spec)
    result["phases"] = [run_phase(model, ph) for ph in spec["phases"]]
    if spec.get("eval"):
        e = spec["eval"]
        result["eval"] = evaluate(model, e["x"], e["y"], e.get("batch", 100))
    result["peak_rss_bytes"] = peak_rss()
    print(json.dumps(result))


def peak_rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def serve(model, ready):
    print(json.dumps(dict(ready, ready=True)), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            if "phase" in req:
                reply = run_phase(model, req["phase"])
            elif "eval" in req:
                e = req["eval"]
                reply = evaluate(model, e["x"], e["y"], e.get("batch", 100))
            elif req.get("quit"):
                reply = {"peak_rss_bytes": peak_rss()}
            else:
                reply = {"error": f"unknown request {line.strip()}"}
        except Exception as e:  # report any failure as the reply; the driver marks n/a
            reply = {"error": f"{type(e).__name__}: {e}"}
            req = {}
        print(json.dumps(reply), flush=True)
        if req.get("quit"):
            break


if __name__ == "__main__":
    main()
