// nn_ort.js - the onnxruntime side of tests/bench/nn_bench.sh: runs an ONNX export of the same
// model (tests/nn/hfmodel.py onnx) on the same token ids as vericite, in batches padded to their
// longest input, and prints one JSON line of timings. Forward passes only (ids are given).
//   node nn_ort.js ORT_MODULE_DIR MODEL.onnx IDS.jsonl BATCH THREADS [OUT.jsonl]
'use strict';
const fs = require('fs');
const path = require('path');
const [modDir, onnxPath, idsPath, batchArg, threadsArg, outPath] = process.argv.slice(2);
const ort = require(path.join(modDir, 'node_modules', 'onnxruntime-node'));

async function main() {
  const batch = parseInt(batchArg, 10), threads = parseInt(threadsArg, 10);
  const rows = fs.readFileSync(idsPath, 'utf8').split('\n').filter((l) => l.trim()).map((l) => {
    const o = JSON.parse(l);
    return Array.isArray(o) ? { ids: o, types: null } : { ids: o.ids, types: o.types || null };
  });
  const sess = await ort.InferenceSession.create(onnxPath, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const feeds = (chunk) => {
    const L = Math.max(...chunk.map((r) => r.ids.length)), B = chunk.length;
    const ids = new BigInt64Array(B * L), types = new BigInt64Array(B * L), mask = new BigInt64Array(B * L);
    chunk.forEach((r, b) => r.ids.forEach((v, t) => {
      ids[b * L + t] = BigInt(v);
      types[b * L + t] = BigInt(r.types ? r.types[t] : 0);
      mask[b * L + t] = 1n;
    }));
    return {
      input_ids: new ort.Tensor('int64', ids, [B, L]),
      token_type_ids: new ort.Tensor('int64', types, [B, L]),
      attention_mask: new ort.Tensor('int64', mask, [B, L]),
    };
  };
  await sess.run(feeds(rows.slice(0, Math.min(batch, rows.length)))); // warm-up
  const lat = [], outs = [];
  let total = 0, tokens = 0, padded = 0;
  for (let i = 0; i < rows.length; i += batch) {
    const chunk = rows.slice(i, i + batch), f = feeds(chunk);
    const t0 = process.hrtime.bigint();
    const r = await sess.run(f);
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    lat.push(dt);
    total += dt;
    tokens += chunk.reduce((s, x) => s + x.ids.length, 0);
    padded += chunk.length * f.input_ids.dims[1];
    if (outPath) {
      const o = r.out, d = o.dims[1];
      for (let b = 0; b < chunk.length; b++) outs.push(JSON.stringify({ out: Array.from(o.data.slice(b * d, (b + 1) * d)) }));
    }
  }
  if (outPath) fs.writeFileSync(outPath, outs.join('\n') + '\n');
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.round((lat.length - 1) * p))];
  console.log(JSON.stringify({
    inputs: rows.length, tokens, padded_tokens: padded, seconds: total, inputs_per_s: rows.length / total,
    p50_ms: q(0.5) * 1e3, p99_ms: q(0.99) * 1e3, ort: ort.env.versions.node,
  }));
}
main().catch((e) => { console.error('nn_ort: ' + e.message); process.exit(1); });
