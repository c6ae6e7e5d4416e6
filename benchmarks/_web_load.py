"""The load benchmark of ``bench_web.py --clients N --seconds S``: a real ``kmseg serve``
on loopback, N client threads for S seconds.

Each client keeps one keep-alive connection and, at random (seeded):

* uploads a photo (BSDS500 train photos as their JPEG files, scikit-image's samples
  as PNG; as a multipart form or as the raw body), then works on its last 3 uploads:
* segments at a random k in 2..48 (sometimes 'auto', another colour space, or k
  connected segments), fetches a view or a download of that setting, the elbow curve;
* sends hostile requests: garbage bytes, a truncated PNG, a PNG header claiming
  100,000 x 100,000 pixels, a name with ``../`` and NUL, bad parameters (k=0, k=999,
  k='many', an unknown colour space, ``spatial: "yes"``), invalid JSON, an id that
  never existed, a 100 kB JSON body.

Every answer is counted by endpoint and status; a valid request should get 2xx (a
404 for an upload that expired is counted apart), a hostile one 4xx. Lost answers
are connection errors and timeouts (120 s). The server's peak RSS is its VmHWM
(/proc/PID/status) at the end, with the highest RSS sampled every 0.1 s (psutil).
Prints the figures and writes ``benchmarks/results/web_load.md``.
"""

import collections
import datetime
import http.client
import io
import json
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _images  # noqa: E402

TIMEOUT_S = 120
N_BSDS = 40


