"""The FastAPI application behind ``kmseg serve``: a JSON API and the page.

Every error reaches the client as ``{"error": "one line"}`` with a 4xx status,
503 (with ``Retry-After``) when the server is too busy to queue the request, and
500 for a bug, whose traceback goes to the server log only.

Work is bounded: one computation on images at a time (elbow sweeps beside it),
a few upload bodies read at once, a short queue for each (503 past it), a time
limit on receiving a body (408), a size limit on every body (413), and uploads
kept within a memory budget.

Long requests (an upload, a segmentation) may name a progress record
(``POST /api/jobs``), where they note their stages as they go: the page reads it
(``GET /api/jobs/{id}``) while it waits for the answer. Messages are worded for
the page's user (see ``_messages``): what to change, or which option of
``kmseg serve`` to start it with.
"""

import asyncio
import contextlib
import logging
import os
from typing import List, Literal, Optional, Union
from urllib.parse import urlencode

from fastapi import FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from .. import __version__, config_context
from .. import _validation as v
from ..io import label_png, palette_record, thread_warnings
from . import _messages as say
from ._gate import Busy, Gate
from ._jobs import JobRecords
from ._limits import (
    BODY_IDLE_S,
    DEFAULT_BODY_TIMEOUT_S,
    DEFAULT_CACHE_MB,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
    DEFAULT_MAX_RESULTS,
    DEFAULT_MAX_WAITING,
    DEFAULT_WAIT_S,
    MAX_CONCURRENT_UPLOADS,
    MAX_JOBS,
    MAX_SMALL_BODY,
)
from ._store import ImageStore
from ._upload import ELBOW_K_MAX, MAX_K, Upload, clean_name, parse_k, read_upload

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


class ErrorBody(BaseModel):
    """What every error answers."""

    error: str = Field(description="what went wrong, in one line")


_STATUS_TEXT = {
    400: "a bad parameter, or a file that is not an image kmseg can read",
    404: "no such upload (never uploaded, or expired: dropped to make room), view, file or progress record",
    408: "the upload did not arrive in time",
    413: "the body or the image is too large",
    422: "a parameter of the wrong type, or a body that is not valid JSON",
    503: "the server is busy: retry after Retry-After seconds",
}


def _errors(*statuses):
    """OpenAPI ``responses`` for these error statuses: each a one-line JSON error."""
    out = {}
    for status in statuses:
        out[status] = {"model": ErrorBody, "description": _STATUS_TEXT[status]}
        if status == 503:
            out[status]["headers"] = {"Retry-After": {"description": "seconds to wait",
                                                      "schema": {"type": "integer"}}}
    return out


class SegmentRequest(BaseModel):
    """Settings of one preview; types are strict (``"spatial": 0`` is refused, not taken
    for false), so that what the schema says is what the server accepts."""

    model_config = ConfigDict(strict=True)

    id: str = Field(description="the id returned by POST /api/images or /api/sample")
    k: Union[int, str] = Field(8, description=f"number of colours 1..{MAX_K}, or 'auto' (the elbow's knee)")
    color_space: Optional[str] = Field(None, description="'rgb', 'lab', 'hsv' or 'gray'; default: the image's")
    spatial: bool = Field(False, description="connected segments (superpixels merged, always in CIELAB) instead "
                          "of colour classes")
    job: Optional[str] = Field(None, description="the id of a progress record (POST /api/jobs) to note this "
                               "request's stages in; an id not kept (any more) is ignored")


class StageRecord(BaseModel):
    """One stage of a request."""

    name: str = Field(description="'receiving', 'decoding', 'counting colours', 'elbow sweep', 'fitting', "
                      "'superpixels and merges' or 'cutting'")
    state: Literal["pending", "running", "done", "failed", "skipped"] = Field(
        description="'failed': the request's error came from this stage; 'skipped': it was not needed")
    seconds: Optional[float] = Field(description="how long it took, or has taken so far; null before it starts")
    fraction: Optional[float] = Field(description="the part of it done, where known (the bytes of an upload "
                                      "received); else null")


class JobRecord(BaseModel):
    """Where a request is: waiting for its turn, or in which stage."""

    id: str
    state: Literal["new", "waiting", "running", "done", "failed"] = Field(
        description="'new': no request has named it yet")
    waiting_for: Optional[str] = Field(description="what a waiting request waits for")
    stage: Optional[str] = Field(description="the stage running now")
    stages: List[StageRecord] = Field(description="planned, running and finished stages, in order")
    error: Optional[str] = Field(description="the error the request answered, if it failed")


