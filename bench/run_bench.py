#!/usr/bin/python3
"""qsdk against ONNX Runtime and PyTorch on the same models, the same machine, one run.

Driven by bench/run.sh (which installs the peers and builds qsdk first); see
bench/README.md. For each model, qsdk FP32, BF16 and INT8 engines are built with the
`qsdk` tool. Then, precision by precision, ONNX Runtime and PyTorch are loaded once on the
same model (serve mode: peers/ort_run.mjs serve, peers/torch_run.py --serve) and the
measurements go in rounds, qsdk (`qsdk bench`), ONNX Runtime, PyTorch, qsdk, ..., all with
the same thread count; each system's best round counts. The results go to
OUT/results.json (raw tool output under OUT/raw/), the report to OUT/report.md and, unless
--no-docs, into docs/performance.md between its markers; a --quick run writes
results-quick.json, raw-quick/ and report-quick.md instead, so that it never overwrites
the figures of a full run.

Exit status: 0 when every qsdk step worked, 1 when a qsdk build, bench or eval failed,
2 when the models or data could not be prepared. A peer that fails is marked n/a with
its reason and does not change the exit status.
"""
import argparse
import datetime
import json
import math
import os
import select
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS_DIR = os.path.join(REPO, "bench", "peers")
PY = "/usr/bin/python3"
FMNIST_TRAIN_IDX = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
MODES = {"fp32": "force_float32", "bf16": "force_bfloat16", "int8": "qint8_mixed_float32"}
ALL_MODELS = ("resnet50", "resnet18", "mobilenet_v2", "fmnist")

# Timed runs per measurement: at least min_runs and at least min_seconds, at most max_runs;
# the same rule for qsdk (iterations computed from a short probe) and the peers (loop).
# Each batch size is measured in `rounds` rounds, interleaved across the systems (qsdk, ONNX
# Runtime, PyTorch, qsdk, ...), and each system's best round is reported (b=1: lowest p50;
# b=32: highest throughput): on a shared machine a burst of other load then hits one
# round, not one system.
SETTINGS = {
    "full": {"b1": {"rounds": 3, "warmup": 10, "min_runs": 30, "max_runs": 3000,
                    "min_seconds": 2.0},
             "b32": {"rounds": 2, "warmup": 2, "min_runs": 3, "max_runs": 300,
                     "min_seconds": 3.0},
             "profile_runs": 20},
    "quick": {"b1": {"rounds": 2, "warmup": 3, "min_runs": 10, "max_runs": 500,
                     "min_seconds": 0.5},
              "b32": {"rounds": 1, "warmup": 1, "min_runs": 2, "max_runs": 100,
                      "min_seconds": 1.0},
              "profile_runs": 10},
}
# Seconds to wait before each timed measurement, so that the threads of the system measured
# just before (which spin a little after their last run) are asleep again.
SETTLE_SECONDS = 0.3

T0 = time.time()


def log(msg):
    print(f"[{time.time() - T0:6.0f} s] {msg}", file=sys.stderr, flush=True)


class StepError(Exception):
    pass