def _png(array):
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def photos():
    """(name, bytes) of the photos the clients upload."""
    import skimage.data

    out = [(f"{name}.png", _png(getattr(skimage.data, name)()))
           for name in ("astronaut", "coffee", "chelsea", "rocket")]
    train = _images.SHARED_DIR / "data" / "bsds500" / "images" / "train"
    if train.is_dir():
        for path in sorted(train.glob("*.jpg"))[:N_BSDS]:
            out.append((path.name, path.read_bytes()))
    return out


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width=100_000, height=100_000):
    """A small PNG whose header claims ``width x height`` RGB pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + _chunk(b"IEND", b""))


def multipart(name, data):
    boundary = "kmsegbench" + os.urandom(8).hex()
    quoted = name.replace('"', "%22").replace("\r", "").replace("\n", "")
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{quoted}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode("utf-8", "replace") + data + \
        f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class Client:
    """One client: a keep-alive connection, its uploads, its answers."""

    def __init__(self, port, rng, bodies, records):
        self.port = port
        self.rng = rng
        self.bodies = bodies
        self.records = records
        self.ids = collections.deque(maxlen=3)
        self.conn = None

    def request(self, label, expect, method, path, body=None, content_type=None):
        """Send one request; records (label, expect, status or 'lost', seconds, message)."""
        headers = {"Content-Type": content_type} if content_type else {}
        start = time.perf_counter()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT_S)
            self.conn.request(method, path, body=body, headers=headers)
            r = self.conn.getresponse()
            data = r.read()
            status = r.status
            if r.getheader("connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
        except (OSError, http.client.HTTPException) as exc:
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            self.records.append((label, expect, "lost", time.perf_counter() - start, repr(exc)))
            return None, None
        seconds = time.perf_counter() - start
        message = None
        if status >= 400:
            try:
                message = json.loads(data)["error"]
            except (ValueError, KeyError, TypeError):
                message = "NOT ONE LINE OF JSON: " + data[:80].decode("latin-1")
        self.records.append((label, expect, status, seconds, message))
        return status, data

    def json(self, label, expect, method, path, payload):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        status, data = self.request(label, expect, method, path, body, "application/json")
        return status, (json.loads(data) if status == 200 else None)

    # ---- what a client does --------------------------------------------------------------

    def upload(self):
        name, data = self.rng.choice(self.bodies)
        if self.rng.random() < 0.5:
            body, kind = multipart(name, data)
            status, out = self.request("POST /api/images", "ok", "POST", "/api/images", body, kind)
        else:
            status, out = self.request("POST /api/images", "ok", "POST", f"/api/images?name={name}", data,
                                       "application/octet-stream")
        if status == 200:
            self.ids.append(json.loads(out)["id"])

    def settings(self):
        rng = self.rng
        k = "auto" if rng.random() < 0.05 else rng.randint(2, 48)
        space = rng.choice([None, None, None, "lab", "hsv", "gray"])
        spatial = rng.random() < 0.03
        if spatial:
            k = rng.randint(2, 24)
        return {"k": k, "color_space": space, "spatial": spatial}

    def segment(self):
        setting = {"id": self.rng.choice(self.ids), **self.settings()}
        label = "POST /api/segment" + (" (spatial)" if setting["spatial"] else "")
        status, out = self.json(label, "ok", "POST", "/api/segment", setting)
        if status == 200 and self.rng.random() < 0.5:
            if self.rng.random() < 0.7:
                view = self.rng.choice(["segmented", "boundaries", "labels"])
                self.request("GET view", "ok", "GET", out["views"][view])
            else:
                name = self.rng.choice(list(out["downloads"]))
                self.request("GET download", "ok", "GET", out["downloads"][name])

    def elbow(self):
        self.request("GET /api/elbow", "ok", "GET", f"/api/elbow?id={self.rng.choice(self.ids)}")

    def hostile(self):
        rng = self.rng
        some_id = rng.choice(self.ids) if self.ids else "x"
        what = rng.randrange(9)
        if what == 0:
            self.request("hostile upload", "4xx", "POST", "/api/images?name=noise.png",
                         os.urandom(rng.randint(1, 200_000)), "application/octet-stream")
        elif what == 1:
            _, data = rng.choice(self.bodies)
            body, kind = multipart("cut.png", data[: len(data) // 3])
            self.request("hostile upload", "4xx", "POST", "/api/images", body, kind)
        elif what == 2:
            body, kind = multipart("bomb.png", bomb_png())
            self.request("hostile upload", "4xx", "POST", "/api/images", body, kind)
        elif what == 3:
            self.request("hostile upload", "4xx", "POST", "/api/images?name=..%2F..%2Fetc%2Fpasswd%00.png",
                         b"GIF89a" + os.urandom(64), "application/octet-stream")
        elif what == 4:
            bad = rng.choice([{"k": 0}, {"k": 999}, {"k": "many"}, {"k": 3, "color_space": "cmyk"},
                              {"k": 3, "spatial": "yes"}, {"k": 2.5}, {"k": None}])
            self.json("hostile segment", "4xx", "POST", "/api/segment", {"id": some_id, **bad})
        elif what == 5:
            self.json("hostile segment", "4xx", "POST", "/api/segment", b'{"id": "' + some_id.encode() + b'", "k": ')
        elif what == 6:
            self.json("hostile segment", "4xx", "POST", "/api/segment", {"id": "never-" + os.urandom(8).hex(), "k": 4})
        elif what == 7:
            self.json("hostile segment", "4xx", "POST", "/api/segment",
                      {"id": some_id, "k": 4, "pad": "x" * 100_000})
        else:
            path = rng.choice([f"/api/images/{some_id}/view/../../etc/passwd", f"/api/images/{some_id}/view/x",
                               f"/api/images/{some_id}/download/secret.txt", f"/api/images/{some_id}/view/highlight",
                               f"/api/elbow?id={some_id}&color_space=xyz", f"/api/images/{some_id}/view/labels?k=0"])
            self.request("hostile GET", "4xx", "GET", path)

    def run(self, deadline):
        actions = [(self.upload, 28), (self.segment, 40), (self.elbow, 3), (self.hostile, 25),
                   (lambda: self.request("GET /api/info", "ok", "GET", "/api/info"), 4)]
        funcs, weights = zip(*actions)
        while time.monotonic() < deadline:
            action = self.rng.choices(funcs, weights)[0]
            if not self.ids and action in (self.segment, self.elbow):
                action = self.upload
            action()
        if self.conn is not None:
            self.conn.close()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(port):
    proc = subprocess.Popen([sys.executable, "-m", "kmseg", "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/info")
            if conn.getresponse().status == 200:
                conn.close()
                return proc
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"kmseg serve did not start: {proc.communicate()}")


def _vm_hwm(pid):
    """Peak resident memory of ``pid`` in bytes (Linux), or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _sample_rss(pid, stop, peak):
    try:
        import psutil
    except ImportError:
        return
    process = psutil.Process(pid)
    while not stop.is_set():
        try:
            peak[0] = max(peak[0], process.memory_info().rss)
        except psutil.Error:
            return
        stop.wait(0.1)


def _percentile(values, q):
    return float(np.percentile(np.asarray(values) * 1000, q)) if values else float("nan")


