"""The knee of a decreasing curve: the first k after which one more step is flat.

A rule that looks at the whole curve (Kneedle's point farthest below the chord
from the first point to the last, on a curve normalised to the unit square)
moves when the range grows: the chord and the normalisation depend on the last
point, and on photos, whose WCSS curves bend smoothly, Kneedle chose the same k
for k_max 10, 12 and 16 on 9 of the 100 BSDS500 val photos. This rule decides
each k from the curve up to k+2 only, so extending the range past the chosen k
never changes it (the same k on 100 of 100):

* the *drop* of each step is the share of the curve that it removes: on the
  log scale (the default), ``1 - y(k+1) / y(k)``, the share of the WCSS left
  that one more cluster removes; on the linear scale, ``(y(k) - y(k+1)) /
  y(first)``, the share of the first value (for WCSS, of the total sum of
  squares). Steps wider than one are counted per unit of ``x``;
* a step whose drop is under ``min_drop`` is *flat*; the knee is the first k
  whose next step is flat, passed over when the step after that is flatter
  still by a factor of 3 (the curve bends harder one k later: two blobs close
  together);
* a noisy point that goes up (a restart stuck in a worse local minimum) is
  replaced by the linear interpolation (on the scale measured) of its
  neighbours on the running minimum, so it makes neither a flat step nor a
  steep one; a curve that reaches 0 (an image with exactly k colours) is
  floored at 1e-12 of its largest value;
* the *strength* of the knee is how much flatter the step after k is than the
  step into k, ``1 - drop(k) / drop(k - 1)``: 0 on a curve that falls by the
  same share at every step (a straight line on the log scale), 1 where the
  curve stops falling. It always answers, with the reason, and a
  :class:`KneeWarning` when the knee is not clear: weaker than
  ``min_strength``, the first point itself (the curve is flat from the start),
  no flat step in the range, or a curve that does not decrease.

``min_drop=0.3`` was tuned on the 200 BSDS500 train photos, where every value
from 0.24 to 0.36 keeps the same k for k_max 10, 12 and 16: of those, the
answers over k=1..10 agree most with the former rule's, which ``k='auto'`` gave
until then, at 0.30 and 0.32 (65% and 66% of the photos; median k 4), and the
rounder 0.30 was kept (see BENCHMARKS.md). On
synthetic blobs with known k = 2..8 (10 seeds each, k=1..10, as
``benchmarks/bench_auto.py``), the log scale finds the true k in 66 of 70
sets, where Kneedle on the log curve found 57; the misses are blobs that
overlap, or fall into groups (8 blobs in 3 groups: k=3).
"""

import warnings
from typing import NamedTuple

import numpy as np

#: A step that removes less than this share of the curve is flat (see the module's text).
MIN_DROP = 0.3
#: A flat step is passed over when the next step's drop is under this fraction of it.
SHARPER_AFTER = 1 / 3
#: A knee weaker than this (``1 - drop after / drop before``) is "no clear knee".
MIN_STRENGTH = 0.1


class KneeWarning(UserWarning):
    """The curve has no clear knee; the answer is a best guess."""


class Knee(NamedTuple):
    """The chosen point of a curve and why it was chosen."""

    #: The chosen x (k).
    k: int
    #: How much flatter the step after k is than the step into k, 0 to 1.
    strength: float
    #: Whether the knee is clear (``strength >= min_strength``).
    clear: bool
    #: One sentence saying how ``k`` was chosen.
    reason: str


