"""The FastAPI application behind ``kmseg serve``: a JSON API and the page.

Every error reaches the client as ``{"error": "one line"}`` with a 4xx status
(500 for a bug, whose traceback goes to the server log only).
"""

import asyncio
import contextlib
import logging
import os
import threading
from typing import Optional, Union
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__, config_context
from .. import _validation as v
from ..io import label_png, palette_record, thread_warnings
from ._limits import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_IMAGES,
    DEFAULT_MAX_PIXELS,
    DEFAULT_MAX_RESULTS,
    MAX_CONCURRENT_UPLOADS,
)
from ._upload import ELBOW_K_MAX, MAX_K, ImageStore, Upload, read_upload

#: Bytes a multipart form may add around its file.
_FORM_OVERHEAD = 64 << 10

STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
VIEWS = ("original", "segmented", "boundaries", "labels", "highlight")
DOWNLOADS = {
    "labels.png": "image/png",
    "recolor.png": "image/png",
    "palette.json": "application/json",
    "palette.css": "text/css; charset=utf-8",
    "palette.gpl": "text/plain; charset=utf-8",
}

log = logging.getLogger("kmseg.web")


class ApiError(Exception):
    """An error for the client: an HTTP status and one line."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = " ".join(str(message).split())


class SegmentRequest(BaseModel):
    """Settings of one preview."""

    id: str = Field(description="the id returned by POST /api/images or /api/sample")
    k: Union[int, str] = Field(8, description=f"number of colours 1..{MAX_K}, or 'auto' (the elbow's knee)")
    color_space: Optional[str] = Field(None, description="'rgb', 'lab', 'hsv' or 'gray'; default: the image's")
    spatial: bool = Field(False, description="connected segments (superpixels merged) instead of colour classes")


def _error(status, message):
    return JSONResponse({"error": " ".join(str(message).split())}, status_code=status)


def _megabytes(n):
    return f"{n / (1 << 20):.3g} MiB"


def create_app(*, max_bytes=DEFAULT_MAX_BYTES, max_pixels=DEFAULT_MAX_PIXELS,
               max_images=DEFAULT_MAX_IMAGES, max_results=DEFAULT_MAX_RESULTS, n_threads=None):
    """The web application: the page at ``/``, the JSON API under ``/api``.

    Parameters
    ----------
    max_bytes : int, default=32 MiB
        Largest upload accepted, in bytes; larger ones get HTTP 413 before they
        are decoded.
    max_pixels : int, default=25,000,000
        Largest image decoded, in pixels, checked from the file's header
        (decompression bombs are refused before any pixel is allocated).
    max_images : int, default=4
        Uploads kept in memory, each with its colour histogram.
    max_results : int, default=8
        Results kept per upload (one per setting of k, colour space, spatial).
    n_threads : int or None, default=None
        Threads of the clustering kernels; None uses all cores.

    Returns
    -------
    fastapi.FastAPI
        Serve it with ``uvicorn.run(app)``; its OpenAPI page is ``/docs``.

    Examples
    --------
    >>> from fastapi.testclient import TestClient
    >>> from kmseg.web import create_app
    >>> client = TestClient(create_app())
    >>> client.get("/api/info").json()["max_k"]
    256
    """
    max_bytes = v.check_int("max_bytes", max_bytes)
    max_pixels = v.check_int("max_pixels", max_pixels)
    max_results = v.check_int("max_results", max_results, minimum=0)
    n_threads = v.resolve_n_threads(n_threads)
    store = ImageStore(v.check_int("max_images", max_images))
    # One computation on images at a time: bounded memory, the kernels' threads in full use.
    # Elbow sweeps work on the small colour histogram only: they run beside it, so a
    # slider move need not wait for a sweep (OpenMP takes kernels launched from two
    # threads at once, each with its own team).
    busy = threading.Lock()
    sweeping = threading.Lock()

    app = FastAPI(
        title="kmseg", version=__version__,
        description="Exact k-means image segmentation and colour quantization. Upload an image once "
        "(POST /api/images), then ask for any k (POST /api/segment): each request re-clusters the "
        "image's colour histogram, never its pixels. Errors are JSON: {\"error\": \"one line\"}.",
    )
    app.state.store = store

    @app.exception_handler(ApiError)
    async def _api_error(request, exc):
        return _error(exc.status, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request, exc):
        return _error(exc.status_code, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request, exc):
        parts = []
        for e in exc.errors():
            if e.get("type") == "json_invalid":
                parts.append("the request body is not valid JSON")
                continue
            where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path"))
            parts.append(f"{where}: {e.get('msg', 'invalid')}" if where else str(e.get("msg", "invalid")))
        return _error(422, "; ".join(parts) or "invalid request")

    def compute(fn, *args, lock=busy):
        """Run ``fn`` holding ``lock``; kmseg errors become 400, anything else 500 (logged).
        Returns its value and the warnings it gave in this thread (recorded only under
        ``busy``: an elbow sweep beside it passes its warnings on to the log)."""
        record = lock is busy
        with lock, (thread_warnings(kmseg_warnings=True) if record else contextlib.nullcontext()) as caught:
            try:
                value = fn(*args)
            except ApiError:
                raise
            except v.KmsegError as exc:
                raise ApiError(400, str(exc)) from None
            except MemoryError:
                raise ApiError(413, "the image is too large for the memory available") from None
            except Exception as exc:
                log.exception("kmseg web: internal error")
                raise ApiError(500, f"internal error ({type(exc).__name__}); the server log has "
                               "the details") from None
        return value, [str(message) for message in caught or ()]

    def upload_of(image_id):
        upload = store.get(image_id)
        if upload is None:
            raise ApiError(404, f"no image with id {image_id!r}: the server keeps the last "
                           f"{store.max_images} uploads; upload it again")
        return upload

    def add(name, load):
        def work():
            with config_context(max_pixels=max_pixels):
                image = load()
            return Upload(name, image, n_threads, max_results)

        upload, _ = compute(work)
        image_id = store.add(upload)
        return {"id": image_id, **upload.info()}

    # ---- the page -------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(os.path.join(STATIC_DIR, "index.html"), media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # ---- the API ---------------------------------------------------------------------------

    @app.get("/api/info", summary="Limits and options of this server")
    def info():
        return {"version": __version__, "max_bytes": max_bytes, "max_pixels": max_pixels,
                "max_k": MAX_K, "elbow_k_max": ELBOW_K_MAX, "color_spaces": list(v.COLOR_SPACES),
                "images": len(store)}

    upload_body = {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {"schema": {
                    "type": "object", "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}}}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }

    upload_gate = asyncio.Semaphore(MAX_CONCURRENT_UPLOADS)

    @app.post("/api/images", summary="Upload an image (decoded once, its colour histogram kept)",
              openapi_extra=upload_body)
    async def upload(request: Request, name: Optional[str] = None):
        """Send the file as multipart field ``file``, or as the raw body (``?name=`` names it).
        Returns the image's ``id`` and size."""
        async with upload_gate:  # bodies read one or two at a time: bounded memory
            data, name = await _receive(request, name, max_bytes)
            return await run_in_threadpool(add, name, lambda: read_upload(data, name))

    @app.post("/api/sample", summary="Use the sample photo (scikit-learn's china.jpg)")
    def sample():
        def load():
            from sklearn.datasets import load_sample_image

            return load_sample_image("china.jpg")

        return add("china.jpg", load)

    @app.get("/api/images/{image_id}", summary="Size and colours of an uploaded image")
    def image_info(image_id: str):
        return {"id": image_id, **upload_of(image_id).info()}

    @app.post("/api/segment", summary="Segment an uploaded image with k colours (or k='auto')")
    def segment(req: SegmentRequest):
        upload = upload_of(req.id)
        result, notes = compute(upload.result, req.k, req.color_space, req.spatial)
        return _segment_json(req.id, upload, req.k, result, notes)

    @app.get("/api/elbow", summary="WCSS against k and the chosen k (the knee)")
    def elbow(id: str, color_space: Optional[str] = None):
        upload = upload_of(id)
        curve, _ = compute(upload.elbow, color_space, lock=sweeping)
        return {"id": id, "color_space": curve.color_space, "k": curve.k.tolist(),
                "wcss": [float(x) for x in curve.wcss], "best_k": int(curve.best_k),
                "clear": bool(curve.knee.clear), "strength": float(curve.knee.strength),
                "reason": curve.knee.reason, "seconds": float(curve.seconds)}

    @app.get("/api/images/{image_id}/view/{view}", summary="A view of the image, as PNG",
             response_class=Response, responses={200: {"content": {"image/png": {}}}})
    def view(image_id: str, view: str, k: str = "8", color_space: Optional[str] = None,
             spatial: bool = False, label: Optional[int] = None):
        from . import _pictures as pic

        upload = upload_of(image_id)
        if view not in VIEWS:
            raise ApiError(404, f"view={view!r} must be one of {', '.join(VIEWS)}")

        def draw():
            if view == "original":
                return upload.original_png()
            seg = upload.result(k, color_space, spatial).seg
            if view == "segmented":
                return pic.png_bytes(pic.display_rgb(seg.recolor()))
            if view == "boundaries":
                return pic.png_bytes(pic.boundaries(upload.display(), seg.labels))
            if view == "labels":
                return pic.png_bytes(pic.label_view(seg.labels, seg.n_clusters))
            if label is None or not 0 <= label < seg.n_clusters:
                raise ApiError(400, f"label={label} must be in [0, {seg.n_clusters - 1}] for highlight")
            return pic.png_bytes(pic.highlight(upload.display(), seg.labels, label))

        png, _ = compute(draw)
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=600"})

    @app.get("/api/images/{image_id}/download/{file}", summary="A result file to download",
             response_class=Response)
    def download(image_id: str, file: str, k: str = "8", color_space: Optional[str] = None,
                 spatial: bool = False):
        from . import _pictures as pic

        upload = upload_of(image_id)
        if file not in DOWNLOADS:
            raise ApiError(404, f"file={file!r} must be one of {', '.join(DOWNLOADS)}")

        def make():
            seg = upload.result(k, color_space, spatial).seg
            if file == "labels.png":
                left_out = seg.n_clusters if seg.mask is not None else None  # marked transparent
                body = label_png(seg.labels, seg.n_clusters, left_out)
            elif file == "recolor.png":
                body = pic.png_bytes(seg.recolor(), compress_level=6)
            else:
                body = pic.palette_file(seg, file.split(".")[1], upload.name, upload.stem).encode()
            return body, seg.n_clusters

        (body, n_clusters), _ = compute(make)
        filename = f"{upload.stem}_k{n_clusters}{'_spatial' if spatial else ''}_{file}"
        return Response(body, media_type=DOWNLOADS[file],
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    return app


async def _receive(request, name, max_bytes):
    """The uploaded file's bytes and name, read up to the limit (413 past it)."""
    limit = max_bytes + _FORM_OVERHEAD
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise ApiError(413, _too_large(int(length), max_bytes))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, _too_large(None, max_bytes))
        chunks.append(chunk)
    body = b"".join(chunks)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        body, name = await _form_file(request, body)
    elif content_type.startswith("application/x-www-form-urlencoded"):
        raise ApiError(400, "send the image as the multipart field 'file', or as the raw request body")
    name = name or "upload"
    if len(body) > max_bytes:
        raise ApiError(413, _too_large(len(body), max_bytes))
    if not body:
        raise ApiError(400, f"{name!r}: empty upload")
    return body, name


