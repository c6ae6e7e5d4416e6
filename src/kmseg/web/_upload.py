"""An uploaded image, prepared once, and what the page asks of it.

The upload is decoded and reduced to its colour histogram once; every move of
the k slider re-clusters that histogram (never the pixels), and the spatial
mode cuts one merge tree of superpixels at k. Results of the last few settings
are kept, so the pictures and downloads of one setting cost no second fit.
"""

import os
import re
import threading
from collections import OrderedDict

import numpy as np

from .. import KmsegError, elbow, prepare, region_hierarchy, segment
from .. import _validation as v
from .._params import AUTO_K_MAX
from ..io import thread_warnings
from ._limits import DEFAULT_MAX_RESULTS, MAX_NAME_CHARS

#: Largest k the page and the API accept (label maps stay 8-bit PNGs).
MAX_K = 256
#: The elbow curve of the page: k = 1..ELBOW_K_MAX, the range of :func:`kmseg.elbow`
#: (and of ``segment(image, "auto")``).
ELBOW_K_MAX = AUTO_K_MAX


def parse_k(value):
    """``'auto'`` or an int in [1, MAX_K], from an int or a string."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "auto":
            return "auto"
        if re.fullmatch(r"[0-9]{1,6}", text):
            value = int(text)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise KmsegError(f"k={value!r} must be an integer in [1, {MAX_K}] or 'auto'")
    return v.check_int("k", value, maximum=MAX_K)


class Result:
    """A segmentation with the settings that made it and what to tell the user."""

    def __init__(self, seg, k, space, spatial, note=None, knee=None, seconds=0.0):
        self.seg = seg
        #: k as asked (after 'auto' was resolved): ``seg.n_clusters`` may be smaller.
        self.k = k
        self.space = space
        self.spatial = spatial
        self.note = note
        self.knee = knee
        self.seconds = seconds


class Upload:
    """One uploaded image: its array, colour histogram, and cached results.

    The app runs one computation on images at a time; elbow sweeps may run beside
    it, so the colour spaces and sweeps are guarded by their own locks.

    Parameters
    ----------
    name : str
        The file name the user gave (for messages and download names).
    image : ndarray
        The decoded, validated image.
    n_threads : int or None
    max_results : int
        Results (settings) kept; 0 keeps none.
    """

    def __init__(self, name, image, n_threads=None, max_results=DEFAULT_MAX_RESULTS):
        self.name = name
        self.stem = _safe_stem(name)
        prep = prepare(image, n_threads=n_threads)
        prep.name = repr(name)
        self.image = prep.image
        self.default_space = prep.space
        self._preps = {prep.space: prep}
        self._n_threads = n_threads
        self._max_results = max_results
        self._results = OrderedDict()
        self._elbows = {}
        self._lock = threading.Lock()
        self._elbow_lock = threading.Lock()
        self._hierarchy = None
        self._display = None
        self._original_png = None

    @property
    def n_colors(self):
        """Distinct colours of the image."""
        return len(self._preps[self.default_space].hist)

    def info(self):
        h, w = self.image.shape[:2]
        return {"name": self.name, "width": int(w), "height": int(h), "n_colors": self.n_colors,
                "color_space": self.default_space, "grey": self.image.ndim == 2}

    def prepared(self, color_space):
        """The prepared features in ``color_space`` (the histogram is shared)."""
        base = self._preps[self.default_space]
        with self._lock:
            if color_space not in self._preps:
                prep = base.in_space(color_space)  # checks the name
                self._preps[color_space] = self._preps.setdefault(prep.space, prep)
            return self._preps[color_space]

    def elbow(self, color_space):
        """WCSS against k = 1..ELBOW_K_MAX on the histogram, and the knee (cached). The
        sweep's warnings (a knee that is not clear, fewer colours than k) are its
        result's to tell: the page shows the knee's reason."""
        prep = self.prepared(color_space)
        with self._elbow_lock:
            if prep.space not in self._elbows:
                with thread_warnings(kmseg_warnings=True):
                    self._elbows[prep.space] = elbow(prep, range(1, ELBOW_K_MAX + 1), silhouette_samples=0,
                                                     n_threads=self._n_threads)
            return self._elbows[prep.space]

    def plan(self, k, color_space=None, spatial=False):
        """The stages :meth:`result` goes through for these settings, in order (none
        for a result already kept): what the page shows as its progress."""
        space = self.prepared(color_space).space
        stages = []
        if k == "auto":
            stages.append("elbow sweep")  # a sweep kept is one lookup: a stage all the same
            found = self._elbows.get(space)
            k = None if found is None else found.knee.k
        if (k, space, bool(spatial)) in self._results:
            return stages
        return stages + self._fit_stages(spatial)

    def _fit_stages(self, spatial):
        if not spatial:
            return ["fitting"]
        return (["superpixels and merges"] if self._hierarchy is None else []) + ["cutting"]

    def result(self, k, color_space=None, spatial=False, stage=None):
        """The segmentation for these settings; ``k`` (checked by :func:`parse_k`)
        may be 'auto' (the elbow's knee). ``stage(name)``, if given, is called as
        each stage of :meth:`plan` starts."""
        import time

        stage = stage or (lambda name: None)
        space = self.prepared(color_space).space
        knee = None
        if k == "auto":
            stage("elbow sweep")
            knee = self.elbow(space).knee
            k = knee.k
        key = (k, space, bool(spatial))
        if key in self._results:
            self._results.move_to_end(key)
            found = self._results[key]
            return Result(found.seg, k, space, found.spatial, found.note, knee, found.seconds)
        start = time.perf_counter()
        if spatial:
            seg, note = self._regions(k, stage)
        else:
            stage("fitting")
            seg, note = self._colors(k, space)
        result = Result(seg, k, space, bool(spatial), note, knee, time.perf_counter() - start)
        if self._max_results > 0:
            self._results[key] = result
            while len(self._results) > self._max_results:
                self._results.popitem(last=False)
        return result

    def shrink(self):
        """Drop what can be made again, but the newest result: for an upload that
        alone holds more than the memory budget."""
        with self._lock:
            while len(self._results) > 1:
                self._results.popitem(last=False)
            self._original_png = None

    def _colors(self, k, space):
        """k colour classes; a note when the image has fewer colours (segment's warning)."""
        with thread_warnings(kmseg_warnings=True) as caught:
            seg = segment(self.prepared(space), k, n_threads=self._n_threads)
        return seg, "; ".join(str(message) for message in caught) or None

    def _regions(self, k, stage):
        """k connected segments: one merge tree of superpixels per upload, cut at k.
        The tree is built in CIELAB whatever the colour space asked (see
        :func:`kmseg.region_hierarchy`)."""
        if self._hierarchy is None:
            stage("superpixels and merges")
            self._hierarchy = region_hierarchy(self.image, n_threads=self._n_threads)
        stage("cutting")
        tree = self._hierarchy
        regions = tree.regions(k)
        note = None
        if regions.n_segments < k:
            note = f"{regions.n_segments} connected segments at most (one per superpixel)"
        return regions.as_segmentation(), note

    def display(self):
        """The image as 8-bit RGB, for pictures."""
        if self._display is None:
            from ._pictures import display_rgb

            self._display = display_rgb(self.image)
        return self._display

    def original_png(self):
        if self._original_png is None:
            from ._pictures import png_bytes

            self._original_png = png_bytes(self.display())
        return self._original_png


def clean_name(name):
    """The name an upload is shown by: the last part of what the client sent, with
    control characters (NUL, newlines) replaced and at most MAX_NAME_CHARS long.
    It names the upload in messages and download names, never a file on disk.

    Examples
    --------
    >>> clean_name("../../etc/pass\\x00wd"), clean_name("C:\\\\photos\\\\cat.png"), clean_name("")
    ('pass?wd', 'cat.png', 'upload')
    """
    name = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch if ch.isprintable() else "?" for ch in name).strip()
    if len(name) > MAX_NAME_CHARS:
        name = name[:MAX_NAME_CHARS - 1] + "\u2026"
    return name or "upload"


def _safe_stem(name):
    """A file-name stem fit for download names: letters, digits, '-', '_' and '.'."""
    stem = os.path.splitext(os.path.basename(name.replace("\\", "/")))[0]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._")
    return stem[:60] or "image"


def read_upload(data, name):
    """Decode uploaded bytes with kmseg's checks (pixel limit from the config)."""
    from ..io import read_bytes

    return read_bytes(data, name)
