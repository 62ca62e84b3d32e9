// ref.mjs - the reference that tests/test_nn_tok.c compares with: Hugging Face's tokenizer
// (npm @huggingface/tokenizers, the tokenizer of transformers.js) on a tokenizer.json folder.
//
// usage: node ref.mjs MODULE DIR CASES
//   MODULE  path of the installed @huggingface/tokenizers package folder
//   DIR     a folder with tokenizer.json and tokenizer_config.json
//   CASES   JSON Lines: {"a": text, "b": text or null, "max_len": N}
// prints one line per case: {"ids": [...], "types": [...]}.
//
// The package does no truncation (transformers.js cuts the finished sequence, [SEP] included, which
// is not what the Python and Rust libraries do), so when [CLS] a [SEP] (b [SEP]) is longer than
// max_len this runner encodes a and b without special tokens through the package and applies the
// rule of the Rust library (tokenizers' truncate_encodings, strategy LongestFirst) itself: a single
// text keeps max_len-2 tokens; for a pair with L = max_len-3 and n1 <= n2, the shorter is kept and
// the longer cut to L-n1 when L-n1 >= n1, else the shorter gets floor(L/2) and the longer the rest
// (a tie counts a as the shorter). Untruncated results come from the package's own post-processor,
// and the runner checks that its assembly agrees with it.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [mod, dir, cases] = process.argv.slice(2);
const pkg = JSON.parse(fs.readFileSync(path.join(mod, "package.json"), "utf8"));
const { Tokenizer } = await import(pathToFileURL(path.join(mod, pkg.exports?.["."]?.import?.default ?? pkg.module ?? "dist/tokenizers.mjs")).href);

const tj = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8"));
const cfg = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8"));
const tok = new Tokenizer(tj, cfg);
const sp = tj.post_processor.special_tokens;
const cls = sp["[CLS]"].ids[0], sep = sp["[SEP]"].ids[0];

const assemble = (a, b) => {
  const ids = [cls, ...a, sep], types = ids.map(() => 0);
  if (b) {
    ids.push(...b, sep);
    types.push(...b.map(() => 1), 1);
  }
  return { ids, types };
};

const truncatePair = (na, nb, L) => {
  if (na + nb <= L) return [na, nb];
  const swap = na > nb;
  let n1 = swap ? nb : na, n2 = swap ? na : nb;
  n2 = n1 > L ? n1 : Math.max(n1, L - n1);
  if (n1 + n2 > L) {
    n1 = Math.floor(L / 2);
    n2 = n1 + (L % 2);
  }
  const [ka, kb] = swap ? [n2, n1] : [n1, n2];
  return [Math.min(na, ka), Math.min(nb, kb)];
};

// texts recur across cases (alone, in pairs, at several lengths): each is encoded once
const fulls = new Map(), alones = new Map();
const alone = (text) => {
  if (!alones.has(text)) alones.set(text, tok.encode(text, { add_special_tokens: false }).ids);
  return alones.get(text);
};
const lines = fs.readFileSync(cases, "utf8").split("\n").filter((l) => l);
const out = [];
for (const line of lines) {
  const c = JSON.parse(line);
  const pair = c.b !== null && c.b !== undefined;
  const key = JSON.stringify([c.a, pair ? c.b : null]);
  const full = fulls.get(key) ?? tok.encode(c.a, { text_pair: pair ? c.b : null, return_token_type_ids: true });
  fulls.set(key, full);
  const a = alone(c.a), b = pair ? alone(c.b) : null;
  const whole = assemble(a, b);
  const types = full.token_type_ids ?? full.ids.map(() => 0);
  // the package takes an empty second text for none (a JavaScript falsy test); HF's Python and
  // Rust libraries encode it as a pair with an empty b: [CLS] a [SEP] [SEP]
  const emptyB = pair && c.b === "";
  if (!emptyB && (JSON.stringify(whole.ids) !== JSON.stringify(full.ids) || JSON.stringify(whole.types) !== JSON.stringify(types)))
    throw new Error(`assembly differs from the package's post-processor on ${line}`);
  let r = emptyB ? whole : { ids: full.ids, types };
  if (r.ids.length > c.max_len) {
    if (pair) {
      const [na, nb] = truncatePair(a.length, b.length, c.max_len - 3);
      r = assemble(a.slice(0, na), b.slice(0, nb));
    } else {
      r = assemble(a.slice(0, c.max_len - 2), null);
    }
  }
  out.push(JSON.stringify(r));
}
process.stdout.write(out.join("\n") + (out.length ? "\n" : ""));