def run(n_clients, seconds, seed=0):
    bodies = photos()
    port = _free_port()
    proc = _start_server(port)
    stop, peak = threading.Event(), [0]
    sampler = threading.Thread(target=_sample_rss, args=(proc.pid, stop, peak), daemon=True)
    sampler.start()
    start_rss = _vm_hwm(proc.pid)
    records = []
    clients = [Client(port, random.Random(seed * 1000 + i), bodies, records) for i in range(n_clients)]
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=c.run, args=(deadline,)) for c in clients]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/api/info")
    cache = json.loads(conn.getresponse().read())
    conn.close()
    hwm = _vm_hwm(proc.pid)
    stop.set()
    sampler.join()
    proc.terminate()
    _, err = proc.communicate(timeout=30)

    text = report(records, n_clients, seconds, wall, len(bodies), hwm, peak[0], start_rss, err, cache)
    print(text)
    out = _images.results_dir() / "web_load.md"
    out.write_text(text)
    print(f"-> {out}")
    return 0


def report(records, n_clients, seconds, wall, n_photos, hwm, sampled, start_rss, err, cache):
    by_label = collections.defaultdict(list)
    for rec in records:
        by_label[rec[0]].append(rec)
    statuses = collections.Counter(rec[2] for rec in records)
    lost = statuses.get("lost", 0)
    server_errors = sum(n for s, n in statuses.items() if s != "lost" and s >= 500)
    expired = sum(1 for r in records if r[1] == "ok" and r[2] == 404 and "expired" in (r[4] or ""))
    wrong = [r for r in records if r[2] != "lost" and ((r[1] == "ok" and not 200 <= r[2] < 300 and not (
        r[2] == 404 and "expired" in (r[4] or ""))) or (r[1] == "4xx" and not 400 <= r[2] < 500))]
    not_json = sum(1 for r in records if r[4] and r[4].startswith("NOT ONE LINE OF JSON"))
    mb = 1 << 20
    lines = [
        f"## Web server under load: {n_clients} clients for {seconds:g} s "
        f"({datetime.date.today().isoformat()})",
        "",
        f"Command: `python benchmarks/bench_web.py --clients {n_clients} --seconds {seconds:g}` (a real "
        f"`kmseg serve` with its defaults on loopback; {n_photos} photos; 2-core machine shared with other jobs).",
        "",
        f"Answers: {len(records):,} in {wall:.1f} s ({len(records) / wall:.1f}/s); by status: "
        + ", ".join(f"{s}: {n:,}" for s, n in sorted(statuses.items(), key=lambda x: str(x[0]))) + ".",
        f"5xx: {server_errors}; lost answers (connection errors, timeouts): {lost}; errors not one line of "
        f"JSON: {not_json}; valid requests answered 404 'expired': {expired}; unexpected answers (a valid "
        f"request not 2xx, a hostile one not 4xx): {len(wrong)}.",
        f"Server peak RSS (VmHWM): {hwm / mb:,.0f} MiB" if hwm else "Server peak RSS: unknown",
    ]
    if sampled:
        lines[-1] += f" (highest sampled RSS {sampled / mb:,.0f} MiB; {start_rss / mb:,.0f} MiB once started)"
    lines[-1] += (f"; at the end the cache held {cache['images']} uploads, {cache['cache_used_mb']:.0f} of "
                  f"{cache['cache_mb']:g} MiB.")
    lines += ["", "| endpoint | answers | statuses | p50 (ms) | p95 (ms) | p99 (ms) |", "|---|---:|---|---:|---:|---:|"]
    for label in sorted(by_label):
        recs = by_label[label]
        times = [r[3] for r in recs if r[2] != "lost"]
        counts = collections.Counter(r[2] for r in recs)
        shown = ", ".join(f"{s}: {n}" for s, n in sorted(counts.items(), key=lambda x: str(x[0])))
        lines.append(f"| {label} | {len(recs):,} | {shown} | {_percentile(times, 50):.0f} | "
                     f"{_percentile(times, 95):.0f} | {_percentile(times, 99):.0f} |")
    if wrong:
        lines += ["", "Unexpected answers (first 10):"]
        lines += [f"- {r[0]}: {r[2]} {r[4]}" for r in wrong[:10]]
    errors = [line for line in err.splitlines() if line.strip()]
    if errors:
        lines += ["", f"Server stderr ({len(errors)} lines; first 5):"] + [f"    {line}" for line in errors[:5]]
    return "\n".join(lines) + "\n"