class Runner:
    def __init__(self, out, threads):
        self.out = out
        self.logs = os.path.join(out, "logs")
        os.makedirs(self.logs, exist_ok=True)
        self.env = dict(os.environ)
        t = str(threads)
        # qsdk gets its count per context (`--threads-per-context`, Runner.qsdk_threads), the
        # peers through their own settings.
        self.qsdk_threads = ["--threads-per-context", t]
        self.env.update(ORT_THREADS=t, TORCH_THREADS=t)

    def run(self, cmd, name, timeout=1800, cwd=None):
        """Runs cmd; returns stdout. Raises StepError with the last stderr line on failure."""
        log_path = os.path.join(self.logs, name + ".log")
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, env=self.env, cwd=cwd,
                               timeout=timeout)
        except subprocess.TimeoutExpired:
            raise StepError(f"timed out after {timeout} s")
        except OSError as e:
            raise StepError(f"cannot run {cmd[0]}: {e}")
        with open(log_path, "w") as f:
            f.write("$ " + " ".join(cmd) + "\n" + p.stderr)
        if p.returncode != 0:
            lines = [ln for ln in p.stderr.splitlines() if ln.strip()
                     and "Warning" not in ln and not ln.startswith(" ")]
            last = lines[-1] if lines else "no message on stderr"
            raise StepError(f"{last} (exit {p.returncode}; log {os.path.relpath(log_path, REPO)})")
        return p.stdout

    def run_json(self, cmd, name, timeout=1800, cwd=None):
        stdout = self.run(cmd, name, timeout, cwd)
        # The peers print one JSON object on the last line; qsdk prints one document.
        try:
            return json.loads(stdout)
        except json.JSONDecodeError:
            lines = [ln for ln in stdout.splitlines() if ln.strip().startswith("{")]
            if not lines:
                raise StepError(f"no JSON in the output of {name}")
            return json.loads(lines[-1])


def save(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
    os.replace(tmp, path)


class PeerServer:
    """A peer process in serve mode (ort_run.mjs serve, torch_run.py --serve): loaded once,
    then asked for one measurement at a time over stdin/stdout, one JSON object a line."""

    def __init__(self, cmd, name, runner, cwd=None, timeout=1800):
        self.name = name
        self.log_path = os.path.join(runner.logs, name + ".log")
        self.log = open(self.log_path, "w")
        self.log.write("$ " + " ".join(cmd) + "\n")
        self.log.flush()
        try:
            self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=self.log, env=runner.env, cwd=cwd, bufsize=0)
        except OSError as e:
            self.log.close()
            raise StepError(f"cannot run {cmd[0]}: {e}")
        self.buf = b""
        self.ready = self._reply(timeout)

    def _fail(self, why):
        self.close(kill=True)
        lines = []
        try:
            with open(self.log_path) as f:
                lines = [ln.strip() for ln in f if ln.strip() and "Warning" not in ln
                         and not ln.startswith((" ", "$"))]
        except OSError:
            pass
        last = f": {lines[-1]}" if lines else ""
        raise StepError(f"{why}{last} (log {os.path.relpath(self.log_path, REPO)})")

    def _reply(self, timeout):
        deadline = time.time() + timeout
        fd = self.p.stdout.fileno()
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                if line.strip().startswith(b"{"):
                    reply = json.loads(line)
                    if "error" in reply:
                        self._fail(f"{self.name}: {reply['error']}")
                    return reply
            left = deadline - time.time()
            if left <= 0:
                self._fail(f"{self.name}: no answer within {timeout} s")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    self._fail(f"{self.name} exited (status {self.p.wait()})")
                self.buf += chunk

    def ask(self, request, timeout=1800):
        try:
            self.p.stdin.write((json.dumps(request) + "\n").encode())
            self.p.stdin.flush()
        except OSError:
            self._fail(f"{self.name} is gone")
        return self._reply(timeout)

    def close(self, kill=False):
        if self.p.poll() is None:
            if kill:
                self.p.kill()  # our own child: it hung or failed
            else:
                try:
                    self.p.stdin.close()
                except OSError:
                    pass
            try:
                self.p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        if not self.log.closed:
            self.log.close()


def best_round(rounds, batch):
    """The best round (b=1: lowest p50; else highest throughput), with every round's p50
    and throughput and the overall min latency added."""
    if batch == 1:
        best = dict(min(rounds, key=lambda r: r["latency_ms"]["p50"]))
    else:
        best = dict(max(rounds, key=lambda r: r["throughput_images_per_second"]))
    best["rounds_p50"] = [r["latency_ms"]["p50"] for r in rounds]
    best["rounds_throughput"] = [r["throughput_images_per_second"] for r in rounds]
    best["min_all_rounds"] = min(r["latency_ms"]["min"] for r in rounds)
    return best


