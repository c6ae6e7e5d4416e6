"""Validation of parameters and inputs, done once at the public boundary.

Messages name the parameter (or file), the value received and what was expected.
"""

import numbers
from contextlib import contextmanager

import numpy as np

COLOR_SPACES = ("rgb", "lab", "hsv", "gray")
ALGORITHMS = ("auto", "lloyd", "elkan", "coarse-to-fine")
#: How :func:`kmseg.palette_order` lists a palette: most used first, darkest first (CIELAB L*),
#: or around the colour wheel (CIELAB hue angle).
PALETTE_SORTS = ("share", "lightness", "hue")
#: How :func:`kmseg.quantize` gives pixels their palette colour: ``'none'`` (each its
#: nearest), ``'floyd-steinberg'`` (serpentine error diffusion), ``'ordered'`` (an 8x8
#: Bayer threshold map), ``'adaptive'`` (error diffusion that fades out across edges).
DITHER_METHODS = ("none", "floyd-steinberg", "ordered", "adaptive")


class KmsegError(ValueError):
    """A bad input or parameter, with a message fit to show a user as it is."""


class KmsegWarning(UserWarning):
    """A result that differs from what was asked, such as fewer clusters than k."""


class ImageReadError(KmsegError, OSError):
    """An image file that cannot be read: the message names the file and why."""


class NotFittedError(KmsegError, AttributeError):
    """A fitted attribute of an estimator that has seen no data (also an AttributeError,
    so that ``hasattr`` says False, as for scikit-learn's estimators)."""


class OutputError(KmsegError, OSError):
    """An output file that cannot be written: the message names the file and why."""


def check_int(name, value, minimum=1, maximum=None):
    """``value`` as an int within ``[minimum, maximum]``, else a ValueError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise KmsegError(f"{name}={value!r} must be an integer, got {type(value).__name__}")
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise KmsegError(f"{name}={value} must be {bound}")
    return value


def check_number(name, value, minimum=0.0):
    """``value`` as a float ``>= minimum``, else a ValueError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise KmsegError(f"{name}={value!r} must be a number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or value < minimum:
        raise KmsegError(f"{name}={value} must be a finite number >= {minimum}")
    return value


def check_colors(name, value):
    """Colours as an ``(m, 3)`` uint8 array: a sequence of ``'#rrggbb'`` (or ``'#rgb'``)
    strings or of three integers in 0..255, or an ``(m, 3)`` array of them.

    Examples
    --------
    >>> check_colors("fixed", ["#ff0000", (0, 0, 255), "#fff"]).tolist()
    [[255, 0, 0], [0, 0, 255], [255, 255, 255]]
    """
    items = [value] if isinstance(value, str) else list(np.asarray(value, dtype=object).reshape(-1, 3)) \
        if isinstance(value, np.ndarray) else list(value)
    out = []
    for item in items:
        rgb = _parse_color(item)
        if rgb is None:
            raise KmsegError(f"{name}: {item!r} is not a colour (#rrggbb, or three integers in 0..255)")
        out.append(rgb)
    if not out:
        raise KmsegError(f"{name} is empty: give at least one colour")
    return np.array(out, dtype=np.uint8)


def _parse_color(item):
    if isinstance(item, str):
        text = item.strip().lstrip("#")
        if len(text) == 3:
            text = "".join(ch * 2 for ch in text)
        if len(text) != 6 or any(ch not in "0123456789abcdefABCDEF" for ch in text):
            return None
        return [int(text[i:i + 2], 16) for i in (0, 2, 4)]
    try:
        rgb = list(item)
    except TypeError:
        return None
    if len(rgb) != 3 or not all(isinstance(c, numbers.Integral) and not isinstance(c, (bool, np.bool_))
                                and 0 <= c <= 255 for c in rgb):
        return None
    return [int(c) for c in rgb]


def check_choice(name, value, choices):
    """``value`` if it is one of ``choices`` (case-insensitive strings)."""
    key = value.lower() if isinstance(value, str) else value
    if key not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise KmsegError(f"{name}={value!r} must be one of {options}")
    return key


def check_n_clusters(value, n_distinct, name="n_clusters", what="samples"):
    """``value`` as an int in ``[1, n_distinct]``."""
    value = check_int(name, value)
    if value > n_distinct:
        raise KmsegError(f"{name}={value} must be <= the number of {what} ({n_distinct})")
    return value


def check_init(init, n_clusters, n_features):
    """'k-means++', 'random', a callable, or a ``(n_clusters, n_features)`` array of finite numbers."""
    if isinstance(init, str):
        return check_choice("init", init, ("k-means++", "random"))
    if callable(init):
        return init
    return check_centers(init, n_clusters, n_features)


def check_centers(init, n_clusters, n_features, what="init array"):
    """A ``(n_clusters, n_features)`` array of finite numbers, as float64 in C order."""
    arr = np.asarray(init, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] != n_clusters:
        raise KmsegError(f"The shape of the initial centers {arr.shape} does not match the number of "
                         f"clusters {n_clusters} ({what})")
    if arr.shape[1] != n_features:
        raise KmsegError(f"The shape of the initial centers {arr.shape} does not match the number of "
                         f"features of the data {n_features} ({what})")
    if not np.all(np.isfinite(arr)):
        raise KmsegError(f"{what} must hold finite numbers only")
    return np.ascontiguousarray(arr)


def check_n_init(n_init, init, default=10):
    """Number of restarts, as scikit-learn counts them: 'auto' is 1 for k-means++ and
    arrays, ``default`` for 'random' and a callable; an array is always one run."""
    if isinstance(n_init, str) and n_init == "auto":
        return default if callable(init) or (isinstance(init, str) and init == "random") else 1
    n_init = check_int("n_init", n_init)
    return 1 if not (isinstance(init, str) or callable(init)) else n_init


def make_rng(random_state):
    """A NumPy Generator from None, an int, a RandomState or a Generator."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    return np.random.default_rng(check_int("random_state", random_state, minimum=0))


def resolve_n_threads(n_threads):
    """Threads for the kernels: None means all the kernels may use (the cores,
    or ``OMP_NUM_THREADS``)."""
    from ._parallel import MAX_THREADS

    if n_threads is None:
        return MAX_THREADS
    return check_int("n_threads", n_threads, maximum=MAX_THREADS)


@contextmanager
def thread_limit(n_threads):
    """Run the kernels launched from this thread with ``n_threads`` threads,
    then restore the count (other threads keep theirs)."""
    from ._parallel import get_num_threads, set_num_threads

    previous = get_num_threads()
    set_num_threads(n_threads)
    try:
        yield
    finally:
        set_num_threads(previous)


#: Errors of an image that cannot be read or segmented (a batch reports them per image).
IMAGE_ERRORS = (KmsegError, OSError, ValueError, MemoryError)
