// ONNX Runtime peer (npm onnxruntime-node, CPU), adapted from the peer rig's ort_run.mjs.
//
//   node ort_run.mjs calib MODEL.onnx CALIB_DIR RANGES.json
//       Runs MODEL (made by `qdq.py calib-model`, every activation an output) on each .npy
//       batch of CALIB_DIR (sorted by name) and writes the min/max of every float tensor.
//   node ort_run.mjs run MODEL.onnx SPEC_JSON
//       SPEC_JSON: {"phases": [PHASE...], "eval": EVAL (optional)} with
//       PHASE {"batch", "sample_shape", "warmup", "min_runs", "max_runs", "min_seconds"}
//       and EVAL {"x": X.npy, "y": Y.npy, "batch"}. Prints one JSON object: load time,
//       per-phase latency percentiles and throughput, optional top-1, peak RSS.
//   node ort_run.mjs serve MODEL.onnx
//       Creates the session, prints {"ready": true, "load_ms", ...}, then answers one JSON
//       request per stdin line with one JSON line: {"phase": PHASE}, {"eval": EVAL},
//       {"quit": true} (answered with the peak RSS, then exit). bench/run_bench.py uses it
//       to interleave rounds of several systems without reloading any of them.
//
// Threads: ORT_THREADS (default 2) intra-op threads, one inter-op thread, sequential
// execution, all graph optimizations: ONNX Runtime's fastest CPU latency setting.
// The module must be run from a directory whose node_modules holds onnxruntime-node (an
// ES module ignores NODE_PATH); bench/run_bench.py arranges that.
import ort from 'onnxruntime-node';
import fs from 'fs';
import path from 'path';
import readline from 'readline';

const threads = Number(process.env.ORT_THREADS || 2);

