"""The web API's defences: unguessable ids, names that never reach a path, bounded
bodies, a bounded queue (503 with Retry-After), slow clients that cannot starve the
others, and a cache sized by memory."""

import asyncio
import json
import os
import re
import socket
import sys
import threading
import time
import urllib.request

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("python_multipart")
from fastapi.testclient import TestClient  # noqa: E402

from kmseg.web import create_app  # noqa: E402

from images import encoded  # noqa: E402
from test_web_api import assert_error, quadrants, upload  # noqa: E402


def test_ids_are_unguessable():
    with TestClient(create_app()) as c:
        data = encoded(quadrants(h=8, w=8))
        ids = [upload(c, data)["id"] for _ in range(40)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22,}", i) for i in ids)  # 128 random bits, URL-safe
    assert len({i[:6] for i in ids}) == len(ids)  # no counter, no shared prefix
    assert not any(i.isdigit() for i in ids)


#: Names a client may send: paths out of any folder, NUL, newlines, quotes, very long.
HOSTILE_NAMES = ["../../../etc/passwd", "..\\..\\windows\\win.ini", "/abs/evil.png", "nul\x00byte.png",
                 'quote"; filename="evil.sh', "new\r\nX-Evil: 1.png", "x" * 5000 + ".png", "....//....//evil"]


def test_hostile_names_never_reach_a_path():
    """Each name is accepted for a real image, shown cleaned (one path part, no control
    characters, at most 200 characters), gives a safe download name, and no file of
    any name it holds is opened, created, renamed or removed while it is served."""
    touched = []

    def audit(event, args):
        if recording and event in ("open", "os.rename", "os.remove", "os.mkdir", "os.symlink", "os.link",
                                   "shutil.copyfile", "os.truncate", "os.chmod"):
            touched.extend(str(a) for a in args if isinstance(a, (str, bytes)))

    recording = False
    sys.addaudithook(audit)
    data = encoded(quadrants())
    with TestClient(create_app()) as c:
        recording = True
        try:
            for name in HOSTILE_NAMES:
                form = c.post("/api/images", files={"file": (name, data, "image/png")})
                if len(name) > 1000:  # a part header this long is refused by the form parser
                    assert_error(form, 400, "cannot read the upload form")
                    form = None
                raw = c.post("/api/images", params={"name": name}, content=data,
                             headers={"Content-Type": "application/octet-stream"})
                for r in filter(None, (form, raw)):
                    assert r.status_code == 200, (name, r.text)
                    info = r.json()
                    shown = info["name"]
                    assert shown and len(shown) <= 200 and "/" not in shown and "\\" not in shown
                    assert all(ch.isprintable() for ch in shown), shown
                    out = c.post("/api/segment", json={"id": info["id"], "k": 2}).json()
                    d = c.get(out["downloads"]["palette.json"])
                    assert d.status_code == 200
                    disposition = d.headers["content-disposition"]
                    filename = re.fullmatch(r'attachment; filename="([A-Za-z0-9._-]+)"', disposition).group(1)
                    assert ".." not in filename and len(filename) < 120
                    assert json.loads(d.content)["image"] == shown
                for bad in (c.post("/api/images", files={"file": (name, b"not an image")}),
                            c.post("/api/images", files={"file": (name, b"")})):
                    message = assert_error(bad, 400)
                    assert len(message) < 400 and "\x00" not in message
            with open(os.devnull, "rb"):  # the hook sees opens
                pass
        finally:
            recording = False
    assert os.devnull in touched
    fragments = ("passwd", "win.ini", "evil", "byte.png", "xxxxxxxx", "X-Evil")
    assert [p for p in touched if any(f in p for f in fragments)] == []


def test_every_other_body_is_small():
    with TestClient(create_app()) as c:
        info = upload(c, encoded(quadrants()))
        big = json.dumps({"id": info["id"], "k": 2, "pad": "x" * 100_000})
        assert_error(c.post("/api/segment", content=big, headers={"Content-Type": "application/json"}), 413,
                     "request body too large", "65,536 bytes")

        def chunks():  # no Content-Length: counted as it arrives
            for i in range(0, len(big), 8192):
                yield big[i:i + 8192].encode()

        assert_error(c.post("/api/segment", content=chunks(), headers={"Content-Type": "application/json"}),
                     413, "request body too large")
        assert_error(c.request("GET", "/api/info", content=b"x" * 70_000), 413)
        assert c.post("/api/segment", json={"id": info["id"], "k": 2}).status_code == 200


@pytest.fixture
def slow_fits(monkeypatch):
    """Every fit takes a second longer: the computation stays busy."""
    from kmseg.web import _upload

    original = _upload.Upload.result

    def slow(self, *args):
        time.sleep(1.0)
        return original(self, *args)

    monkeypatch.setattr(_upload.Upload, "result", slow)


