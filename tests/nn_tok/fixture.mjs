// fixture.mjs - makes the tokenizer folders and real texts that tests/test_nn_tok.c compares
// vericite's WordPiece tokenizer with Hugging Face's on. No BERT vocabulary is available here, so
// one is generated from the shared data: frequent words (cased and lower-cased), frequent word
// starts and "##" endings, single characters (accented, CJK, Greek, punctuation, symbols) with
// their "##" forms, and the special tokens at ids that are not BERT's usual 0/100-103. The letter
// q and the digit 7 are left out (alone and as "##q"/"##7"), so words holding them that are not
// whole vocabulary words cannot be pieced and become [UNK].
//
// usage: node fixture.mjs OUT DATA   (DATA = ../shared/data)
// writes OUT/texts.json ({claims, wice, evidence, abstracts}: arrays of strings), and for each
// variant V of variants.json: OUT/V/json/{tokenizer.json,tokenizer_config.json} and (unless the
// variant needs a setting that vocab.txt folders cannot express) OUT/V/txt/{vocab.txt,
// tokenizer_config.json}, both describing the same tokenizer.
import fs from "node:fs";
import path from "node:path";

const [out, data] = process.argv.slice(2);
if (!out || !data) {
  console.error("usage: node fixture.mjs OUT DATA");
  process.exit(2);
}

const jsonl = (p) => fs.readFileSync(p, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
// every k-th element, so the sample spreads over the file
const spread = (arr, n) => {
  const step = Math.max(1, Math.floor(arr.length / n));
  const r = [];
  for (let i = 0; i < arr.length && r.length < n; i += step) r.push(arr[i]);
  return r;
};

const claims = spread(jsonl(path.join(data, "scifact/queries_train.jsonl")).map((q) => q.text), 120);
const corpus = jsonl(path.join(data, "scifact/corpus.jsonl"));
const abstracts = spread(corpus.map((d) => d.text), 60);
const wiceRows = jsonl(path.join(data, "wice/dev.jsonl"));
const wice = spread(wiceRows.map((r) => r.claim), 60);
const evidence = spread(wiceRows.flatMap((r) => r.evidence.slice(0, 6)).filter((s) => s.length > 20), 60);

// ---- the vocabulary, from a larger sample than the compared texts
const PUNCT = /[\p{P}\u0021-\u002F\u003A-\u0040\u005B-\u0060\u007B-\u007E]/u;
const words = (text) => text.split(/\s+/u).flatMap((w) => w.split(new RegExp(`(${PUNCT.source})`, "u"))).filter((w) => w);
const count = (map, k) => map.set(k, (map.get(k) ?? 0) + 1);
const cased = new Map(), lower = new Map(), starts = new Map(), ends = new Map(), chars = new Set();
const sample = [...corpus.slice(0, 1500).map((d) => d.title + " " + d.text), ...claims, ...wice, ...evidence];
for (const text of sample) {
  for (const w of words(text)) {
    count(cased, w);
    const l = w.toLowerCase();
    count(lower, l);
  }
}
// word starts and ends, each distinct word counted once per occurrence
const add_n = (map, k, n) => map.set(k, (map.get(k) ?? 0) + n);
for (const [w, n] of cased) for (const c of w) chars.add(c);
for (const [l, n] of lower) {
  for (const c of l.normalize("NFD").replace(/\p{Mn}/gu, "")) chars.add(c);
  const cs = [...l];
  for (let k = 3; k <= 6 && k < cs.length; k++) add_n(starts, cs.slice(0, k).join(""), n);
  for (let k = 2; k <= 5 && k < cs.length; k++) add_n(ends, cs.slice(cs.length - k).join(""), n);
}
const top = (map, n, min = 2) => [...map.entries()].filter(([, c]) => c >= min).sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, n).map(([k]) => k);
const banned = (s) => /[q7]/u.test(s);
const extraChars = [..."éèêëáàâäãåçíìîïñóòôöõøúùûüýÿæœßðþ", ..."ÉÈÀÇÑÖÜÅ", ..."中文字日本語人大学", ..."αβγδεκλμπστωΔΣΩ",
  ..."!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", ..."—–‘’“”„«»…•·§¶†‡", ..."±×÷≥≤∞°€£¥©®™½²µ"];