def _error(status, message, headers=None):
    return JSONResponse({"error": " ".join(str(message).split())}, status_code=status, headers=headers)


def _shown(text, limit=40):
    """``repr(text)`` for a message, cut to ``limit`` characters: a client's id or name."""
    shown = repr(text)
    return shown if len(shown) <= limit else shown[:limit - 4] + "...'"


class _BodyLimit:
    """ASGI middleware: bodies other than uploads of at most ``limit`` bytes (413 past it)."""

    def __init__(self, app, limit):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or (scope["path"] == "/api/images" and scope["method"] == "POST"):
            return await self.app(scope, receive, send)
        message = f"request body too large: more than {self.limit:,} bytes"
        length = dict(scope.get("headers", ())).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            return await _error(413, message)(scope, receive, send)
        received = 0

        async def limited():
            nonlocal received
            event = await receive()
            if event["type"] == "http.request":
                received += len(event.get("body", b""))
                if received > self.limit:
                    raise StarletteHTTPException(413, message)
            return event

        await self.app(scope, limited, send)


def create_app(*, max_bytes=DEFAULT_MAX_BYTES, max_pixels=DEFAULT_MAX_PIXELS, cache_mb=DEFAULT_CACHE_MB,
               max_results=DEFAULT_MAX_RESULTS, n_threads=None, max_waiting=DEFAULT_MAX_WAITING,
               wait_s=DEFAULT_WAIT_S, body_timeout_s=DEFAULT_BODY_TIMEOUT_S):
    """The web application: the page at ``/``, the JSON API under ``/api``.

    Parameters
    ----------
    max_bytes : int, default=32 MiB
        Largest upload accepted, in bytes; larger ones get HTTP 413 before they
        are decoded.
    max_pixels : int, default=25,000,000
        Largest image decoded, in pixels, checked from the file's header
        (decompression bombs are refused before any pixel is allocated).
    cache_mb : float, default=256
        Memory for the uploads kept (each image with its colour histogram and
        results), in MiB; the least recently used are dropped first, and a
        request for a dropped one gets 404 saying that it expired.
    max_results : int, default=8
        Results kept per upload (one per setting of k, colour space, spatial).
    n_threads : int or None, default=None
        Threads of the clustering kernels; None uses all cores.
    max_waiting : int, default=32
        Requests that may wait for the computation (and as many for an upload
        slot); more get 503 with ``Retry-After`` at once.
    wait_s : float, default=60
        Longest wait in that queue, in seconds, before a 503.
    body_timeout_s : float, default=60
        An upload's body must arrive within this many seconds, with no pause
        longer than 15 s (408 otherwise): a slow client cannot hold an upload
        slot for long.

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
    max_waiting = v.check_int("max_waiting", max_waiting, minimum=0)
    wait_s = v.check_number("wait_s", wait_s)
    for name, value in (("cache_mb", cache_mb), ("body_timeout_s", body_timeout_s)):
        if v.check_number(name, value) == 0:
            raise v.KmsegError(f"{name}={value} must be > 0")
    store = ImageStore(int(cache_mb * (1 << 20)))
    jobs = JobRecords(MAX_JOBS)
    # One computation on images at a time: bounded memory, the kernels' threads in full use.
    # Elbow sweeps work on the small colour histogram only: they run beside it, so a
    # slider move need not wait for a sweep (OpenMP takes kernels launched from two
    # threads at once, each with its own team). Requests wait in the event loop, holding
    # no thread: the light ones (info, the page) are never stuck behind them.
    busy = Gate("the computation", 1, max_waiting, wait_s)
    sweeping = Gate("an elbow sweep", 1, max_waiting, wait_s)
    # Upload bodies read at once: memory holds at most this many.
    reading = Gate("an upload slot", MAX_CONCURRENT_UPLOADS, max_waiting, wait_s)

    app = FastAPI(
        title="kmseg", version=__version__,
        description="Exact k-means image segmentation and colour quantization. Upload an image once "
        "(POST /api/images), then ask for any k (POST /api/segment): each request re-clusters the "
        "image's colour histogram, never its pixels. Errors are JSON: {\"error\": \"one line\"}.",
    )
    app.state.store = store
    app.state.jobs = jobs
    app.add_middleware(_BodyLimit, limit=MAX_SMALL_BODY)

    @app.exception_handler(Busy)
    async def _busy(request, exc):
        return _error(503, exc.message, {"Retry-After": str(exc.retry_after)})

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

    def run(fn, record, key):
        """``fn()`` in a worker thread; kmseg errors become 400, anything else 500 (logged).
        Returns its value and the warnings it gave in this thread (recorded only under
        ``busy``: an elbow sweep beside it passes its warnings on to the log)."""
        with (thread_warnings(kmseg_warnings=True) if record else contextlib.nullcontext()) as caught:
            try:
                value = fn()
            except ApiError:
                raise
            except v.KmsegError as exc:
                raise ApiError(400, str(exc)) from None
            except MemoryError:
                raise ApiError(413, "the image is too large for the memory this server has: use a smaller "
                               "image") from None
            except Exception as exc:
                log.exception("kmseg web: internal error")
                raise ApiError(500, f"internal error ({type(exc).__name__}); the server log has "
                               "the details") from None
            finally:
                if key is not None:
                    store.recount(key)  # its results grew: within the budget again
        return value, [str(message) for message in caught or ()]

    async def compute(fn, key=None, gate=busy, job=None):
        """``fn()`` in the thread pool once ``gate`` lets it in (503 if the queue is full);
        ``job`` notes the wait."""
        if job is not None:
            job.wait(gate.what)
        async with gate:
            return await run_in_threadpool(run, fn, gate is busy, key)

    @contextlib.contextmanager
    def tracked(job_id, plan=()):
        """The progress record a request names (one that records nothing if none is
        kept): started with ``plan``, finished with the request's outcome."""
        job = jobs.of(job_id)
        job.start(plan)
        try:
            yield job
        except (ApiError, Busy) as exc:
            job.finish(exc.message)
            raise
        except BaseException:
            job.finish("the request did not finish")
            raise
        else:
            job.finish()

    def upload_of(image_id):
        upload = store.get(image_id)
        if upload is not None:
            return upload
        if store.expired(image_id):
            raise ApiError(404, f"upload {_shown(image_id)} expired: dropped to make room (the server keeps "
                           f"{say.mebibytes(store.budget)} of uploads, least recently used dropped first); "
                           "upload it again, or start the page with a larger kmseg serve --cache-mb")
        raise ApiError(404, f"no upload with id {_shown(image_id)}: the server keeps uploads only while it "
                       "runs; upload the image first (ids come from POST /api/images or /api/sample)")

    def settings(k, color_space):
        """The request's settings, checked once, before any work is queued (400 if bad)."""
        try:
            k = parse_k(k)
            if color_space is not None:
                color_space = v.check_choice("color_space", color_space, v.COLOR_SPACES)
        except v.KmsegError as exc:
            raise ApiError(400, str(exc)) from None
        return k, color_space

    async def add(name, load, job):
        def work():
            job.stage("decoding")
            try:
                with config_context(max_pixels=max_pixels):
                    image = load()
            except v.KmsegError as exc:
                raise ApiError(400, say.image_error(str(exc), max_pixels)) from None
            job.stage("counting colours")
            upload = Upload(name, image, n_threads, max_results)
            info = upload.info()  # counts the colour histogram here, in the worker
            return {"id": store.add(upload), **info}

        out, _ = await compute(work, job=job)
        return out

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
                "images": len(store), "cache_mb": store.budget / (1 << 20),
                "cache_used_mb": round(store.used / (1 << 20), 3),
                "waiting": busy.waiting + sweeping.waiting + reading.waiting}

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

    @app.post("/api/images", summary="Upload an image (decoded once, its colour histogram kept)",
              openapi_extra=upload_body, responses=_errors(400, 408, 413, 422, 503))
    async def upload(request: Request, name: Optional[str] = None, job: Optional[str] = None):
        """Send the file as multipart field ``file``, or as the raw body (``?name=`` names it).
        Returns the image's ``id`` (random, unguessable) and size. The name only names the
        upload in messages and downloads; nothing is written to disk. ``?job=`` names a
        progress record (POST /api/jobs): stages 'receiving' (with the fraction of the
        body received, when its length is known), 'decoding', 'counting colours'."""
        with tracked(job, ("receiving", "decoding", "counting colours")) as record:
            record.wait(reading.what)
            async with reading:  # a few bodies at a time: bounded memory
                record.stage("receiving")
                data, name = await _receive(request, name, max_bytes, body_timeout_s, record.progress)
                return await add(name, lambda: read_upload(data, name), record)

    @app.post("/api/sample", summary="Use the sample photo (scikit-learn's china.jpg)",
              responses=_errors(503))
    async def sample(job: Optional[str] = None):
        """``?job=`` names a progress record: stages 'decoding', 'counting colours'."""
        def load():
            from sklearn.datasets import load_sample_image

            return load_sample_image("china.jpg")

        with tracked(job, ("decoding", "counting colours")) as record:
            return await add("china.jpg", load, record)

    @app.get("/api/images/{image_id}", summary="Size and colours of an uploaded image",
             responses=_errors(404))
    def image_info(image_id: str):
        return {"id": image_id, **upload_of(image_id).info()}

    @app.post("/api/segment", summary="Segment an uploaded image with k colours (or k='auto')",
              responses=_errors(400, 404, 413, 422, 503))
    async def segment(req: SegmentRequest):
        """``job`` names a progress record: stages 'elbow sweep' (k='auto'), then 'fitting',
        or for connected segments 'superpixels and merges' (once per upload) and 'cutting'."""
        with tracked(req.job) as job:
            k, space = settings(req.k, req.color_space)
            upload = upload_of(req.id)

            def work():
                job.plan(upload.plan(k, space, req.spatial))
                result = upload.result(k, space, req.spatial, job.stage)
                return result, _segment_json(req.id, upload, req.k, result)

            (result, out), notes = await compute(work, req.id, job=job)
        notes = ([result.note] if result.note else []) + notes
        if req.spatial and req.color_space is not None and result.space != "lab":
            use = "only for the elbow curve that chose k" if k == "auto" else "by colour classes only"
            notes.append(f"connected segments are always found in CIELAB: colour space {result.space!r} is "
                         f"used {use}")
        out["notes"] = [say.note(n) for n in notes]
        return out

    @app.post("/api/jobs", summary="A progress record for a long request", status_code=201,
              response_model=JobRecord,
              description="Name the returned `id` in an upload (`?job=`) or a segmentation (`\"job\"`), "
              f"and read GET /api/jobs/{{id}} while it runs. The last {MAX_JOBS} records are kept.")
    def new_job():
        return jobs.new().snapshot()

    @app.get("/api/jobs/{job_id}", summary="Where a long request is: its stages so far",
             response_model=JobRecord, responses=_errors(404))
    def job_record(job_id: str):
        job = jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"no progress record with id {_shown(job_id)}: ids come from POST /api/jobs, "
                           f"and the server keeps the last {MAX_JOBS}")
        return job.snapshot()

    @app.get("/api/elbow", summary="WCSS against k and the chosen k (the knee)",
             responses=_errors(400, 404, 422, 503))
    async def elbow(id: str, color_space: Optional[str] = None):
        _, space = settings(1, color_space)
        upload = upload_of(id)
        curve, _ = await compute(lambda: upload.elbow(space), id, sweeping)
        return {"id": id, "color_space": curve.color_space, "k": curve.k.tolist(),
                "wcss": [float(x) for x in curve.wcss], "best_k": int(curve.best_k),
                "clear": bool(curve.knee.clear), "strength": float(curve.knee.strength),
                "reason": curve.knee.reason, "seconds": float(curve.seconds)}

    @app.get("/api/images/{image_id}/view/{view}", summary="A view of the image, as PNG",
             response_class=Response,
             responses={200: {"content": {"image/png": {}}}, **_errors(400, 404, 422, 503)})
    async def view(image_id: str, view: str = Path(json_schema_extra={"enum": list(VIEWS)}), k: str = "8",
                   color_space: Optional[str] = None, spatial: bool = False, label: Optional[int] = None):
        from . import _pictures as pic

        if view not in VIEWS:
            raise ApiError(404, f"view={_shown(view)} must be one of {', '.join(VIEWS)}")
        k, space = settings(k, color_space)
        if view == "highlight" and (label is None or label < 0):
            raise ApiError(400, f"label={label} must be a label of the segmentation (0, 1, ...) for highlight")
        upload = upload_of(image_id)

        def draw():
            if view == "original":
                return upload.original_png()
            seg = upload.result(k, space, spatial).seg
            if view == "segmented":
                return pic.png_bytes(pic.display_rgb(seg.recolor()))
            if view == "boundaries":
                return pic.png_bytes(pic.boundaries(upload.display(), seg.labels))
            if view == "labels":
                return pic.png_bytes(pic.label_view(seg.labels, seg.n_clusters))
            if label >= seg.n_clusters:
                raise ApiError(400, f"label={label} must be in [0, {seg.n_clusters - 1}] for highlight")
            return pic.png_bytes(pic.highlight(upload.display(), seg.labels, label))

        png, _ = await compute(draw, image_id)
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=600"})

    @app.get("/api/images/{image_id}/download/{file}", summary="A result file to download",
             response_class=Response,
             responses={200: {"content": {t.split(";")[0]: {} for t in DOWNLOADS.values()}},
                        **_errors(400, 404, 422, 503)})
    async def download(image_id: str, file: str = Path(json_schema_extra={"enum": list(DOWNLOADS)}),
                       k: str = "8", color_space: Optional[str] = None, spatial: bool = False):
        from . import _pictures as pic

        if file not in DOWNLOADS:
            raise ApiError(404, f"file={_shown(file)} must be one of {', '.join(DOWNLOADS)}")
        k, space = settings(k, color_space)
        upload = upload_of(image_id)

        def make():
            seg = upload.result(k, space, spatial).seg
            if file == "labels.png":
                left_out = seg.n_clusters if seg.mask is not None else None  # marked transparent
                body = label_png(seg.labels, seg.n_clusters, left_out)
            elif file == "recolor.png":
                body = pic.png_bytes(seg.recolor(), compress_level=6)
            else:
                body = pic.palette_file(seg, file.split(".")[1], upload.name, upload.stem).encode()
            return body, seg.n_clusters

        (body, n_clusters), _ = await compute(make, image_id)
        filename = f"{upload.stem}_k{n_clusters}{'_spatial' if spatial else ''}_{file}"
        return Response(body, media_type=DOWNLOADS[file],
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    return app


async def _receive(request, name, max_bytes, timeout_s, progress):
    """The uploaded file's bytes and (cleaned) name, read up to the limit (413 past it)
    within ``timeout_s`` (408 past it, or after a pause of BODY_IDLE_S); ``progress``
    is told the fraction received when the body's length is known."""
    limit = max_bytes + _FORM_OVERHEAD
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise ApiError(413, say.upload_too_large(int(length), max_bytes))
    expected = int(length) if length.isdigit() and int(length) > 0 else None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    idle = min(BODY_IDLE_S, timeout_s)
    chunks, size, stream = [], 0, request.stream().__aiter__()
    while True:
        try:
            left = deadline - loop.time()
            if left <= 0:
                raise asyncio.TimeoutError
            chunk = await asyncio.wait_for(stream.__anext__(), min(left, idle))
        except StopAsyncIteration:
            break
        except asyncio.TimeoutError:
            raise ApiError(408, f"the upload did not arrive in time: a body must arrive within {timeout_s:g} s, "
                           f"with no pause over {idle:g} s; try again, or send a smaller file") from None
        except ClientDisconnect:
            raise ApiError(400, "the client went away during the upload") from None
        size += len(chunk)
        if size > limit:
            raise ApiError(413, say.upload_too_large(None, max_bytes))
        chunks.append(chunk)
        if expected is not None:
            progress(size / expected)
    body = b"".join(chunks)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        body, name = await _form_file(request, body)
    elif content_type.startswith("application/x-www-form-urlencoded"):
        raise ApiError(400, "send the image as the multipart field 'file', or as the raw request body")
    name = clean_name(name or "upload")
    if len(body) > max_bytes:
        raise ApiError(413, say.upload_too_large(len(body), max_bytes))
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


def _segment_json(image_id, upload, k_requested, result):
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
        "notes": [],
        "query": query,
        "views": {name: f"{base}/view/{name}" + ("" if name == "original" else f"?{query}")
                  for name in VIEWS if name != "highlight"},
        "downloads": {name: f"{base}/download/{name}?{query}" for name in DOWNLOADS},
    }
    out.update({key: record[key] for key in ("width", "height", "inertia", "n_iter", "colors")})
    out["working_space"] = record["color_space"]
    return out