async def _form_file(request, body):
    """The file of a multipart form already read into ``body``."""
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, receive).form(max_files=1, max_fields=16)
    except Exception as exc:
        reason = getattr(exc, "detail", None) or str(exc) or type(exc).__name__
        raise ApiError(400, f"cannot read the upload form ({reason})") from None
    try:
        item = form.get("file")
        if item is None or isinstance(item, str):
            raise ApiError(400, "the upload form has no file in its 'file' field")
        return await item.read(), item.filename
    finally:
        await form.close()


def _too_large(size, max_bytes):
    what = f"{size:,} bytes ({_megabytes(size)}), more" if size is not None else "more"
    return (f"upload too large: {what} than the limit of {max_bytes:,} bytes ({_megabytes(max_bytes)}); "
            "start the server with a larger --max-upload-mb to accept it")


def _segment_json(image_id, upload, k_requested, result, notes):
    seg = result.seg
    record = palette_record(seg, upload.name)
    query = urlencode({"k": result.k, "color_space": result.space, "spatial": int(result.spatial)})
    base = f"/api/images/{image_id}"
    out = {
        "id": image_id,
        "k": int(seg.n_clusters),
        "k_requested": k_requested,
        "color_space": result.space,
        "spatial": result.spatial,
        "method": "connected segments" if result.spatial else "colour classes",
        "seconds": round(result.seconds, 4),
        "auto": None if result.knee is None else {
            "k": int(result.knee.k), "clear": bool(result.knee.clear), "reason": result.knee.reason},
        "notes": ([result.note] if result.note else []) + notes,
        "query": query,
        "views": {name: f"{base}/view/{name}" + ("" if name == "original" else f"?{query}")
                  for name in VIEWS if name != "highlight"},
        "downloads": {name: f"{base}/download/{name}?{query}" for name in DOWNLOADS},
    }
    out.update({key: record[key] for key in ("width", "height", "inertia", "n_iter", "colors")})
    out["working_space"] = record["color_space"]
    return out
