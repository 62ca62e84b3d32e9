#!/usr/bin/python3
"""hfmodel.py - tiny random BERT models in the Hugging Face layout, and their outputs computed by
PyTorch's own modules (the independent reference for vericite's forward pass).

  hfmodel.py gen OUT [options]        write a model folder: config.json, model.safetensors (our own
                                      writer: 8-byte little-endian header length, JSON header, raw
                                      little-endian bytes), vocab.txt, tokenizer_config.json and,
                                      for encoders, sentence-transformers' modules.json,
                                      1_Pooling/config.json, 2_Normalize, sentence_bert_config.json
  hfmodel.py ids DIR OUT --sentences F [--pairs] [--extra]
                                      token ids (JSON lines {"ids": [...], "types": [...]}) of real
                                      sentences (a plain greedy WordPiece over the folder's
                                      vocab.txt: the forward pass only needs realistic ids), plus
                                      padding-heavy extremes with --extra
  hfmodel.py ref DIR IDS OUT [--batch 16]
                                      the reference outputs, one JSON line {"out": [...]} per input,
                                      run in padded batches of --batch with key padding masks
  hfmodel.py case DIR [gen options] --sentences F [--pairs] [--extra]
                                      gen, ids and ref in one process (DIR's parent gets
                                      ids.jsonl and ref.jsonl)
  hfmodel.py cases ROOT --sentences F... --case NAME "OPTIONS" ...
                                      several cases in one process: ROOT/NAME/{hf,ids.jsonl,
                                      ref.jsonl}, the sentences also giving the vocabulary
  hfmodel.py onnx DIR OUT.onnx        export the same reference graph to ONNX (benchmarks)

The reference reads the folder back (its own safetensors reader), builds torch.nn.Embedding,
torch.nn.LayerNorm, torch.nn.TransformerEncoderLayer(norm_first=False, activation gelu/relu,
batch_first=True, dropout=0: BERT's post-LN layer) and torch.nn.Linear modules from the tensors,
and pools as sentence-transformers does. Nothing in it is a port of vericite's C.
"""
import argparse
import json
import math
import os
import re
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


# ---------------------------------------------------------------- safetensors