// Minimal .npy reader: version 1-3, C order, little-endian float32 or uint8.
function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.readUInt8(0) !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY') {
    throw new Error(`${file}: not a .npy file`);
  }
  const major = buf.readUInt8(6);
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: Fortran order`);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map(s => s.trim())
    .filter(s => s.length).map(Number);
  const off = hstart + hlen;
  const count = shape.reduce((p, q) => p * q, 1);
  const bytes = buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + buf.length);
  let data;
  if (descr === '<f4') data = new Float32Array(bytes, 0, count);
  else if (descr === '|u1' || descr === '<u1') data = new Uint8Array(bytes, 0, count);
  else throw new Error(`${file}: dtype ${descr} not supported`);
  return { shape, data };
}

// numpy's default percentile (linear interpolation) over a sorted array.
function percentile(sorted, q) {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

// Seeded uniform [-1, 1) inputs (mulberry32), like `qsdk bench`'s fixed-seed uniform input.
function uniformInput(n, seed) {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2) - 1;
  }
  return out;
}

async function createSession(model) {
  const opts = { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all',
                 executionMode: 'sequential', logSeverityLevel: 3 };
  const t = process.hrtime.bigint();
  const sess = await ort.InferenceSession.create(model, opts);
  return { sess, loadMs: Number(process.hrtime.bigint() - t) / 1e6 };
}

async function runPhase(sess, ph) {
  const inName = sess.inputNames[0];
  const shape = [ph.batch, ...ph.sample_shape];
  const n = shape.reduce((p, q) => p * q, 1);
  const x = new ort.Tensor('float32', uniformInput(n, 1234), shape);
  for (let i = 0; i < ph.warmup; i++) await sess.run({ [inName]: x });
  const ts = [];
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (ts.length < ph.max_runs && (ts.length < ph.min_runs || elapsed < ph.min_seconds)) {
    const t = process.hrtime.bigint();
    await sess.run({ [inName]: x });
    const now = process.hrtime.bigint();
    ts.push(Number(now - t) / 1e6);
    elapsed = Number(now - start) / 1e9;
  }
  const sorted = [...ts].sort((p, q) => p - q);
  const mean = ts.reduce((p, q) => p + q, 0) / ts.length;
  return {
    batch: ph.batch, warmup: ph.warmup,
    latency_ms: { p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), mean,
                  min: sorted[0], max: sorted[sorted.length - 1], count: ts.length },
    wall_seconds: elapsed,
    throughput_images_per_second: ph.batch * ts.length / elapsed,
  };
}

async function evalTop1(sess, xFile, yFile, batch) {
  const inName = sess.inputNames[0];
  const X = readNpy(xFile), Y = readNpy(yFile);
  const n = X.shape[0], per = X.data.length / n;
  let correct = 0;
  for (let i = 0; i < n; i += batch) {
    const b = Math.min(batch, n - i);
    const t = new ort.Tensor('float32', X.data.subarray(i * per, (i + b) * per), [b, ...X.shape.slice(1)]);
    const out = await sess.run({ [inName]: t });
    const logits = out[sess.outputNames[0]].data;
    const classes = logits.length / b;
    for (let j = 0; j < b; j++) {
      let best = 0;
      for (let k = 1; k < classes; k++) if (logits[j * classes + k] > logits[j * classes + best]) best = k;
      if (best === Y.data[i + j]) correct++;
    }
  }
  return { samples: n, correct, top1: correct / n };
}

const [cmd, model, a1, a2] = process.argv.slice(2);
if (cmd === 'calib') {
  const { sess } = await createSession(model);
  const inName = sess.inputNames[0];
  const files = fs.readdirSync(a1).filter(f => f.endsWith('.npy')).sort();
  const ranges = {};
  let lo = Infinity, hi = -Infinity;
  for (const f of files) {
    const { shape, data } = readNpy(path.join(a1, f));
    for (const e of data) { if (e < lo) lo = e; if (e > hi) hi = e; }
    const out = await sess.run({ [inName]: new ort.Tensor('float32', data, shape) });
    for (const [k, v] of Object.entries(out)) {
      if (v.type !== 'float32') continue;
      let l = Infinity, h = -Infinity;
      for (const e of v.data) { if (e < l) l = e; if (e > h) h = e; }
      const r = ranges[k] || [Infinity, -Infinity];
      ranges[k] = [Math.min(r[0], l), Math.max(r[1], h)];
    }
  }
  ranges[inName] = [lo, hi];
  fs.writeFileSync(a2, JSON.stringify(ranges));
  console.log(JSON.stringify({ batches: files.length, tensors: Object.keys(ranges).length }));
} else if (cmd === 'run') {
  const spec = JSON.parse(a1);
  const { sess, loadMs } = await createSession(model);
  const result = { peer: 'onnxruntime', version: ort.env.versions ? ort.env.versions.common : null,
                   model, threads, load_ms: loadMs, phases: [] };
  for (const ph of spec.phases) result.phases.push(await runPhase(sess, ph));
  if (spec.eval) result.eval = await evalTop1(sess, spec.eval.x, spec.eval.y, spec.eval.batch || 100);
  result.peak_rss_bytes = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify(result));
} else if (cmd === 'serve') {
  const { sess, loadMs } = await createSession(model);
  console.log(JSON.stringify({ ready: true, peer: 'onnxruntime',
                               version: ort.env.versions ? ort.env.versions.common : null,
                               model, threads, load_ms: loadMs }));
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let reply;
    try {
      const req = JSON.parse(line);
      if (req.phase) reply = await runPhase(sess, req.phase);
      else if (req.eval) reply = await evalTop1(sess, req.eval.x, req.eval.y, req.eval.batch || 100);
      else if (req.quit) reply = { peak_rss_bytes: process.resourceUsage().maxRSS * 1024 };
      else reply = { error: `unknown request ${line}` };
      console.log(JSON.stringify(reply));
      if (req.quit) break;
    } catch (e) {
      console.log(JSON.stringify({ error: String(e) }));
    }
  }
  process.exit(0);
} else {
  console.error(`ort_run.mjs: unknown command '${cmd}' (calib | run | serve)`);
  process.exit(2);
}