def machine_info():
    info = {"cpu_model": "unknown", "cores": os.cpu_count(), "hardware_threads": os.cpu_count()}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        fields = dict(ln.split(":", 1) for ln in out.splitlines() if ":" in ln)
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        info["cpu_model"] = fields.get("Model name", "unknown")
        info["cores"] = int(fields.get("Core(s) per socket", 0)) * int(fields.get("Socket(s)", 0)) \
            or os.cpu_count()
    except (OSError, ValueError):
        pass
    flags = set()
    try:
        with open("/proc/cpuinfo") as f:
            for ln in f:
                if ln.startswith("flags"):
                    flags = set(ln.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    info["cpu_flags"] = {k: k in flags for k in ("avx512_vnni", "avx512_bf16", "amx_int8",
                                                 "amx_bf16")}
    return info


def git_revision():
    try:
        rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short=12", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        # diff-index only reads: it does not refresh the index the way `git status` may.
        dirty = subprocess.run(["git", "-C", REPO, "diff-index", "--quiet", "HEAD", "--"],
                               capture_output=True).returncode != 0
        return rev + (" + uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def iterations(est_ms, s):
    n = math.ceil(s["min_seconds"] * 1000.0 / max(est_ms, 1e-3))
    return max(s["min_runs"], min(s["max_runs"], n))


def model_specs(out):
    speed_note = ("torchvision architecture with seeded random weights (speed only). "
                  "Calibration for all three systems: 32 seeded random-normal images "
                  "(4 batches of 8); qsdk uses its default percentile ranges, ONNX Runtime's "
                  "QDQ model min-max ranges, PyTorch its default onednn observers.")
    specs = {}
    for key, label in (("resnet50", "ResNet-50"), ("resnet18", "ResNet-18"),
                       ("mobilenet_v2", "MobileNetV2")):
        specs[key] = {
            "label": label, "onnx": f"{out}/models/{key}.onnx", "sample_shape": [3, 224, 224],
            "qsdk_calib": ["--calib", f"{out}/calib/imagenet"],
            "calib_dir": f"{out}/calib/imagenet", "arch": f"torchvision:{key}",
            "weights": f"{out}/models/{key}.pt", "eval": False, "note": speed_note}
    specs["fmnist"] = {
        "label": "Fashion-MNIST ResNet (bundled)", "onnx": f"{REPO}/models/fmnist_resnet.onnx",
        "sample_shape": [1, 28, 28],
        "qsdk_calib": ["--calib", FMNIST_TRAIN_IDX, "--calib-batch", "50", "--calib-samples", "10"],
        "calib_dir": f"{out}/calib/fmnist",
        "arch": f"{REPO}/tools/train_fmnist.py:FmnistResNet(24)",
        "weights": f"{out}/models/fmnist_resnet.pt", "eval": True,
        "note": ("The trained model of models/README.md. Calibration for all three systems: "
                 "the first 500 training images (10 batches of 50); PyTorch runs "
                 "tools/train_fmnist.py's module with the same weights. Top-1 on the 10,000 "
                 "test images.")}
    return specs


class Bench:
    def __init__(self, args):
        self.a = args
        self.out = os.path.abspath(args.out)
        # A quick run keeps its own files, so it never overwrites a full run's figures.
        self.suffix = "-quick" if args.quick else ""
        self.raw = os.path.join(self.out, "raw" + self.suffix)
        self.results_path = os.path.join(self.out, f"results{self.suffix}.json")
        self.report_path = os.path.join(self.out, f"report{self.suffix}.md")
        self.s = SETTINGS["quick" if args.quick else "full"]
        self.r = Runner(self.out, args.threads)
        self.qsdk = os.path.abspath(args.qsdk)
        self.qsdk_failures = []
        self.info = machine_info()
        self.bf16_isa = self.info["cpu_flags"]["avx512_bf16"] or self.info["cpu_flags"]["amx_bf16"]
        self.peers_home = os.environ.get("PEERS_HOME",
                                         os.path.expanduser("~/.cache/qsdk-peers"))

    # ------------------------------------------------------------------ qsdk

    def qsdk_step(self, entry, what, cmd, name, raw_name):
        try:
            load = os.getloadavg()[0]
            res = self.r.run_json([self.qsdk] + cmd + ["--json"], name)
            res["loadavg_1min_before"] = load
            save(os.path.join(self.raw, raw_name + ".json"), res)
            return res
        except StepError as e:
            entry.setdefault("error", f"{what}: {e}")
            return None

    def qsdk_build(self, key, spec, prec, m):
        entry = m["qsdk"].setdefault(prec, {})
        engine = f"{self.out}/engines/{key}_{prec}.qsdk"
        os.makedirs(os.path.dirname(engine), exist_ok=True)
        cmd = ["build", spec["onnx"], "-o", engine, "--precision", MODES[prec], "--no-progress",
               "--report", f"{self.out}/engines/{key}_{prec}.report.json"]
        if prec == "int8":
            cmd += spec["qsdk_calib"]
        log(f"{key}: qsdk build {prec.upper()}")
        res = self.qsdk_step(entry, "build", cmd, f"{key}_qsdk_{prec}_build",
                             f"{key}/qsdk_{prec}_build")
        if res is None:
            if prec == "bf16" and not self.bf16_isa:
                entry["error"] = "this CPU has neither AVX512_BF16 nor AMX-BF16"
            else:
                self.qsdk_failures.append(f"{key} {prec}: {entry['error']}")
            return None
        entry["build"] = res
        entry["engine"] = engine
        return engine

    def qsdk_probe(self, key, prec, m):
        """Runs per b=1 round, from a 5-run probe; None when the engine is missing or fails."""
        entry = m["qsdk"].get(prec, {})
        if not entry.get("engine"):
            return None
        log(f"{key}: qsdk {prec.upper()} probe")
        probe = self.qsdk_step(entry, "bench probe",
                               ["bench", entry["engine"], "--batch", "1", "--iterations", "5",
                                "--warmup", "2"] + self.r.qsdk_threads, f"{key}_qsdk_{prec}_probe",
                               f"{key}/qsdk_{prec}_probe")
        if probe is None:
            self.qsdk_failures.append(f"{key} {prec}: {entry['error']}")
            return None
        return iterations(probe["latency_ms"]["p50"], self.s["b1"])

    def qsdk_bench(self, key, prec, m, batch, runs, rnd=None):
        entry = m["qsdk"].get(prec, {})
        warmup = self.s[f"b{batch}"]["warmup"]
        tag = f"b{batch}" + (f"_r{rnd + 1}" if rnd is not None else "")
        log(f"{key}: qsdk {prec.upper()} b={batch}"
            + (f" round {rnd + 1}" if rnd is not None else "") + f" ({runs} runs)")
        time.sleep(SETTLE_SECONDS)
        res = self.qsdk_step(entry, f"bench b={batch}",
                             ["bench", entry["engine"], "--batch", str(batch), "--iterations",
                              str(runs), "--warmup", str(warmup)] + self.r.qsdk_threads, f"{key}_qsdk_{prec}_{tag}",
                             f"{key}/qsdk_{prec}_{tag}")
        if res is None:
            self.qsdk_failures.append(f"{key} {prec}: {entry['error']}")
        return res

    def qsdk_eval(self, key, prec, m):
        entry = m["qsdk"].get(prec, {})
        if not entry.get("engine"):
            return
        log(f"{key}: qsdk eval {prec.upper()}")
        res = self.qsdk_step(entry, "eval", ["eval", entry["engine"], "--dataset", "fashion-mnist"],
                             f"{key}_qsdk_{prec}_eval", f"{key}/qsdk_{prec}_eval")
        if res is None:
            self.qsdk_failures.append(f"{key} {prec}: {entry['error']}")
        else:
            entry["eval"] = res

    def qsdk_profile(self, key, prec, m):
        """`qsdk bench --profile` at b=1: the per-node profile (shown for missed targets) and
        the fast paths of the engine's plan (shown for every engine)."""
        entry = m["qsdk"].get(prec, {})
        prof = {"top": 10}
        m.setdefault("profiles", {})[prec] = prof
        if not entry.get("engine"):
            prof["error"] = "no engine"
            return
        log(f"{key}: qsdk bench --profile {prec.upper()}")
        n = self.s["profile_runs"]
        try:
            res = self.r.run_json([self.qsdk, "bench", entry["engine"], "--batch", "1",
                                   "--iterations", str(n), "--warmup", "3", "--profile",
                                   "--json"] + self.r.qsdk_threads, f"{key}_qsdk_{prec}_profile")
            save(os.path.join(self.raw, f"{key}/qsdk_{prec}_profile.json"), res)
            prof["profile"] = res["profile"]
            prof["total_ms"] = sum(p["mean_ms"] for p in res["profile"])
            prof["fast_paths"] = res.get("fast_paths")
        except StepError as e:
            prof["error"] = str(e)

    # ------------------------------------------------------------------ peers

    def phase(self, spec, batch):
        d = dict(self.s[f"b{batch}"], batch=batch,
                 sample_shape=spec["sample_shape"])
        d.pop("rounds", None)
        return d

    def ort_dir(self):
        """A directory with ort_run.mjs and node_modules (ES modules ignore NODE_PATH)."""
        d = os.path.join(self.out, "ort_rt")
        os.makedirs(d, exist_ok=True)
        shutil.copy(os.path.join(PEERS_DIR, "ort_run.mjs"), d)
        link = os.path.join(d, "node_modules")
        if os.path.islink(link) or os.path.exists(link):
            os.remove(link)
        os.symlink(os.path.join(self.peers_home, "node_modules"), link)
        return d

    def start_ort(self, key, spec, prec, m):
        """ONNX Runtime in serve mode on the FP32 model or its INT8 QDQ model; None if n/a."""
        name = f"ort_{prec}"
        if self.a.no_peers:
            m["peers"][name] = {"error": "--no-peers"}
            return None
        if shutil.which("node") is None or not os.path.isdir(
                os.path.join(self.peers_home, "node_modules", "onnxruntime-node")):
            m["peers"][name] = {"error": f"onnxruntime-node not installed in {self.peers_home} "
                                         "(bench/peers/setup.sh)"}
            return None
        try:
            d = self.ort_dir()
            model = spec["onnx"]
            info = {}
            if prec == "int8":
                log(f"{key}: ONNX Runtime INT8 QDQ model (calibration)")
                t = time.time()
                work = os.path.join(self.out, "ort")
                os.makedirs(work, exist_ok=True)
                calib_model = f"{work}/{key}_calib.onnx"
                ranges = f"{work}/{key}_ranges.json"
                model = f"{work}/{key}_qdq.onnx"
                self.r.run([PY, f"{PEERS_DIR}/qdq.py", "calib-model", spec["onnx"], calib_model],
                           f"{key}_ort_calib_model")
                self.r.run(["node", "ort_run.mjs", "calib", calib_model, spec["calib_dir"],
                            ranges], f"{key}_ort_calib", cwd=d)
                os.remove(calib_model)  # every activation an output: as large as the model
                self.r.run([PY, f"{PEERS_DIR}/qdq.py", "quantize", spec["onnx"], ranges, model],
                           f"{key}_ort_quantize")
                info["qdq_seconds"] = time.time() - t
            log(f"{key}: ONNX Runtime {prec.upper()} session")
            srv = PeerServer(["node", "ort_run.mjs", "serve", model], f"{key}_ort_{prec}",
                             self.r, cwd=d)
            info.update(srv.ready, file_size=os.path.getsize(model))
            info.pop("ready", None)
            m["peers"][name] = info
            return srv
        except StepError as e:
            log(f"{key}: ONNX Runtime {prec.upper()} failed: {e}")
            m["peers"][name] = {"error": str(e)}
            return None

    def start_torch(self, key, spec, prec, m):
        """PyTorch in serve mode (FP32, or FX INT8 quantized once); None if n/a."""
        name = f"torch_{prec}"
        if self.a.no_peers:
            m["peers"][name] = {"error": "--no-peers"}
            return None
        log(f"{key}: PyTorch {prec.upper()} model" + (" (quantizing)" if prec == "int8" else ""))
        cmd = [PY, f"{PEERS_DIR}/torch_run.py", "--arch", spec["arch"], "--weights",
               spec["weights"], "--precision", prec, "--serve"]
        if prec == "int8":
            cmd += ["--calib", spec["calib_dir"]]
        try:
            srv = PeerServer(cmd, f"{key}_torch_{prec}", self.r)
            info = dict(srv.ready)
            info.pop("ready", None)
            m["peers"][name] = info
            return srv
        except StepError as e:
            log(f"{key}: PyTorch {prec.upper()} failed: {e}")
            m["peers"][name] = {"error": str(e)}
            return None

    def peer_ask(self, key, m, servers, name, request, what):
        """One request to a peer server; on failure the peer becomes n/a and is dropped."""
        srv = servers.get(name)
        if srv is None:
            return None
        log(f"{key}: {srv.name} {what}")
        if "phase" in request:
            time.sleep(SETTLE_SECONDS)
        load = os.getloadavg()[0]
        try:
            reply = srv.ask(request)
            reply["loadavg_1min_before"] = load
            return reply
        except StepError as e:
            log(f"{key}: {srv.name} failed: {e}")
            m["peers"][name] = {"error": str(e)}
            del servers[name]
            return None

    def prepare(self, keys):
        log("export models and data (skipped when cached)")
        try:
            self.r.run([PY, os.path.join(REPO, "bench", "export_models.py"), "--out", self.out,
                        "--models", ",".join(keys)], "export_models", timeout=3600)
        except StepError as e:
            print(f"run_bench: cannot prepare the models and data: {e}\n"
                  "  (they need python3-torch, python3-torchvision, python3-onnx and "
                  "dataset-fashion-mnist: bench/peers/setup.sh installs them)", file=sys.stderr)
            sys.exit(2)

    def run_model(self, key, spec):
        m = {"label": spec["label"], "onnx": spec["onnx"],
             "onnx_display": os.path.relpath(spec["onnx"], REPO),
             "onnx_size": os.path.getsize(spec["onnx"]), "sample_shape": spec["sample_shape"],
             "note": spec["note"], "qsdk": {}, "peers": {}, "loadavg": os.getloadavg()[0]}
        shutil.rmtree(os.path.join(self.raw, key), ignore_errors=True)  # no stale rounds
        for prec in ("fp32", "bf16", "int8"):
            self.qsdk_build(key, spec, prec, m)
        # Per precision: the peers are loaded once (serve mode), then the b=1 rounds go
        # qsdk, ONNX Runtime, PyTorch, qsdk, ... so that the systems compared share the
        # machine's state; then b=32 and (Fashion-MNIST) top-1. BF16 has no peer.
        for prec in ("fp32", "int8", "bf16"):
            servers = {}
            if prec != "bf16":
                for name, start in ((f"ort_{prec}", self.start_ort),
                                    (f"torch_{prec}", self.start_torch)):
                    srv = start(key, spec, prec, m)
                    if srv is not None:
                        servers[name] = srv
            try:
                self.measure(key, spec, prec, m, servers)
            finally:
                for name, srv in servers.items():
                    try:
                        m["peers"][name]["peak_rss_bytes"] = \
                            srv.ask({"quit": True}, timeout=60)["peak_rss_bytes"]
                    except StepError as e:
                        log(f"{key}: {srv.name}: no peak RSS: {e}")
                    srv.close()
                    save(os.path.join(self.raw, f"{key}/{name}.json"), m["peers"][name])
        if spec["eval"]:
            for prec in ("fp32", "bf16", "int8"):
                self.qsdk_eval(key, prec, m)
        return m

    def measure(self, key, spec, prec, m, servers):
        entry = m["qsdk"].get(prec, {})
        runs = {1: self.qsdk_probe(key, prec, m)}
        best = {name: [] for name in servers}
        for batch in (1, 32):
            st = self.s[f"b{batch}"]
            if batch == 32 and entry.get("bench1"):
                # Batch 32 costs about 32 single images at most (batching only helps).
                runs[32] = iterations(32 * entry["bench1"]["latency_ms"]["p50"], st)
            q_rounds, p_rounds = [], {name: [] for name in servers}
            for rnd in range(st["rounds"]):
                if runs.get(batch) is not None:
                    res = self.qsdk_bench(key, prec, m, batch, runs[batch], rnd)
                    if res is None:
                        runs[batch] = None
                    else:
                        q_rounds.append(res)
                for name in list(servers):
                    r = self.peer_ask(key, m, servers, name, {"phase": self.phase(spec, batch)},
                                      f"b={batch} round {rnd + 1}")
                    if r is not None:
                        p_rounds[name].append(r)
            if q_rounds and runs.get(batch) is not None:
                entry[f"bench{batch}"] = best_round(q_rounds, batch)
            for name in servers:
                if p_rounds[name]:
                    best[name].append(best_round(p_rounds[name], batch))
        for name in list(servers):
            m["peers"][name]["phases"] = best[name]
            if spec["eval"]:
                ev = self.peer_ask(key, m, servers, name, {"eval": {
                    "x": f"{self.out}/data/fmnist_test_x.npy",
                    "y": f"{self.out}/data/fmnist_test_y.npy", "batch": 100}}, "top-1")
                if ev is not None:
                    m["peers"][name]["eval"] = ev

    def main(self):
        keys = [k for k in self.a.models.split(",") if k]
        bad = [k for k in keys if k not in ALL_MODELS]
        if bad:
            print(f"run_bench: --models: unknown {bad}; known: {', '.join(ALL_MODELS)}",
                  file=sys.stderr)
            return 2
        if not os.access(self.qsdk, os.X_OK):
            print(f"run_bench: qsdk tool '{self.qsdk}' not found (build it: scripts/build.sh, "
                  "or pass --qsdk PATH)", file=sys.stderr)
            return 1
        mode = "quick" if self.a.quick else "full"
        try:
            version = self.r.run([self.qsdk, "--version"], "qsdk_version").strip().split()[-1]
        except (StepError, IndexError) as e:
            print(f"run_bench: '{self.qsdk} --version' failed: {e}", file=sys.stderr)
            return 1
        meta = dict(self.info)
        meta.update(
            date=datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            git_revision=git_revision(), mode=mode, threads=self.a.threads, nice=self.a.nice,
            omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"),
            qsdk_version=version, qsdk_tool=os.path.relpath(self.qsdk, REPO),
            loadavg_start=os.getloadavg()[0], settings=self.s,
            raw_dir=os.path.relpath(self.raw, REPO) + "/")
        log(f"qsdk benchmark, {mode} mode, {self.a.threads} threads, models {', '.join(keys)}; "
            f"load average {meta['loadavg_start']:.2f}")
        self.prepare(keys)
        results = {"meta": meta, "models": {}}
        specs = model_specs(self.out)
        for key in keys:
            results["models"][key] = self.run_model(key, specs[key])
            save(self.results_path, results)
        targets = report.compute_targets(results)
        # Every engine is profiled once: its fast paths go into the report, its slowest
        # nodes too where a latency target was missed.
        for key in keys:
            for prec in results["models"][key]["qsdk"]:
                self.qsdk_profile(key, prec, results["models"][key])
        save(self.results_path, results)
        results["targets"] = targets
        for p in ("ort_fp32", "torch_fp32"):
            v = next((m["peers"][p].get("version") for m in results["models"].values()
                      if m["peers"].get(p, {}).get("version")), None)
            meta["ort_version" if p.startswith("ort") else "torch_version"] = v
        loads = [m["loadavg"] for m in results["models"].values()]
        for m in results["models"].values():  # every measurement's stamp
            for e in m["qsdk"].values():
                loads += [e[b].get("loadavg_1min_before", 0) for b in ("bench1", "bench32")
                          if e.get(b)]
            for r in m["peers"].values():
                loads += [ph.get("loadavg_1min_before", 0) for ph in r.get("phases", [])]
        meta["loadavg_end"] = os.getloadavg()[0]
        peak = max(loads + [meta["loadavg_start"], meta["loadavg_end"]])
        meta["load_note"] = (
            "the machine was quiet." if peak < 0.5 else
            f"other jobs shared the machine (highest sample {peak:.2f} on "
            f"{meta['hardware_threads']} hardware threads), so absolute times are noisy; "
            "the same-run ratios are the figures to read.")
        meta["total_seconds"] = time.time() - T0
        save(self.results_path, results)
        body = report.render(results)
        with open(self.report_path, "w") as f:
            f.write(body)
        # By default only a full run of every model replaces the page's results.
        docs = self.a.docs if self.a.docs is not None else (
            not self.a.quick and set(keys) == set(ALL_MODELS))
        if docs:
            report.write_docs(os.path.join(REPO, "docs", "performance.md"), body)
        sys.stdout.write(body)
        log(f"done in {meta['total_seconds'] / 60:.1f} min; results "
            f"{os.path.relpath(self.results_path, REPO)}, report "
            f"{os.path.relpath(self.report_path, REPO)}"
            + ("; docs/performance.md updated" if docs else ""))
        if self.qsdk_failures:
            print("run_bench: qsdk failed:\n  " + "\n  ".join(self.qsdk_failures),
                  file=sys.stderr)
            return 1
        return 0


def main():
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", default=env("BENCH_QUICK", "") == "1",
                   help="short rounds (for development); own result files; does not touch "
                        "docs/performance.md unless --docs (env BENCH_QUICK=1)")
    p.add_argument("--models", default=env("BENCH_MODELS", ",".join(ALL_MODELS)),
                   help=f"comma-separated subset of {','.join(ALL_MODELS)} (env BENCH_MODELS)")
    p.add_argument("--threads", type=int, default=int(env("BENCH_THREADS", "2")),
                   help="threads for every system (env BENCH_THREADS; default 2)")
    p.add_argument("--out", default=env("BENCH_OUT", os.path.join(REPO, "build", "bench")),
                   help="cache and results directory (env BENCH_OUT; default build/bench)")
    p.add_argument("--qsdk", default=env("QSDK", os.path.join(REPO, "build", "tools", "qsdk")),
                   help="the qsdk tool (env QSDK; default build/tools/qsdk)")
    p.add_argument("--no-peers", action="store_true", help="qsdk only; peers marked n/a")
    p.add_argument("--nice", type=int, default=int(env("BENCH_NICE", "0")),
                   help="add N to the niceness of the benchmark and every process it starts "
                        "(negative needs root: priority over other jobs; env BENCH_NICE)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--docs", dest="docs", action="store_true", default=None,
                   help="write the report into docs/performance.md (default: in full mode "
                        "with every model)")
    g.add_argument("--no-docs", dest="docs", action="store_false")
    a = p.parse_args()
    if a.threads < 1:
        p.error("--threads must be >= 1")
    if a.nice:
        try:
            os.nice(a.nice)  # inherited by every process the benchmark starts
        except OSError as e:
            p.error(f"--nice {a.nice}: {e}")
    return Bench(a).main()


if __name__ == "__main__":
    sys.exit(main())
