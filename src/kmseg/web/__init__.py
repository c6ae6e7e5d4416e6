"""The web page of ``kmseg serve``: upload an image, move k, see and download the results.

Needs the ``web`` extra: FastAPI, uvicorn and python-multipart (``pip install fastapi uvicorn
python-multipart``, or ``pip install ".[web]"`` in a clone of kmseg).
:func:`create_app` builds the application; ``kmseg serve`` runs it with uvicorn. The
framework loads on first use of ``create_app``.
"""

from ._limits import DEFAULT_CACHE_MB, DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS

__all__ = ["create_app", "DEFAULT_CACHE_MB", "DEFAULT_MAX_BYTES", "DEFAULT_MAX_PIXELS"]


def __getattr__(name):
    if name == "create_app":
        from ._app import create_app

        return create_app
    raise AttributeError(f"module 'kmseg.web' has no attribute {name!r}")