def st_write(path, tensors, dtype):
    """tensors: list of (name, float32 torch tensor or (int64 tensor, 'I64'))."""
    header, blobs, off = {}, [], 0
    for name, t in tensors:
        if isinstance(t, tuple):
            arr, dt = t[0].numpy().astype("<i8"), t[1]
            raw = arr.tobytes()
        elif dtype == "F32":
            dt, raw = "F32", t.numpy().astype("<f4").tobytes()
        elif dtype == "F16":
            dt, raw = "F16", t.half().numpy().astype("<f2").tobytes()
        else:
            dt, raw = "BF16", t.bfloat16().view(torch.int16).numpy().astype("<i2").tobytes()
        shape = list(t[0].shape) if isinstance(t, tuple) else list(t.shape)
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def st_read(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, en = e["data_offsets"]
        raw = data[base + b:base + en]
        dt = e["dtype"]
        if dt == "F32":
            arr = np.frombuffer(raw, dtype="<f4").astype(np.float32)
        elif dt == "F16":
            arr = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        elif dt == "BF16":
            arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            continue
        out[name] = torch.from_numpy(arr.reshape(e["shape"]).copy())
    return out


# ---------------------------------------------------------------- vocabulary

WORD_RE = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def words_of(text):
    return WORD_RE.findall(text.lower())


def build_vocab(sentence_files, size):
    chars = [chr(c) for c in range(33, 127) if not chr(c).isupper()]
    vocab = SPECIAL + chars + ["##" + c for c in chars if c.isalnum()]
    counts = {}
    for path in sentence_files:
        for text in read_sentences(path):
            for w in words_of(text):
                if len(w) > 1 and w.isascii():
                    counts[w] = counts.get(w, 0) + 1
    seen = set(vocab)
    for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if len(vocab) >= size:
            break
        for piece in (w, "##" + w):  # words and the same as continuations
            if piece not in seen and len(vocab) < size:
                seen.add(piece)
                vocab.append(piece)
    i = 0
    while len(vocab) < size:  # fill to the requested size
        piece = "[unused%d]" % i
        i += 1
        if piece not in seen:
            vocab.append(piece)
    return vocab


def read_sentences(path):
    """SciFact queries ("text"), WiCE ("claim"), corpus ("title" + "text"), or plain lines."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            if line.startswith("{"):
                o = json.loads(line)
                if "claim" in o:
                    out.append(o["claim"])
                elif "title" in o and "text" in o:
                    out.append((o["title"] + " " + o["text"]).strip())
                elif "text" in o:
                    out.append(o["text"])
            else:
                out.append(line)
    return out


def wordpiece(vocab_index, text, unk):
    ids = []
    for w in words_of(text):
        start, pieces = 0, []
        while start < len(w):
            end, found = len(w), None
            while end > start:
                piece = ("##" if start else "") + w[start:end]
                if piece in vocab_index:
                    found = vocab_index[piece]
                    break
                end -= 1
            if found is None:
                pieces = [unk]
                break
            pieces.append(found)
            start = end
        ids.extend(pieces)
    return ids


# ---------------------------------------------------------------- gen

def gen(a):
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    if a.vocab_from:
        vocab = build_vocab(a.vocab_from, a.vocab)
    else:
        vocab = build_vocab([], a.vocab)
    V, H, L, NH, I, P = len(vocab), a.hidden, a.layers, a.heads, a.inter, a.max_pos

    def rnd(*shape, std=1.0):
        return torch.randn(*shape) * std

    def lin(o, i):
        return rnd(o, i, std=a.gain / math.sqrt(i)), rnd(o, std=0.1)

    def ln():
        return 1.0 + rnd(H, std=0.1), rnd(H, std=0.1)

    p = a.prefix
    g, b = ("gamma", "beta") if a.gamma_beta else ("weight", "bias")
    T = []
    T.append((p + "embeddings.word_embeddings.weight", rnd(V, H, std=0.5)))
    T.append((p + "embeddings.position_embeddings.weight", rnd(P, H, std=0.5)))
    T.append((p + "embeddings.token_type_embeddings.weight", rnd(2, H, std=0.5)))
    w, bb = ln()
    T += [(p + "embeddings.LayerNorm." + g, w), (p + "embeddings.LayerNorm." + b, bb)]
    T.append((p + "embeddings.position_ids", (torch.arange(P).unsqueeze(0), "I64")))
    for l in range(L):
        q = p + "encoder.layer.%d." % l
        for part, (o, i) in (("attention.self.query", (H, H)), ("attention.self.key", (H, H)),
                             ("attention.self.value", (H, H)), ("attention.output.dense", (H, H)),
                             ("intermediate.dense", (I, H)), ("output.dense", (H, I))):
            w, bb = lin(o, i)
            T += [(q + part + ".weight", w), (q + part + ".bias", bb)]
        for part in ("attention.output.LayerNorm", "output.LayerNorm"):
            w, bb = ln()
            T += [(q + part + "." + g, w), (q + part + "." + b, bb)]
    if a.head == "classifier" or a.pooler:
        w, bb = lin(H, H)
        T += [(p + "pooler.dense.weight", w), (p + "pooler.dense.bias", bb)]
    labels = a.labels.split(",") if a.labels else []
    if a.head == "classifier":
        w, bb = lin(len(labels), H)
        if a.label_bias:  # shift the logits: a model that leans to one label (verifier tests)
            bb = bb + torch.tensor([float(x) for x in a.label_bias.split(",")])
        T += [("classifier.weight", w), ("classifier.bias", bb)]
    st_write(os.path.join(a.out, "model.safetensors"), T, a.dtype)

    cfg = {
        "architectures": ["BertForSequenceClassification" if a.head == "classifier" else "BertModel"],
        "model_type": "bert", "vocab_size": V, "hidden_size": H, "num_hidden_layers": L,
        "num_attention_heads": NH, "intermediate_size": I, "max_position_embeddings": P,
        "type_vocab_size": 2, "layer_norm_eps": a.eps, "hidden_act": a.act,
        "position_embedding_type": "absolute", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "pad_token_id": 0,
    }
    if a.head == "classifier":
        cfg["id2label"] = {str(i): s for i, s in enumerate(labels)}
        cfg["label2id"] = {s: i for i, s in enumerate(labels)}
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(a.out, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocab) + "\n")
    with open(os.path.join(a.out, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "model_max_length": P, "tokenizer_class": "BertTokenizer",
                   "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]",
                   "unk_token": "[UNK]", "mask_token": "[MASK]"}, f)
    with open(os.path.join(a.out, "special_tokens_map.json"), "w") as f:
        json.dump({"cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]",
                   "unk_token": "[UNK]", "mask_token": "[MASK]"}, f)
    if a.head == "encoder" and a.pool != "none":
        mods = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
        if a.normalize:
            mods.append({"idx": 2, "name": "2", "path": "2_Normalize",
                         "type": "sentence_transformers.models.Normalize"})
            os.makedirs(os.path.join(a.out, "2_Normalize"), exist_ok=True)
        with open(os.path.join(a.out, "modules.json"), "w") as f:
            json.dump(mods, f, indent=2)
        os.makedirs(os.path.join(a.out, "1_Pooling"), exist_ok=True)
        with open(os.path.join(a.out, "1_Pooling", "config.json"), "w") as f:
            json.dump({"word_embedding_dimension": H,
                       "pooling_mode_cls_token": a.pool == "cls",
                       "pooling_mode_mean_tokens": a.pool == "mean",
                       "pooling_mode_max_tokens": a.pool == "max",
                       "pooling_mode_mean_sqrt_len_tokens": a.pool == "mean_sqrt_len"}, f)
        with open(os.path.join(a.out, "sentence_bert_config.json"), "w") as f:
            json.dump({"max_seq_length": a.max_seq or P, "do_lower_case": False}, f)


# ---------------------------------------------------------------- ids

def ids(a):
    vocab = open(os.path.join(a.dir, "vocab.txt"), encoding="utf-8").read().split("\n")
    index = {t: i for i, t in enumerate(vocab) if t}
    cls, sep, unk = index["[CLS]"], index["[SEP]"], index["[UNK]"]
    P = json.load(open(os.path.join(a.dir, "config.json")))["max_position_embeddings"]
    max_len = min(a.max_len or P, P)
    sents = []
    for path in a.sentences:
        got = read_sentences(path)
        sents += got[:a.per_file]
    rows = []
    if a.pairs:
        for i in range(0, len(sents) - 1):
            x, y = wordpiece(index, sents[i], unk), wordpiece(index, sents[(i * 7 + 3) % len(sents)], unk)
            while len(x) + len(y) > max_len - 3:  # longest first
                if len(x) > len(y):
                    x.pop()
                else:
                    y.pop()
            rows.append(([cls] + x + [sep] + y + [sep], [0] * (len(x) + 2) + [1] * (len(y) + 1)))
    else:
        for s in sents:
            x = wordpiece(index, s, unk)[:max_len - 2]
            rows.append(([cls] + x + [sep], [0] * (len(x) + 2)))
    if a.extra:  # padding-heavy: the shortest and the longest inputs side by side
        g = torch.Generator().manual_seed(7)
        extra = []
        for k in range(8):
            n = max_len if k % 2 == 0 else 2 + k
            body = torch.randint(len(SPECIAL), len(vocab), (n - 2,), generator=g).tolist()
            types = [0] * n
            if a.pairs and n > 4:
                types = [0] * (n // 2) + [1] * (n - n // 2)
            extra.append(([cls] + body + [sep], types))
        merged = []
        for i, r in enumerate(rows):
            merged.append(r)
            if i % 12 == 0 and extra:
                merged.append(extra.pop())
        rows = merged + extra
    with open(a.out, "w") as f:
        for i_, t in rows:
            f.write(json.dumps({"ids": i_, "types": t}) + "\n")


# ---------------------------------------------------------------- reference

class Reference(torch.nn.Module):
    def __init__(self, d):
        super().__init__()
        cfg = json.load(open(os.path.join(d, "config.json")))
        W = st_read(os.path.join(d, "model.safetensors"))
        self.classifier = cfg["architectures"][0] == "BertForSequenceClassification"
        pre = "bert." if "bert.embeddings.word_embeddings.weight" in W else ""

        def get(name):
            n = pre + name
            if n not in W:
                n = n.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
            return W[n]

        H, NH, I = cfg["hidden_size"], cfg["num_attention_heads"], cfg["intermediate_size"]
        eps = cfg.get("layer_norm_eps", 1e-12)
        act = cfg.get("hidden_act", "gelu")
        act = {"gelu": "gelu", "relu": "relu",
               "gelu_new": lambda x: F.gelu(x, approximate="tanh")}[act]
        self.word = torch.nn.Embedding.from_pretrained(get("embeddings.word_embeddings.weight"))
        self.pos = torch.nn.Embedding.from_pretrained(get("embeddings.position_embeddings.weight"))
        self.ttype = torch.nn.Embedding.from_pretrained(get("embeddings.token_type_embeddings.weight"))
        self.eln = torch.nn.LayerNorm(H, eps=eps)
        self.eln.weight.data = get("embeddings.LayerNorm.weight")
        self.eln.bias.data = get("embeddings.LayerNorm.bias")
        self.layers = torch.nn.ModuleList()
        for l in range(cfg["num_hidden_layers"]):
            q = "encoder.layer.%d." % l
            t = torch.nn.TransformerEncoderLayer(H, NH, dim_feedforward=I, dropout=0.0,
                                                 activation=act, layer_norm_eps=eps,
                                                 batch_first=True, norm_first=False)
            t.self_attn.in_proj_weight.data = torch.cat([get(q + "attention.self.%s.weight" % x)
                                                         for x in ("query", "key", "value")])
            t.self_attn.in_proj_bias.data = torch.cat([get(q + "attention.self.%s.bias" % x)
                                                       for x in ("query", "key", "value")])
            t.self_attn.out_proj.weight.data = get(q + "attention.output.dense.weight")
            t.self_attn.out_proj.bias.data = get(q + "attention.output.dense.bias")
            t.linear1.weight.data = get(q + "intermediate.dense.weight")
            t.linear1.bias.data = get(q + "intermediate.dense.bias")
            t.linear2.weight.data = get(q + "output.dense.weight")
            t.linear2.bias.data = get(q + "output.dense.bias")
            t.norm1.weight.data = get(q + "attention.output.LayerNorm.weight")
            t.norm1.bias.data = get(q + "attention.output.LayerNorm.bias")
            t.norm2.weight.data = get(q + "output.LayerNorm.weight")
            t.norm2.bias.data = get(q + "output.LayerNorm.bias")
            self.layers.append(t)
        self.pool, self.normalize = "mean", False
        if self.classifier:
            self.pooler = torch.nn.Linear(H, H)
            self.pooler.weight.data, self.pooler.bias.data = get("pooler.dense.weight"), get("pooler.dense.bias")
            nl = W["classifier.weight"].shape[0]
            self.cls = torch.nn.Linear(H, nl)
            self.cls.weight.data, self.cls.bias.data = W["classifier.weight"], W["classifier.bias"]
        else:
            pc = os.path.join(d, "1_Pooling", "config.json")
            if os.path.exists(pc):
                c = json.load(open(pc))
                for k, v in (("pooling_mode_cls_token", "cls"), ("pooling_mode_mean_tokens", "mean"),
                             ("pooling_mode_max_tokens", "max"),
                             ("pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len")):
                    if c.get(k):
                        self.pool = v
            self.normalize = os.path.isdir(os.path.join(d, "2_Normalize"))
        self.eval()

    def forward(self, ids, types, mask):
        """ids, types (B, L) int64; mask (B, L) 1 for real tokens."""
        pos = torch.arange(ids.shape[1]).unsqueeze(0).expand_as(ids)
        x = self.eln(self.word(ids) + self.pos(pos) + self.ttype(types))
        pad = mask == 0
        for layer in self.layers:
            x = layer(x, src_key_padding_mask=pad)
        if self.classifier:
            return self.cls(torch.tanh(self.pooler(x[:, 0])))
        m = mask.unsqueeze(-1).to(x.dtype)
        if self.pool == "cls":
            e = x[:, 0]
        elif self.pool == "max":
            e = torch.where(m > 0, x, torch.full_like(x, -1e9)).max(dim=1).values
        elif self.pool == "mean_sqrt_len":
            e = (x * m).sum(1) / torch.sqrt(m.sum(1).clamp(min=1e-9))
        else:
            e = (x * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return F.normalize(e, p=2, dim=1) if self.normalize else e


def batches(rows, size):
    for i in range(0, len(rows), size):
        chunk = rows[i:i + size]
        L = max(len(r["ids"]) for r in chunk)
        ids = torch.zeros(len(chunk), L, dtype=torch.long)
        types = torch.zeros(len(chunk), L, dtype=torch.long)
        mask = torch.zeros(len(chunk), L, dtype=torch.long)
        for j, r in enumerate(chunk):
            n = len(r["ids"])
            ids[j, :n] = torch.tensor(r["ids"])
            types[j, :n] = torch.tensor(r.get("types") or [0] * n)
            mask[j, :n] = 1
        yield ids, types, mask


def ref(a):
    torch.set_num_threads(1)
    model = Reference(a.dir)
    rows = [json.loads(l) for l in open(a.ids) if l.strip()]
    rows = [r if isinstance(r, dict) else {"ids": r} for r in rows]
    with torch.no_grad(), open(a.out, "w") as f:
        for ids_, types, mask in batches(rows, a.batch):
            for v in model(ids_, types, mask):
                f.write(json.dumps({"out": [float(x) for x in v]}) + "\n")


def onnx(a):
    model = Reference(a.dir)
    ids_ = torch.ones(2, 16, dtype=torch.long)
    # with gradients on, TransformerEncoderLayer takes its plain path of standard operators (its
    # fused fast path has no ONNX form)
    with torch.enable_grad():
        torch.onnx.export(model, (ids_, torch.zeros_like(ids_), torch.ones_like(ids_)), a.out,
                          input_names=["input_ids", "token_type_ids", "attention_mask"],
                          output_names=["out"], opset_version=14,
                          dynamic_axes={"input_ids": {0: "b", 1: "l"}, "token_type_ids": {0: "b", 1: "l"},
                                        "attention_mask": {0: "b", 1: "l"}, "out": {0: "b"}})


def case(a):
    """gen, ids and ref in one process: DIR, DIR/../ids.jsonl, DIR/../ref.jsonl."""
    gen(a)
    top = os.path.dirname(os.path.abspath(a.out))
    a.dir, a.out = a.out, os.path.join(top, "ids.jsonl")
    ids(a)
    a.ids, a.out = a.out, os.path.join(top, "ref.jsonl")
    ref(a)


def cases(a):
    """Several cases in one process (one torch start-up): ROOT/NAME/hf, ROOT/NAME/ids.jsonl,
    ROOT/NAME/ref.jsonl for each --case NAME "OPTIONS" (gen and ids options)."""
    import shlex
    for name, opts in a.case:
        p = argparse.ArgumentParser()
        gen_args(p)
        ids_args(p)
        p.add_argument("--batch", type=int, default=16)
        os.makedirs(os.path.join(a.root, name), exist_ok=True)
        c = p.parse_args([os.path.join(a.root, name, "hf")] + shlex.split(opts) +
                         ["--sentences"] + a.sentences + ["--vocab-from"] + a.sentences + ["--extra"])
        case(c)


def gen_args(g):
    g.add_argument("out")
    g.add_argument("--head", choices=["encoder", "classifier"], default="encoder")
    g.add_argument("--pool", choices=["mean", "cls", "max", "mean_sqrt_len", "none"], default="mean")
    g.add_argument("--normalize", action="store_true")
    g.add_argument("--dtype", choices=["F32", "F16", "BF16"], default="F32")
    g.add_argument("--act", default="gelu")
    g.add_argument("--layers", type=int, default=2)
    g.add_argument("--hidden", type=int, default=48)
    g.add_argument("--heads", type=int, default=4)
    g.add_argument("--inter", type=int, default=96)
    g.add_argument("--max-pos", type=int, default=128)
    g.add_argument("--max-seq", type=int, default=0)
    g.add_argument("--vocab", type=int, default=2000)
    g.add_argument("--vocab-from", nargs="*", default=[])
    g.add_argument("--labels", default="")
    g.add_argument("--label-bias", default="", help="comma-separated values added to the classifier bias")
    g.add_argument("--prefix", default="")
    g.add_argument("--gamma-beta", action="store_true")
    g.add_argument("--pooler", action="store_true")
    g.add_argument("--eps", type=float, default=1e-12)
    g.add_argument("--gain", type=float, default=1.0)
    g.add_argument("--seed", type=int, default=1)


def ids_args(i):
    i.add_argument("--sentences", nargs="+", required=True)
    i.add_argument("--per-file", type=int, default=60)
    i.add_argument("--max-len", type=int, default=0)
    i.add_argument("--pairs", action="store_true")
    i.add_argument("--extra", action="store_true")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    gen_args(sub.add_parser("gen"))
    i = sub.add_parser("ids")
    i.add_argument("dir")
    i.add_argument("out")
    ids_args(i)
    c = sub.add_parser("case")
    gen_args(c)
    ids_args(c)
    c.add_argument("--batch", type=int, default=16)
    cs = sub.add_parser("cases")
    cs.add_argument("root")
    cs.add_argument("--sentences", nargs="+", required=True)
    cs.add_argument("--case", nargs=2, action="append", required=True, metavar=("NAME", "OPTIONS"))
    r = sub.add_parser("ref")
    r.add_argument("dir")
    r.add_argument("ids")
    r.add_argument("out")
    r.add_argument("--batch", type=int, default=16)
    o = sub.add_parser("onnx")
    o.add_argument("dir")
    o.add_argument("out")
    a = ap.parse_args()
    {"gen": gen, "ids": ids, "case": case, "cases": cases, "ref": ref, "onnx": onnx}[a.cmd](a)


if __name__ == "__main__":
    main()
