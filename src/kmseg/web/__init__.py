"""The web page of ``kmseg serve``: upload an image, move k, see and download the results.

Needs the ``web`` extra (``pip install "kmseg[web]"``: FastAPI, uvicorn, python-multipart).
:func:`create_app` builds the application; ``kmseg serve`` runs it with uvicorn.
"""

from ._app import create_app

__all__ = ["create_app"]
