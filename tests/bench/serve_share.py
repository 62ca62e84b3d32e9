#!/usr/bin/python3
"""serve_share.py - how many copies of vectors.faiss a `vericite serve` process holds.

usage: serve_share.py VERICITE INDEX_DIR QUERIES_JSONL [THREADS...]   (default threads: 1 4)

For each thread count: start `VERICITE serve --db INDEX_DIR --threads N --listen 127.0.0.1:0`,
send dense-only searches (POST /v1/search, "mode": "dense") from 4 clients at once, 4 rounds over
the first 50 queries, then read /proc/PID/status and /proc/PID/smaps:
  rss, pss       VmRSS before the first search and after the last; proportional set size after
                 (RSS counts a file page once per mapping: SQLite maps index.db once per
                 connection, so RSS overstates what 4 workers cost; PSS counts it once)
  anon           anonymous resident memory after the last (where a copy read into memory lives)
  maps           how many mappings of vectors.faiss, index.db and the static embedder's word
                 vectors (*.vcvec) the process has, resident size
One JSON line per thread count ("summary": the same in words, as make bench-scale prints it). A
process that held one copy per worker would show `anon` growing by the size of the vectors with
each worker; one shared copy shows `anon` growing only by the workers' scratch, and at most one
mapping of the file.
"""
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def smaps(pid):
    """{path or "[anon]": [mappings, Rss KiB, Pss KiB]} over /proc/PID/smaps."""
    out = {}
    cur = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            m = re.match(r"^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$", line)
            if m:
                cur = m.group(1).strip() or "[anon]"
                if cur.startswith("[") and cur != "[anon]":
                    cur = "[anon]"  # heap and stacks: memory of this process alone
                out.setdefault(cur, [0, 0, 0])[0] += 1
                continue
            if line.startswith("Rss:"):
                out[cur][1] += int(line.split()[1])
            elif line.startswith("Pss:"):
                out[cur][2] += int(line.split()[1])
    return out


def search(base, q):
    body = json.dumps({"query": q, "k": 10, "mode": "dense"}).encode()
    req = urllib.request.Request(base + "/v1/search", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        hits = json.load(r)["hits"]
    return len(hits)


def run(vc, db, queries, threads):
    p = subprocess.Popen([vc, "serve", "--db", db, "--threads", str(threads), "--listen",
                          "127.0.0.1:0"], stderr=subprocess.PIPE, text=True)
    try:
        base = None
        t0 = time.time()
        while time.time() - t0 < 60:
            line = p.stderr.readline()
            if not line:
                break
            m = re.search(r"listening on (http://\S+)", line)
            if m:
                base = m.group(1)
                break
        if not base:
            raise SystemExit(f"serve_share: {vc} serve did not start on {db}")
        threading.Thread(target=lambda: [None for _ in p.stderr], daemon=True).start()
        rss0 = status_kib(p.pid, "VmRSS")
        errors, hits = [], []
        lock = threading.Lock()

        def client(c):
            for r in range(4):
                for i, q in enumerate(queries):
                    if i % 4 != c:
                        continue
                    try:
                        n = search(base, q)
                        with lock:
                            hits.append(n)
                    except Exception as e:  # counted and reported, not hidden
                        with lock:
                            errors.append(str(e))

        t1 = time.time()
        cs = [threading.Thread(target=client, args=(c,)) for c in range(4)]
        for c in cs:
            c.start()
        for c in cs:
            c.join()
        secs = time.time() - t1
        rss1 = status_kib(p.pid, "VmRSS")
        sm = smaps(p.pid)

        def of(suffix):
            r = [0, 0, 0]
            for k, v in sm.items():
                if k.endswith(suffix):
                    r = [a + b for a, b in zip(r, v)]
            return r
        vf, db_, an = of("vectors.faiss"), of("index.db"), sm.get("[anon]", [0, 0, 0])
        ev = of(".vcvec")  # the static embedder's word vectors, mapped by each worker's embedder
        o = {"threads": threads, "searches": len(hits), "errors": len(errors),
             "hits_per_search": (sum(hits) / len(hits)) if hits else 0,
             "seconds": round(secs, 2), "rss_start_mib": rss0 // 1024,
             "rss_end_mib": rss1 // 1024, "pss_end_mib": sum(v[2] for v in sm.values()) // 1024,
             "anon_mib": an[1] // 1024,
             "vectors_faiss_maps": vf[0], "vectors_faiss_rss_mib": vf[1] // 1024,
             "index_db_maps": db_[0], "index_db_rss_mib": db_[1] // 1024,
             "index_db_pss_mib": db_[2] // 1024,
             "word_vectors_maps": ev[0], "word_vectors_pss_mib": ev[2] // 1024,
             "vectors_faiss_mib": os.path.getsize(os.path.join(db, "vectors.faiss")) // (1 << 20)}
        o["summary"] = (
            "serve --threads {threads}: {searches} dense searches from 4 clients ({errors} errors) "
            "in {seconds} s; RSS {rss_start_mib} -> {rss_end_mib} MiB, PSS {pss_end_mib} MiB, "
            "anonymous {anon_mib} MiB; vectors.faiss ({vectors_faiss_mib} MiB) mapped "
            "{vectors_faiss_maps}x, {vectors_faiss_rss_mib} MiB resident; index.db mapped "
            "{index_db_maps}x (PSS {index_db_pss_mib} MiB); word vectors mapped "
            "{word_vectors_maps}x (PSS {word_vectors_pss_mib} MiB)").format(**o)
        print(json.dumps(o), flush=True)
        if errors:
            print("serve_share: first error: " + errors[0], file=sys.stderr)
    finally:
        p.terminate()
        p.wait(timeout=30)


def main():
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    vc, db, qpath = sys.argv[1:4]
    threads = [int(x) for x in sys.argv[4:]] or [1, 4]
    queries = []
    with open(qpath) as f:
        for line in f:
            if line.strip():
                o = json.loads(line)
                queries.append(o.get("text") or o.get("query"))
            if len(queries) == 50:
                break
    for t in threads:
        run(vc, db, queries, t)


if __name__ == "__main__":
    main()