const single = [...new Set([...chars, ...extraChars])].filter((c) => !banned(c) && !/\s/u.test(c)).sort();
const vocab = [];
const seen = new Set();
const add = (t) => {
  if (!t || seen.has(t) || banned(t) || /[\s\p{Cc}\p{Cf}]/u.test(t)) return;
  seen.add(t);
  vocab.push(t);
};
for (const c of single) add(c);
for (const c of single) add("##" + c);
for (const w of ["café", "naïve", "über", "résumé", "señor", "zürich", "Zürich", "Café", "ångström", "i̇stanbul", "istanbul"]) add(w);
for (const w of top(lower, 2500)) add(w);
for (const w of top(cased, 1200)) add(w);
for (const s of top(starts, 600, 3)) add(s);
for (const e of top(ends, 500, 3)) add("##" + e);

// special tokens at unusual ids: [PAD] 5, [UNK] 17, [CLS] 1000, [SEP] 1001, [MASK] last
const special = { "[PAD]": 5, "[UNK]": 17, "[CLS]": 1000, "[SEP]": 1001 };
const ids = [];
let v = 0;
const total = vocab.length + 5;
for (let id = 0; id < total - 1; id++) {
  const sp = Object.keys(special).find((k) => special[k] === id);
  ids.push(sp ?? vocab[v++]);
}
ids.push("[MASK]");

// ---- the variants
const variants = [
  { name: "uncased", lowercase: true, strip_accents: null, clean_text: true, chinese: true, max: 128, txt: true },
  { name: "cased", lowercase: false, strip_accents: null, clean_text: true, chinese: true, max: 512, txt: true },
  { name: "uncased_keep_accents", lowercase: true, strip_accents: false, clean_text: true, chinese: true, max: 256, txt: true },
  { name: "cased_strip_accents", lowercase: false, strip_accents: true, clean_text: true, chinese: false, max: 512, txt: true },
  // vocab.txt folders always clean text (BertTokenizer has no switch for it)
  { name: "raw", lowercase: true, strip_accents: null, clean_text: false, chinese: false, max: 512, txt: false },
];

const added = Object.entries({ ...special, "[MASK]": ids.length - 1 }).sort((a, b) => a[1] - b[1]).map(([content, id]) => ({
  id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
}));
const st = (name, type_id) => ({ SpecialToken: { id: name, type_id } });
const sq = (id, type_id) => ({ Sequence: { id, type_id } });

fs.mkdirSync(out, { recursive: true });
for (const vr of variants) {
  const config = {
    do_lower_case: vr.lowercase, strip_accents: vr.strip_accents, tokenize_chinese_chars: vr.chinese,
    model_max_length: vr.max, cls_token: "[CLS]", sep_token: "[SEP]", pad_token: "[PAD]", unk_token: "[UNK]",
    mask_token: "[MASK]", tokenizer_class: "BertTokenizer",
  };
  const tj = {
    version: "1.0", truncation: null, padding: null, added_tokens: added,
    normalizer: { type: "BertNormalizer", clean_text: vr.clean_text, handle_chinese_chars: vr.chinese, strip_accents: vr.strip_accents, lowercase: vr.lowercase },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [st("[CLS]", 0), sq("A", 0), st("[SEP]", 0)],
      pair: [st("[CLS]", 0), sq("A", 0), st("[SEP]", 0), sq("B", 1), st("[SEP]", 1)],
      special_tokens: {
        "[CLS]": { id: "[CLS]", ids: [special["[CLS]"]], tokens: ["[CLS]"] },
        "[SEP]": { id: "[SEP]", ids: [special["[SEP]"]], tokens: ["[SEP]"] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: { type: "WordPiece", unk_token: "[UNK]", continuing_subword_prefix: "##", max_input_chars_per_word: 100, vocab: Object.fromEntries(ids.map((t, i) => [t, i])) },
  };
  const jdir = path.join(out, vr.name, "json");
  fs.mkdirSync(jdir, { recursive: true });
  fs.writeFileSync(path.join(jdir, "tokenizer.json"), JSON.stringify(tj, null, 1));
  fs.writeFileSync(path.join(jdir, "tokenizer_config.json"), JSON.stringify(config, null, 1));
  if (vr.txt) {
    const tdir = path.join(out, vr.name, "txt");
    fs.mkdirSync(tdir, { recursive: true });
    fs.writeFileSync(path.join(tdir, "vocab.txt"), ids.join("\n") + "\n");
    fs.writeFileSync(path.join(tdir, "tokenizer_config.json"), JSON.stringify(config, null, 1));
  }
}
fs.writeFileSync(path.join(out, "variants.json"), JSON.stringify(variants.map((vr) => ({ name: vr.name, txt: vr.txt, max: vr.max }))));
fs.writeFileSync(path.join(out, "texts.json"), JSON.stringify({ claims, wice, evidence, abstracts }));
console.log(`fixture: ${ids.length} tokens, ${variants.length} variants, ${claims.length + wice.length + evidence.length + abstracts.length} texts`);
