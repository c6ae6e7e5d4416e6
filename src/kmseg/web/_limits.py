"""Limits of the web app, shared with ``kmseg serve``'s options (no web framework imported)."""

#: Largest upload, in bytes (32 MiB: a 12-megapixel PNG photo fits).
DEFAULT_MAX_BYTES = 32 << 20
#: Largest image, in pixels, decoded for the page (refused from the header above).
DEFAULT_MAX_PIXELS = 25_000_000
#: Memory for the uploads kept (images, colour histograms, results), in MiB;
#: least recently used dropped first.
DEFAULT_CACHE_MB = 256
#: Settings (k, colour space, spatial) whose results are kept per upload.
DEFAULT_MAX_RESULTS = 8
#: Uploads received and decoded at once; more wait (unread) for their turn, so
#: memory holds at most this many request bodies.
MAX_CONCURRENT_UPLOADS = 4
#: Requests that may wait for the computation (or for an upload slot) at once;
#: past that the server answers 503 with Retry-After at once.
DEFAULT_MAX_WAITING = 32
#: Longest wait in that queue, in seconds, before a 503.
DEFAULT_WAIT_S = 60.0
#: An upload's body must arrive within this many seconds (408 past it), and no
#: gap between two of its parts may last longer than the second figure.
DEFAULT_BODY_TIMEOUT_S = 60.0
BODY_IDLE_S = 15.0
#: Largest body of any other request (JSON settings), in bytes.
MAX_SMALL_BODY = 64 << 10
#: Seconds a client is told to wait (Retry-After) when the server is busy.
RETRY_AFTER_S = 5
#: Ids of dropped uploads remembered, to tell "expired" from "never existed".
EVICTED_IDS_KEPT = 4096
#: Characters of an upload's name kept for messages and downloads.
MAX_NAME_CHARS = 200
#: Progress records of requests (POST /api/jobs) kept; the oldest dropped first.
MAX_JOBS = 256