def drops(x, y, *, log=True):
    """The drop of each step of a curve as :func:`find_knee` measures it.

    Returns the ``(n - 1,)`` shares: step ``i`` goes from ``x[i]`` to ``x[i + 1]``
    (per unit of ``x``; see the module's text). ``x`` and ``y`` are checked by the caller.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if log:
        top = y.max()
        z = np.log(np.maximum(y, 1e-12 * top if top > 0 else 1.0))
    else:
        z = y
    good = z <= np.minimum.accumulate(z)  # points on the running minimum; the others interpolated
    z = np.interp(x, x[good], z[good])
    per_unit = -np.diff(z) / np.diff(x)
    if log:
        return -np.expm1(-per_unit)  # 1 - y(k+1) / y(k), per unit of x
    return per_unit / (abs(y[0]) or 1.0)


def find_knee(x, y, *, log=True, min_strength=MIN_STRENGTH, warn=True, min_drop=MIN_DROP):
    """Knee of a decreasing curve such as WCSS against k: the first k after which it is flat.

    The knee is the first ``k`` whose next step lowers the curve by less than
    ``min_drop`` (on the log scale, one more cluster removes less than that share
    of the WCSS left), unless the step after that is flatter still by a factor
    of 3. The answer depends only on the curve up to two steps past it:
    extending ``x`` beyond never changes it.

    Parameters
    ----------
    x : (n,) array-like
        Increasing values (k).
    y : (n,) array-like
        The curve (WCSS), expected to decrease.
    log : bool, default=True
        Measure each step's drop as the share of ``y`` it removes,
        ``1 - y(k+1) / y(k)`` (``y`` must then be non-negative); False: as a
        share of the first value, ``(y(k) - y(k+1)) / y[0]``.
    min_strength : float, default=0.1
        A knee whose step after is not this much flatter than its step before
        (``1 - drop after / drop before``) is reported as not clear.
    warn : bool, default=True
        Emit a :class:`KneeWarning` when the knee is not clear.
    min_drop : float, default=0.3
        A step that lowers the curve by less than this share is flat; between 0 and 1.

    Returns
    -------
    Knee
        ``(k, strength, clear, reason)``; never raises on a valid curve.

    Raises
    ------
    ValueError
        ``x`` and ``y`` are not 1-D of one length, not finite, ``x`` is not
        increasing, ``y`` is negative with ``log=True``, or ``min_drop`` is not
        between 0 and 1.

    Warns
    -----
    KneeWarning
        No clear knee (with ``warn=True``); the answer is a best guess and the
        reason says why.

    See Also
    --------
    elbow : the WCSS curve of an image, and this knee.

    Examples
    --------
    >>> from kmseg import find_knee
    >>> knee = find_knee([1, 2, 3, 4, 5, 6], [100, 30, 8, 6, 5, 4.5])
    >>> knee.k, knee.clear
    (3, True)

    The same k when the curve goes on:

    >>> find_knee(range(1, 10), [100, 30, 8, 6, 5, 4.5, 4.2, 4.0, 3.9]).k
    3

    A curve that falls by the same share at every step has no knee:

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     find_knee(range(1, 9), [2.0 ** -k for k in range(1, 9)]).clear
    False
    >>> caught[0].category.__name__
    'KneeWarning'
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape or len(x) == 0:
        raise ValueError(f"x and y must be 1-D of the same non-zero length, got {x.shape} and {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x and y must be finite")
    if np.any(np.diff(x) <= 0):
        raise ValueError("x must be strictly increasing")
    if log and np.any(y < 0):
        raise ValueError("y must be non-negative with log=True")
    if not 0 < min_drop < 1:
        raise ValueError(f"min_drop={min_drop!r} must be between 0 and 1")
    ks = [int(k) for k in x]
    if len(x) < 3 or not np.min(y[1:]) < y[0]:
        why = "fewer than 3 points" if len(x) < 3 else "the curve does not decrease"
        knee = Knee(ks[0], 0.0, False, f"no knee: {why}; chose the smallest k={ks[0]}")
    else:
        knee = _first_flat(ks, drops(x, y, log=log), log, min_strength, min_drop)
    if warn and not knee.clear:
        warnings.warn(knee.reason, KneeWarning, stacklevel=2)
    return knee


def _first_flat(ks, d, log, min_strength, min_drop):
    """The knee from the steps' drops ``d`` (``len(ks) - 1`` of them, at least 2)."""
    of = "of the WCSS left" if log else "of the first value"
    flat = f"flat: under {min_drop:.0%}"
    for i in range(len(d)):
        if d[i] < min_drop and not (i + 1 < len(d) and d[i + 1] < SHARPER_AFTER * d[i]):
            break
    else:
        return Knee(ks[-1], 0.0, False,
                    f"no clear knee: every step over k={ks[0]}..{ks[-1]} lowers the curve by "
                    f"{min_drop:.0%} or more {of}; chose the largest k={ks[-1]}")
    k = ks[i]
    if i == 0:
        return Knee(k, 0.0, False, f"no clear knee: the curve is flat from the start (the step after "
                                   f"k={k} lowers it by {d[0]:.0%} {of}, {flat}); chose the smallest k={k}")
    strength = float(1.0 - d[i] / d[i - 1])
    scale = "log " if log else ""
    said = (f"the step after k={k} lowers it by {d[i]:.0%} {of} ({flat}), "
            f"the step into k={k} by {d[i - 1]:.0%}")
    if strength >= min_strength:
        return Knee(k, strength, True, f"knee of the {scale}WCSS curve at k={k}, its first flat step: {said}")
    return Knee(k, strength, False,
                f"no clear knee (the curve bends at its first flat step by {strength:.2f}, below "
                f"{min_strength:g}): {said}; chose k={k}")