def in_thread(fn):
    box = []
    worker = threading.Thread(target=lambda: box.append(fn()))
    worker.start()
    return worker, box


def test_a_full_queue_answers_503_with_retry_after(slow_fits):
    with TestClient(create_app(max_waiting=0)) as c:
        i = upload(c, encoded(quadrants()))["id"]
        worker, box = in_thread(lambda: c.post("/api/segment", json={"id": i, "k": 3}))
        time.sleep(0.3)  # the first holds the computation
        start = time.monotonic()
        r = c.post("/api/segment", json={"id": i, "k": 4})
        assert time.monotonic() - start < 0.5  # at once, not after the wait
        assert_error(r, 503, "server busy", "retry in 5 s")
        assert r.headers["retry-after"] == "5"
        # bad settings are refused before they queue: 400, not 503
        assert_error(c.post("/api/segment", json={"id": i, "k": 0}), 400, "k=0")
        info = c.get("/api/info")  # light requests hold no place in the queue
        assert info.status_code == 200
        worker.join()
        assert box[0].status_code == 200
        assert c.post("/api/segment", json={"id": i, "k": 4}).status_code == 200


def test_a_long_wait_answers_503(slow_fits):
    with TestClient(create_app(max_waiting=4, wait_s=0.2)) as c:
        i = upload(c, encoded(quadrants()))["id"]
        worker, box = in_thread(lambda: c.post("/api/segment", json={"id": i, "k": 3}))
        time.sleep(0.3)
        assert_error(c.get(f"/api/images/{i}/view/segmented?k=5"), 503, "waited 0.2 s for the computation")
        worker.join()
        assert box[0].status_code == 200


def test_one_upload_over_the_budget_is_still_served():
    with TestClient(create_app(cache_mb=0.05)) as c:
        first = upload(c, encoded(quadrants(seed=1)))["id"]
        second = upload(c, encoded(quadrants(seed=2)))["id"]
        for k in (2, 3, 4, 5):
            r = c.post("/api/segment", json={"id": second, "k": k})
            assert r.status_code == 200
            assert c.get(r.json()["views"]["segmented"]).status_code == 200
        assert c.get(f"/api/images/{second}").status_code == 200
        assert_error(c.get(f"/api/images/{first}"), 404, "expired")
        assert c.get("/api/info").json()["images"] == 1


def test_gate_bounds_holders_and_waiters():
    from kmseg.web._gate import Busy, Gate

    async def scenario():
        gate = Gate("the test", 1, 1, wait_s=5)
        order = []
        await gate.acquire()

        async def second():
            async with gate:
                order.append("second")

        task = asyncio.ensure_future(second())
        await asyncio.sleep(0.05)
        assert gate.waiting == 1
        with pytest.raises(Busy, match="1 requests already wait for the test"):
            await gate.acquire()
        gate.release()
        await task
        assert order == ["second"] and gate.waiting == 0
        short = Gate("the test", 1, 4, wait_s=0.05)
        await short.acquire()
        with pytest.raises(Busy, match="waited 0.05 s"):
            await short.acquire()
        assert short.waiting == 0
        short.release()
        await asyncio.wait_for(short.acquire(), 1)  # the slot is free again

    asyncio.run(scenario())


# ---- a real server: slow clients ------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server():
    import uvicorn

    port = free_port()
    app = create_app(body_timeout_s=1.5, max_waiting=8)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    worker = threading.Thread(target=server.run, daemon=True)
    worker.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and worker.is_alive(), "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", port
    server.should_exit = True
    worker.join(timeout=10)


def http(url, data=None, headers=None, timeout=10):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_slow_clients_do_not_starve_the_others(live_server):
    base, port = live_server
    data = encoded(quadrants())
    status, info = http(f"{base}/api/images?name=q.png", data, {"Content-Type": "application/octet-stream"})
    assert status == 200
    # six clients that send the start of an upload, then nothing: more than the upload slots
    slow = []
    for _ in range(6):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"POST /api/images?name=slow.png HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n" + data[:100])
        slow.append(s)
    time.sleep(0.2)
    start = time.monotonic()
    assert http(f"{base}/api/info")[0] == 200
    status, out = http(f"{base}/api/segment", json.dumps({"id": info["id"], "k": 3}).encode(),
                       {"Content-Type": "application/json"})
    assert status == 200 and out["k"] == 3
    assert time.monotonic() - start < 1.0  # not behind the slow uploads
    status, other = http(f"{base}/api/images?name=fast.png", data, {"Content-Type": "application/octet-stream"})
    assert status == 200  # waited for a slot at most until the slow ones timed out
    assert time.monotonic() - start < 5.0
    for s in slow:
        s.settimeout(5)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
        s.close()
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), answer
        message = json.loads(body)["error"]
        assert "did not arrive in time" in message and "1.5 s" in message and "\n" not in message
