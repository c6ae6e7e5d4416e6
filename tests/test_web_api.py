"""The web API (``kmseg serve``) through FastAPI's test client: uploads, previews,
views, downloads, and hostile inputs."""

import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi")
pytest.importorskip("python_multipart")
from fastapi.testclient import TestClient  # noqa: E402

import kmseg  # noqa: E402
from kmseg.web import create_app  # noqa: E402

from bombs import bomb_png, zero_png  # noqa: E402
from images import encoded  # noqa: E402

QUADRANT_COLORS = np.array([[200, 30, 30], [30, 160, 40], [20, 40, 200], [240, 230, 60]], np.uint8)


def quadrants(h=40, w=60, noise=6, seed=0):
    """Four flat quadrants plus a little noise: the answer for k=4 is known."""
    rng = np.random.default_rng(seed)
    img = np.empty((h, w, 3), np.int16)
    img[: h // 2, : w // 2] = QUADRANT_COLORS[0]
    img[: h // 2, w // 2:] = QUADRANT_COLORS[1]
    img[h // 2:, : w // 2] = QUADRANT_COLORS[2]
    img[h // 2:, w // 2:] = QUADRANT_COLORS[3]
    img += rng.integers(-noise, noise + 1, img.shape, dtype=np.int16)
    return np.clip(img, 0, 255).astype(np.uint8)


def decode_png(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


@pytest.fixture
def client():
    with TestClient(create_app()) as c:
        yield c


def upload(client, data, name="quads.png"):
    r = client.post("/api/images", files={"file": (name, data, "image/png")})
    assert r.status_code == 200, r.text
    return r.json()


def assert_error(r, status, *fragments):
    """A JSON error: the given status, one line, no traceback, naming what went wrong."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"}
    message = body["error"]
    assert message and "\n" not in message and "Traceback" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def assert_still_serving(client):
    assert client.get("/api/info").status_code == 200
    info = upload(client, encoded(quadrants()))
    r = client.post("/api/segment", json={"id": info["id"], "k": 4})
    assert r.status_code == 200 and r.json()["k"] == 4


# ---- uploads and previews ---------------------------------------------------------------------


def test_upload_multipart_and_raw_body(client):
    img = quadrants()
    info = upload(client, encoded(img), "quads.png")
    assert (info["width"], info["height"], info["name"]) == (60, 40, "quads.png")
    assert info["n_colors"] == len(np.unique(img.reshape(-1, 3), axis=0))
    r = client.post("/api/images?name=raw.png", content=encoded(img),
                    headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 200 and r.json()["name"] == "raw.png"
    assert r.json()["id"] != info["id"]
    assert client.get(f"/api/images/{info['id']}").json()["width"] == 60


@pytest.mark.parametrize("k", [1, 2, 4, 6])
def test_segment_several_k(client, k):
    img = quadrants()
    info = upload(client, encoded(img))
    r = client.post("/api/segment", json={"id": info["id"], "k": k})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["k"] == k and len(out["colors"]) == k
    assert sum(c["count"] for c in out["colors"]) == img.shape[0] * img.shape[1]
    assert abs(sum(c["share"] for c in out["colors"]) - 1) < 1e-5
    expected = kmseg.segment(img, k)
    assert [c["rgb"] for c in out["colors"]] == expected.palette.tolist()
    assert out["inertia"] == pytest.approx(expected.inertia, rel=1e-12)
    labels = np.asarray(decode_png(client.get(out["downloads"]["labels.png"]).content))
    assert np.array_equal(labels, expected.labels)


def test_four_quadrants_found(client):
    info = upload(client, encoded(quadrants()))
    out = client.post("/api/segment", json={"id": info["id"], "k": 4}).json()
    assert [c["share"] for c in out["colors"]] == [0.25] * 4
    found = {tuple(c["rgb"]) for c in out["colors"]}
    for color in QUADRANT_COLORS:
        assert min(np.abs(np.subtract(f, color)).max() for f in found) <= 2
    labels = np.asarray(decode_png(client.get(out["downloads"]["labels.png"]).content))
    for block in (labels[:20, :30], labels[:20, 30:], labels[20:, :30], labels[20:, 30:]):
        assert len(np.unique(block)) == 1
    assert len(np.unique(labels)) == 4


def test_histogram_is_computed_once_per_upload(client, monkeypatch):
    from kmseg.histogram._histogram import ColorHistogram

    calls = []
    original = ColorHistogram.__init__

    def counting(self, pixels):
        calls.append(len(pixels))
        original(self, pixels)

    monkeypatch.setattr(ColorHistogram, "__init__", counting)
    info = upload(client, encoded(quadrants()))
    assert len(calls) == 1
    for k, space in [(2, None), (3, None), (5, "lab"), (4, "hsv"), (3, "gray"), ("auto", "rgb")]:
        r = client.post("/api/segment", json={"id": info["id"], "k": k, "color_space": space})
        assert r.status_code == 200, r.text
        client.get(r.json()["views"]["segmented"])
    client.get("/api/elbow", params={"id": info["id"], "color_space": "lab"})
    assert len(calls) == 1


def test_color_spaces_match_the_library(client):
    img = quadrants(seed=3)
    info = upload(client, encoded(img))
    for space in ("lab", "hsv", "gray"):
        out = client.post("/api/segment", json={"id": info["id"], "k": 3, "color_space": space}).json()
        expected = kmseg.segment(img, 3, color_space=space)
        assert out["color_space"] == out["working_space"] == space
        assert [c["count"] for c in out["colors"]] == expected.counts.tolist()
        assert out["inertia"] == pytest.approx(expected.inertia, rel=1e-12)


def test_auto_is_the_library_auto_and_the_elbow(client):
    img = quadrants(noise=3, seed=1)
    info = upload(client, encoded(img))
    out = client.post("/api/segment", json={"id": info["id"], "k": "auto"}).json()
    expected = kmseg.segment(img, "auto")
    assert out["k"] == expected.n_clusters == 4
    assert out["auto"]["k"] == 4 and out["auto"]["clear"] and out["k_requested"] == "auto"
    assert [c["count"] for c in out["colors"]] == expected.counts.tolist()
    curve = client.get("/api/elbow", params={"id": info["id"]}).json()
    assert curve["k"] == list(range(1, 11)) and curve["best_k"] == 4
    assert curve["wcss"] == pytest.approx(expected.elbow.wcss.tolist(), rel=1e-12)
    # after the sweep, a k of the sweep is built from its centres: the same result as a fresh fit
    for k in (2, 7):
        again = client.post("/api/segment", json={"id": info["id"], "k": k}).json()
        assert again["inertia"] == pytest.approx(kmseg.segment(img, k).inertia, rel=1e-12)


def test_more_k_than_colours_says_so(client):
    img = np.zeros((10, 10, 3), np.uint8)
    img[:, 5:] = 255
    info = upload(client, encoded(img))
    out = client.post("/api/segment", json={"id": info["id"], "k": 5}).json()
    assert out["k"] == 2
    assert any("2 distinct colours" in note for note in out["notes"])


def test_spatial_segments_are_connected(client):
    img = np.zeros((40, 40, 3), np.uint8)
    img[:, :10] = img[:, 30:] = (200, 30, 30)  # two red bands, apart: one colour, two segments
    info = upload(client, encoded(img))
    colour = client.post("/api/segment", json={"id": info["id"], "k": 2}).json()
    spatial = client.post("/api/segment", json={"id": info["id"], "k": 3, "spatial": True}).json()
    assert colour["method"] == "colour classes" and spatial["method"] == "connected segments"
    labels = np.asarray(decode_png(client.get(spatial["downloads"]["labels.png"]).content))
    assert labels.shape == (40, 40) and len(np.unique(labels)) == 3
    assert labels[0, 0] != labels[0, 39]  # the two red bands are two segments
    expected = kmseg.segment_regions(img, 3)
    assert np.array_equal(labels, expected.labels)


# ---- views and downloads -------------------------------------------------------------------------


def test_views_are_pngs_of_the_image_size(client):
    img = quadrants()
    info = upload(client, encoded(img))
    out = client.post("/api/segment", json={"id": info["id"], "k": 4}).json()
    seen = {}
    for name, url in out["views"].items():
        r = client.get(url)
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        im = decode_png(r.content)
        assert im.size == (60, 40) and im.mode == "RGB"
        seen[name] = np.asarray(im)
    assert np.array_equal(seen["original"], img)
    segmented = kmseg.segment(img, 4).recolor()
    assert np.array_equal(seen["segmented"], segmented)
    edges = np.any(seen["boundaries"] != img, axis=2)
    assert np.all(seen["boundaries"][edges] == (255, 255, 0))
    assert edges[:, 29].all() and edges[19, :].all() and edges.sum() == 40 + 60 - 1
    assert len(np.unique(seen["labels"].reshape(-1, 3), axis=0)) == 4
    r = client.get(f"/api/images/{info['id']}/view/highlight?{out['query']}&label=2")
    lit = np.asarray(decode_png(r.content))
    labels = kmseg.segment(img, 4).labels
    inside = (labels == 2) & ~np.any(lit == (255, 255, 0), axis=2)
    assert np.array_equal(lit[inside], img[inside])
    assert np.all(lit[labels != 2] <= img[labels != 2])
    assert_error(client.get(f"/api/images/{info['id']}/view/highlight?{out['query']}&label=9"), 400, "label=9")
    assert_error(client.get(f"/api/images/{info['id']}/view/nothing?{out['query']}"), 404, "view='nothing'")


def test_downloads(client):
    img = quadrants()
    info = upload(client, encoded(img), "my photo.png")
    out = client.post("/api/segment", json={"id": info["id"], "k": 3}).json()
    files = {name: client.get(url) for name, url in out["downloads"].items()}
    for name, r in files.items():
        assert r.status_code == 200, name
        stem, ext = name.split(".")
        assert r.headers["content-disposition"] == f'attachment; filename="my_photo_k3_{stem}.{ext}"'
    labels = decode_png(files["labels.png"].content)
    assert labels.mode == "L" and labels.size == (60, 40)
    assert set(np.unique(np.asarray(labels)).tolist()) == {0, 1, 2}
    recolor = decode_png(files["recolor.png"].content)
    assert recolor.mode == "RGB" and recolor.size == (60, 40)
    colours = np.unique(np.asarray(recolor).reshape(-1, 3), axis=0)
    assert sorted(map(tuple, colours.tolist())) == sorted(tuple(c["rgb"]) for c in out["colors"])
    record = json.loads(files["palette.json"].content)
    assert record["image"] == "my photo.png" and record["n_clusters"] == 3
    assert [c["hex"] for c in record["colors"]] == [c["hex"] for c in out["colors"]]
    css = files["palette.css"].text
    assert css.startswith(":root {") and css.count("--kmseg-") == 3
    assert out["colors"][0]["hex"] in css
    gpl = files["palette.gpl"].text.splitlines()
    assert gpl[:4] == ["GIMP Palette", "Name: my_photo", "Columns: 8", "#"] and len(gpl) == 4 + 3
    r, g, b = out["colors"][1]["rgb"]
    assert gpl[5].split()[:3] == [str(r), str(g), str(b)]


def test_grey_and_16_bit_uploads(client):
    grey16 = (np.linspace(0, 65535, 32 * 48).reshape(32, 48)).astype(np.uint16)
    info = upload(client, encoded(grey16), "deep.png")
    assert info["grey"] and info["color_space"] == "gray"
    out = client.post("/api/segment", json={"id": info["id"], "k": 3}).json()
    assert out["k"] == 3 and all(len(set(c["rgb"])) == 1 for c in out["colors"])
    original = decode_png(client.get(out["views"]["original"]).content)
    assert original.size == (48, 32) and original.mode == "RGB"
    labels = decode_png(client.get(out["downloads"]["labels.png"]).content)
    assert labels.size == (48, 32)


def test_transparent_pixels_have_their_own_label_in_views_and_downloads(client):
    img = np.dstack([quadrants(), np.full((40, 60), 255, np.uint8)])
    img[:10, :15, 3] = 0  # a transparent corner: left out of the clustering
    info = upload(client, encoded(img), "clear.png")
    out = client.post("/api/segment", json={"id": info["id"], "k": 3}).json()
    assert out["k"] == 3
    for name, url in out["views"].items():
        r = client.get(url)
        assert r.status_code == 200, (name, r.text)
        assert decode_png(r.content).size == (60, 40)
    labels_png = decode_png(client.get(out["downloads"]["labels.png"]).content)
    labels = np.asarray(labels_png)
    assert (labels[:10, :15] == 3).all() and labels[10:].max() < 3
    assert labels_png.info.get("transparency") == 3
    recolor = np.asarray(decode_png(client.get(out["downloads"]["recolor.png"]).content))
    assert recolor.shape == (40, 60, 4) and (recolor[:10, :15, 3] == 0).all()


def test_colour_16_bit_upload_downloads_at_16_bits(client):
    from kmseg.io._png import png_bytes

    rgb16 = (quadrants().astype(np.uint16) * 257)
    info = upload(client, png_bytes(rgb16), "deep.png")
    out = client.post("/api/segment", json={"id": info["id"], "k": 4}).json()
    for url in list(out["views"].values()) + [out["downloads"]["labels.png"]]:
        assert client.get(url).status_code == 200, url
    r = client.get(out["downloads"]["recolor.png"])
    assert r.status_code == 200, r.text
    from kmseg.io._png import read_png16

    painted = read_png16(r.content)
    assert painted.dtype == np.uint16 and painted.shape == (40, 60, 3)
    assert len(np.unique(painted.reshape(-1, 3), axis=0)) == 4


def test_sample_photo(client):
    r = client.post("/api/sample")
    assert r.status_code == 200
    info = r.json()
    assert (info["name"], info["width"], info["height"]) == ("china.jpg", 640, 427)


# ---- bad requests and hostile uploads --------------------------------------------------------------


def test_not_an_image(client):
    assert_error(client.post("/api/images", files={"file": ("notes.txt", b"just some text\n")}), 400,
                 "'notes.txt'", "not an image")
    assert_still_serving(client)


def test_truncated_and_empty_uploads(client):
    data = encoded(quadrants(noise=40))
    msg = assert_error(client.post("/api/images", files={"file": ("cut.png", data[: len(data) // 2])}), 400,
                       "'cut.png'")
    assert "truncated" in msg or "corrupt" in msg
    assert_error(client.post("/api/images", files={"file": ("empty.png", b"")}), 400, "empty upload")
    assert_error(client.post("/api/images", files={"other": ("x.png", data)}), 400, "no file")
    assert_error(client.post("/api/images", data={"file": "x"}), 400, "multipart field 'file'")
    assert_still_serving(client)


def test_decompression_bomb_header_is_refused(client):
    msg = assert_error(client.post("/api/images", files={"file": ("bomb.png", bomb_png(100_000, 100_000))}),
                       400, "100000x100000")
    assert msg == ("'bomb.png': too large: 100000x100000 = 10,000,000,000 pixels (10,000 megapixels), more than "
                   "this page accepts (25,000,000 pixels, 25 megapixels); use a smaller image, or start the page "
                   "with kmseg serve --max-pixels 10000000000")
    assert_still_serving(client)


def test_decompression_bomb_real_is_refused_from_its_header():
    data = zero_png(8000, 8000)  # 64 megapixels in a few tens of kB
    assert len(data) < 200_000
    with TestClient(create_app()) as c:
        msg = assert_error(c.post("/api/images", files={"file": ("zeros.png", data)}), 400,
                           "64,000,000 pixels (64 megapixels)", "this page accepts (25,000,000 pixels",
                           "kmseg serve --max-pixels 64000000")
        assert msg.startswith("'zeros.png': too large: 8000x8000") and "corrupt" not in msg
        assert_still_serving(c)
    with TestClient(create_app(max_pixels=10_000)) as c:
        assert_error(c.post("/api/images", files={"file": ("small.png", zero_png(200, 200))}), 400,
                     "40,000 pixels", "this page accepts (10,000 pixels, 0.01 megapixels)",
                     "kmseg serve --max-pixels 40000")
        assert_still_serving(c)


def test_page_messages_name_what_a_page_user_can_do(client):
    """The library tells a Python caller to use kmseg.set_config; the page tells its user
    to use a smaller image or to start the page with kmseg serve --max-pixels, and says k
    where the library says n_clusters. The library's own message is unchanged."""
    from kmseg.io import read_bytes

    with pytest.raises(kmseg.KmsegError, match=r"kmseg\.set_config\(max_pixels=\.\.\.\)"):
        with kmseg.config_context(max_pixels=10_000):
            read_bytes(zero_png(200, 200), "small.png")
    with TestClient(create_app(max_pixels=10_000)) as c:
        msg = assert_error(c.post("/api/images", files={"file": ("small.png", zero_png(200, 200))}), 400,
                           "use a smaller image")
    assert "set_config" not in msg and "max_pixels=" not in msg
    img = np.zeros((10, 10, 3), np.uint8)
    img[:, 5:] = 255
    info = upload(client, encoded(img))
    notes = client.post("/api/segment", json={"id": info["id"], "k": 5}).json()["notes"]
    assert notes == ["k=5 is more than the 2 distinct colours of 'quads.png' in rgb; using k=2"]
    with TestClient(create_app(max_bytes=1 << 20)) as c:
        msg = assert_error(c.post("/api/images", files={"file": ("big.png", os.urandom(3 << 20))}), 413,
                           "more than this page accepts, 1,048,576 bytes (1 MiB)", "use a smaller file",
                           "start the page with kmseg serve --max-upload-mb 4")


def test_fifty_megabytes_of_noise_get_413():
    noise = os.urandom(50 << 20)
    with TestClient(create_app()) as c:
        msg = assert_error(c.post("/api/images", files={"file": ("noise.png", noise)}), 413,
                           "upload too large", "33,554,432 bytes")
        assert "52,4" in msg  # the size it was sent
        assert_still_serving(c)


def test_upload_limit_with_and_without_content_length():
    with TestClient(create_app(max_bytes=100_000)) as c:
        big = os.urandom(200_000)
        assert_error(c.post("/api/images?name=a.bin", content=big,
                            headers={"Content-Type": "application/octet-stream"}), 413, "100,000 bytes")

        def chunks():  # no Content-Length: the server counts while it reads
            for i in range(0, len(big), 16_384):
                yield big[i:i + 16_384]

        assert_error(c.post("/api/images?name=b.bin", content=chunks(),
                            headers={"Content-Type": "application/octet-stream"}), 413, "upload too large")
        # a file just over the limit inside a form that fits the form's allowance
        assert_error(c.post("/api/images", files={"file": ("c.png", os.urandom(100_001))}), 413,
                     "100,001 bytes")
        assert_still_serving(c)


def test_bad_parameters(client):
    info = upload(client, encoded(quadrants()))
    i = info["id"]
    assert_error(client.post("/api/segment", json={"id": i, "k": 0}), 400, "k=0")
    assert_error(client.post("/api/segment", json={"id": i, "k": 999}), 400, "k=999", "256")
    assert_error(client.post("/api/segment", json={"id": i, "k": "many"}), 400, "k='many'")
    assert_error(client.post("/api/segment", json={"id": i, "k": 3, "color_space": "cmyk"}), 400,
                 "color_space='cmyk'")
    assert_error(client.post("/api/segment", json={"k": 3}), 422, "id")
    assert_error(client.post("/api/segment", content=b"{not json", headers={"Content-Type": "application/json"}),
                 422, "not valid JSON")
    assert_error(client.post("/api/segment", json={"id": i, "k": 2.5}), 422, "k.int: ")
    msg = assert_error(client.post("/api/segment", json={"id": "nope", "k": 3}), 404, "no upload with id 'nope'",
                       "keeps uploads only while it runs", "upload the image first")
    assert "expired" not in msg
    assert_error(client.get("/api/elbow", params={"id": i, "color_space": "xyz"}), 400, "color_space")
    assert_error(client.get(f"/api/images/{i}/download/secret.txt"), 404, "file='secret.txt'")
    assert_error(client.get(f"/api/images/{i}/view/segmented?k=abc"), 400, "k='abc'")
    assert_error(client.get("/no/such/page"), 404)
    assert_still_serving(client)


def test_old_uploads_expire_within_the_memory_budget():
    with TestClient(create_app(cache_mb=0.5)) as c:  # about four of these small uploads
        ids = [upload(c, encoded(quadrants(seed=s)))["id"] for s in range(8)]
        info = c.get("/api/info").json()
        assert info["cache_mb"] == 0.5 and 0 < info["cache_used_mb"] <= 0.5 and 2 <= info["images"] < 8
        for i in ids[:8 - info["images"]]:
            for r in (c.post("/api/segment", json={"id": i, "k": 2}), c.get(f"/api/images/{i}"),
                      c.get(f"/api/images/{i}/view/original"), c.get("/api/elbow", params={"id": i})):
                msg = assert_error(r, 404, f"upload '{i}' expired", "0.5 MiB of uploads", "upload it again",
                                   "kmseg serve --cache-mb")
                assert "no upload" not in msg
        for i in ids[8 - info["images"]:]:
            assert c.post("/api/segment", json={"id": i, "k": 2}).status_code == 200
        assert_error(c.get("/api/images/never-was"), 404, "no upload with id 'never-was'")


def test_internal_error_is_a_json_line(client, monkeypatch, caplog):
    from kmseg.web import _upload

    info = upload(client, encoded(quadrants()))

    def broken(self, *args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(_upload.Upload, "result", broken)
    with caplog.at_level("ERROR", logger="kmseg.web"):
        msg = assert_error(client.post("/api/segment", json={"id": info["id"], "k": 2}), 500, "RuntimeError")
    assert "a bug" not in msg  # details stay in the server log
    assert "a bug" in caplog.text
    monkeypatch.undo()
    assert_still_serving(client)


def test_openapi_documents_the_api(client):
    spec = client.get("/openapi.json").json()
    for path in ("/api/images", "/api/sample", "/api/segment", "/api/elbow",
                 "/api/images/{image_id}/view/{view}", "/api/images/{image_id}/download/{file}"):
        assert path in spec["paths"], path
    body = spec["paths"]["/api/images"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in body
    assert client.get("/docs").status_code == 200


def test_page_and_static_files(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for ref in ("/static/app.js", "/static/style.css"):
        assert ref in page.text
        assert client.get(ref).status_code == 200
    for element in ('id="k"', 'id="auto"', 'id="space"', 'id="spatial"', 'id="palette"', 'id="elbow"',
                    'data-file="labels.png"', 'data-file="palette.gpl"', 'id="error"', 'id="progress"'):
        assert element in page.text


def test_prepared_in_space_matches_a_fresh_prepare():
    from kmseg import prepare

    img = quadrants(noise=20)
    base = prepare(img)
    for space in ("lab", "hsv", "gray"):
        moved, fresh = base.in_space(space), prepare(img, space)
        assert moved.hist is base.hist and moved.space == space
        assert np.array_equal(moved.features, fresh.features)
        assert moved.n_distinct == fresh.n_distinct
    assert base.space == "rgb"


def test_create_app_validates_its_limits():
    with pytest.raises(kmseg.KmsegError, match="max_bytes=0"):
        create_app(max_bytes=0)
    with pytest.raises(kmseg.KmsegError, match="cache_mb=0 must be > 0"):
        create_app(cache_mb=0)
    with pytest.raises(kmseg.KmsegError, match="body_timeout_s=-1"):
        create_app(body_timeout_s=-1)


# ---- the command ---------------------------------------------------------------------------------


def test_serve_without_the_web_extra_says_how_to_install(monkeypatch, capsys):
    import importlib.util

    from kmseg import cli

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a))
    assert cli.main(["serve"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == 'kmseg: error: kmseg serve needs uvicorn: pip install uvicorn (or pip install ".[web]" in a clone of kmseg)'


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_command_serves_on_loopback():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "kmseg", "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/info", timeout=5) as r:
                    info = json.loads(r.read())
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"server did not start: {proc.communicate()}") from None
                time.sleep(0.3)
        assert info["max_bytes"] == 32 << 20 and info["max_pixels"] == 25_000_000
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert b"kmseg" in r.read()
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert f"serving on http://127.0.0.1:{port}/" in out
    assert "Traceback" not in err


def test_previews_while_a_sweep_runs(client):
    import threading

    img = quadrants(noise=12, seed=5)
    info = upload(client, encoded(img))
    curves = []
    sweep = threading.Thread(target=lambda: curves.append(client.get("/api/elbow", params={"id": info["id"]})))
    sweep.start()
    results = {k: client.post("/api/segment", json={"id": info["id"], "k": k}) for k in (3, 12, 5)}
    sweep.join()
    assert curves[0].status_code == 200
    assert curves[0].json()["wcss"] == pytest.approx(kmseg.elbow(img, range(1, 11)).wcss.tolist(), rel=1e-12)
    for k, r in results.items():
        assert r.status_code == 200
        assert r.json()["inertia"] == pytest.approx(kmseg.segment(img, k).inertia, rel=1e-12)


def test_cli_and_limits_do_not_load_the_framework():
    code = ("import sys, kmseg.cli, kmseg.web; kmseg.cli.build_parser(); "
            "print(','.join(m for m in ('fastapi', 'starlette', 'uvicorn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_serve_checks_the_cache_budget(capsys):
    from kmseg import cli

    assert cli.main(["serve", "--cache-mb", "0"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "kmseg: error: --cache-mb 0 must be in (0, 1073741824]"
    assert "--cache-mb MB" in cli.build_parser()._subparsers._group_actions[0].choices["serve"].format_help()


def test_spatial_mode_uses_cielab_whatever_the_colour_space_and_says_so(client):
    img = np.zeros((40, 40, 3), np.uint8)
    img[:, :10] = img[:, 30:] = (200, 30, 30)
    img[:20, 10:30] = (30, 160, 40)
    info = upload(client, encoded(img))
    plain = client.post("/api/segment", json={"id": info["id"], "k": 3, "spatial": True}).json()
    assert plain["working_space"] == "lab" and plain["notes"] == []
    for space in ("hsv", "rgb", "gray"):
        out = client.post("/api/segment", json={"id": info["id"], "k": 3, "spatial": True,
                                                "color_space": space}).json()
        assert out["working_space"] == "lab" and out["colors"] == plain["colors"]
        assert out["notes"] == [f"connected segments are always found in CIELAB: colour space '{space}' is used "
                                "by colour classes only"]
        labels = decode_png(client.get(out["downloads"]["labels.png"]).content)
        assert np.array_equal(np.asarray(labels), kmseg.segment_regions(img, 3).labels)
    lab = client.post("/api/segment", json={"id": info["id"], "k": 3, "spatial": True, "color_space": "lab"})
    assert lab.json()["notes"] == []


# ---- progress of long requests -----------------------------------------------------------------


def new_job(client):
    r = client.post("/api/jobs")
    assert r.status_code == 201, r.text
    record = r.json()
    assert record["state"] == "new" and record["stages"] == [] and record["error"] is None
    return record["id"]


def stages_of(client, job):
    record = client.get(f"/api/jobs/{job}").json()
    return record, [(s["name"], s["state"]) for s in record["stages"]]


def test_jobs_record_the_stages_of_uploads_and_segmentations(client):
    img = quadrants()
    job = new_job(client)
    info = client.post(f"/api/images?job={job}", files={"file": ("q.png", encoded(img))}).json()
    record, stages = stages_of(client, job)
    assert record["state"] == "done" and record["stage"] is None and record["error"] is None
    assert stages == [("receiving", "done"), ("decoding", "done"), ("counting colours", "done")]
    assert record["stages"][0]["fraction"] == 1.0  # the body's length was known
    assert record["stages"][1]["fraction"] is None and all(s["seconds"] >= 0 for s in record["stages"])
    assert (info["width"], info["height"]) == (60, 40)

    def segment(job, **settings):
        r = client.post("/api/segment", json={"id": info["id"], "job": job, **settings})
        assert r.status_code == 200, r.text
        return r.json()

    expected = [
        ({"k": 3}, [("fitting", "done")]),
        ({"k": 3}, []),  # a result kept: nothing to do
        ({"k": "auto"}, [("elbow sweep", "done"), ("fitting", "done")]),
        ({"k": "auto"}, [("elbow sweep", "done")]),  # the sweep and its k kept
        ({"k": 3, "spatial": True}, [("superpixels and merges", "done"), ("cutting", "done")]),
        ({"k": 2, "spatial": True}, [("cutting", "done")]),  # one merge tree per upload
    ]
    for settings, want in expected:
        job = new_job(client)
        out = segment(job, **settings)
        record, stages = stages_of(client, job)
        assert (record["state"], stages) == ("done", want), settings
    assert out["k"] == 2 and out["method"] == "connected segments"
    # the record changes nothing of the answer
    job = new_job(client)
    assert segment(job, k=5)["colors"] == client.post("/api/segment", json={"id": info["id"], "k": 5}).json()["colors"]

    job = new_job(client)
    assert client.post(f"/api/sample?job={job}").status_code == 200
    assert stages_of(client, job)[1] == [("decoding", "done"), ("counting colours", "done")]


def test_a_failed_request_marks_its_stage_and_a_raw_body_of_unknown_length_no_fraction(client):
    job = new_job(client)
    message = assert_error(client.post(f"/api/images?job={job}", files={"file": ("notes.txt", b"some text\n")}),
                           400, "not an image")
    record, stages = stages_of(client, job)
    assert record["state"] == "failed" and record["error"] == message
    assert stages == [("receiving", "done"), ("decoding", "failed"), ("counting colours", "skipped")]

    job = new_job(client)
    info = upload(client, encoded(quadrants()))
    assert_error(client.post("/api/segment", json={"id": info["id"], "k": 0, "job": job}), 400, "k=0")
    assert stages_of(client, job)[0]["state"] == "failed"

    data = encoded(quadrants())
    job = new_job(client)
    chunks = (data[i:i + 500] for i in range(0, len(data), 500))  # no Content-Length: no fraction to tell
    r = client.post(f"/api/images?name=raw.png&job={job}", content=chunks,
                    headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 200, r.text
    record, stages = stages_of(client, job)
    assert stages[0] == ("receiving", "done") and record["stages"][0]["fraction"] is None


def test_unknown_job_ids_are_ignored_by_the_work_and_404_when_read(client):
    info = upload(client, encoded(quadrants()))
    r = client.post("/api/segment", json={"id": info["id"], "k": 2, "job": "never-made"})
    assert r.status_code == 200 and r.json()["k"] == 2
    r = client.post("/api/images?job=never-made", files={"file": ("q.png", encoded(quadrants()))})
    assert r.status_code == 200
    assert_error(client.get("/api/jobs/never-made"), 404, "no progress record with id 'never-made'",
                 "POST /api/jobs")


def test_only_the_last_records_are_kept():
    from kmseg.web._limits import MAX_JOBS

    with TestClient(create_app()) as c:
        first = new_job(c)
        for _ in range(MAX_JOBS - 1):
            new_job(c)
        assert c.get(f"/api/jobs/{first}").status_code == 200
        new_job(c)
        assert_error(c.get(f"/api/jobs/{first}"), 404, f"the last {MAX_JOBS}")


def test_a_job_tells_its_stage_while_it_runs_and_its_wait(client, monkeypatch):
    """Read while the request runs: a slow fit is seen as the running 'fitting' stage,
    and a second request behind it as waiting for the computation."""
    import threading

    from kmseg.web import _upload

    release = threading.Event()
    original = _upload.Upload._colors

    def held(self, *args):
        assert release.wait(30)
        return original(self, *args)

    monkeypatch.setattr(_upload.Upload, "_colors", held)
    info = upload(client, encoded(quadrants()))
    first, second = new_job(client), new_job(client)
    answers = {}
    workers = [threading.Thread(target=lambda job=job, k=k: answers.__setitem__(job, client.post(
        "/api/segment", json={"id": info["id"], "k": k, "job": job}))) for job, k in ((first, 3), (second, 4))]
    workers[0].start()

    def wait_for(job, check):
        deadline = time.monotonic() + 30
        while True:
            record = client.get(f"/api/jobs/{job}").json()
            if check(record):
                return record
            assert time.monotonic() < deadline, record
            time.sleep(0.02)

    running = wait_for(first, lambda r: r["stage"] == "fitting")
    assert running["state"] == "running" and running["stages"][0]["state"] == "running"
    workers[1].start()
    waiting = wait_for(second, lambda r: r["state"] == "waiting")
    assert waiting["waiting_for"] == "the computation" and waiting["stages"] == []
    time.sleep(0.1)
    later = client.get(f"/api/jobs/{first}").json()
    assert later["stage"] == "fitting" and later["stages"][0]["seconds"] > running["stages"][0]["seconds"]
    release.set()
    for worker in workers:
        worker.join(60)
    assert answers[first].status_code == answers[second].status_code == 200
    for job in (first, second):
        record, stages = stages_of(client, job)
        assert record["state"] == "done" and stages == [("fitting", "done")]
