"""Library-wide settings: ``set_config``, ``get_config`` and ``config_context``.

Settings are kept per thread, as scikit-learn keeps its own.
"""

import threading
from contextlib import contextmanager

from . import _validation as v

#: Images with more pixels than this are refused from their header, before decoding
#: (2**28: a 16384 x 16384 image).
DEFAULT_MAX_PIXELS = 1 << 28

_DEFAULTS = {"max_pixels": DEFAULT_MAX_PIXELS, "strict": False, "lenient": False}
_local = threading.local()


def _settings():
    if not hasattr(_local, "settings"):
        _local.settings = dict(_DEFAULTS)
    return _local.settings


def get_config():
    """The current settings, as a dict.

    Examples
    --------
    >>> import kmseg
    >>> kmseg.get_config()["max_pixels"] == 2**28
    True
    """
    return dict(_settings())


def set_config(max_pixels=None, strict=None, lenient=None):
    """Change settings for this thread.

    Parameters
    ----------
    max_pixels : int, optional
        Largest image, in pixels, that files are decoded for: bigger ones are
        refused from their header, before any pixel buffer is allocated.
        Default 2**28.
    strict : bool, optional
        Refuse image files that decode only with a warning: extra frames,
        a missing end marker, corrupt metadata, precision that cannot be kept,
        or more pixels than Pillow's own decompression-bomb warning allows
        (``PIL.Image.MAX_IMAGE_PIXELS``). Default False: such files are read,
        with a :class:`~kmseg.KmsegWarning` naming the file.
    lenient : bool, optional
        Read files whose checksums do not match (a PNG chunk's CRC) with a
        :class:`~kmseg.KmsegWarning` naming the file and the chunk, instead of
        refusing them. Default False. In strict mode that warning is an error too.

    Examples
    --------
    >>> import kmseg
    >>> kmseg.set_config(strict=True); kmseg.get_config()["strict"]
    True
    >>> kmseg.set_config(strict=False)
    >>> with kmseg.config_context(lenient=True):
    ...     kmseg.get_config()["lenient"]
    True
    """
    if max_pixels is not None:
        _settings()["max_pixels"] = v.check_int("max_pixels", max_pixels)
    if strict is not None:
        if not isinstance(strict, bool):
            raise v.KmsegError(f"strict={strict!r} must be True or False")
        _settings()["strict"] = strict
    if lenient is not None:
        if not isinstance(lenient, bool):
            raise v.KmsegError(f"lenient={lenient!r} must be True or False")
        _settings()["lenient"] = lenient


@contextmanager
def config_context(**settings):
    """Settings changed inside a ``with`` block, restored after it.

    Examples
    --------
    >>> import kmseg
    >>> with kmseg.config_context(max_pixels=1000):
    ...     kmseg.get_config()["max_pixels"]
    1000
    """
    old = get_config()
    set_config(**settings)
    try:
        yield
    finally:
        _settings().update(old)
