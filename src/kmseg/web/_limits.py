"""Limits of the web app, shared with ``kmseg serve``'s options (no web framework imported)."""

#: Largest upload, in bytes (32 MiB: a 12-megapixel PNG photo fits).
DEFAULT_MAX_BYTES = 32 << 20
#: Largest image, in pixels, decoded for the page (refused from the header above).
DEFAULT_MAX_PIXELS = 25_000_000
#: Uploads kept in memory, least recently used dropped first.
DEFAULT_MAX_IMAGES = 4
#: Settings (k, colour space, spatial) whose results are kept per upload.
DEFAULT_MAX_RESULTS = 8
#: Uploads received and decoded at once; more wait (unread) for their turn, so
#: memory holds at most this many request bodies.
MAX_CONCURRENT_UPLOADS = 2
