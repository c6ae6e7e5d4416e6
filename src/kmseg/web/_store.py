"""The uploads kept in memory: by unguessable id, within a budget of bytes.

The least recently used upload is dropped first when the budget is passed; the
one in use is always kept (its older results dropped if it alone is too big).
The ids of dropped uploads are remembered, a bounded few, so that a request for
one is told that it expired rather than that it never existed.
"""

import collections
import secrets
import threading

import numpy as np

from ._limits import EVICTED_IDS_KEPT


def footprint(obj):
    """Bytes held by the arrays and byte strings of ``obj``, followed through
    containers and kmseg's objects (each array counted once, views by their base).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros(1000, np.uint8)
    >>> footprint({"a": a, "view": a[10:], "png": b"12345"})
    1005
    """
    seen, total, stack = set(), 0, [obj]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, np.ndarray):
            base = item
            while isinstance(base.base, np.ndarray):
                base = base.base
            if base is not item:
                if id(base) in seen:
                    continue
                seen.add(id(base))
            total += base.nbytes
        elif isinstance(item, (bytes, bytearray)):
            total += len(item)
        elif isinstance(item, dict):
            stack.extend(list(item.values()))
        elif isinstance(item, (list, tuple, set, frozenset, collections.deque)):
            stack.extend(list(item))
        elif type(item).__module__.startswith("kmseg"):
            stack.extend(list(getattr(item, "__dict__", {}).values()))
            stack.extend(getattr(item, name, None) for name in getattr(type(item), "__slots__", ()))
    return total


class ImageStore:
    """Uploads by random id, within ``budget`` bytes, least recently used dropped first."""

    def __init__(self, budget):
        self.budget = budget
        self._items = collections.OrderedDict()
        self._sizes = {}
        self._used = 0
        self._evicted = collections.OrderedDict()
        self._lock = threading.Lock()

    def __len__(self):
        return len(self._items)

    @property
    def used(self):
        """Bytes the kept uploads hold (as last counted)."""
        return self._used

    def add(self, upload):
        """Keep ``upload``; returns its new id (128 random bits, URL-safe)."""
        key = secrets.token_urlsafe(16)
        size = footprint(upload)
        with self._lock:
            self._items[key] = upload
            self._sizes[key] = size
            self._used += size
            self._trim()
        return key

    def get(self, key):
        """The upload of ``key`` (now the most recently used), or None."""
        with self._lock:
            upload = self._items.get(key)
            if upload is not None:
                self._items.move_to_end(key)
            return upload

    def expired(self, key):
        """Whether ``key`` named an upload that was dropped to make room."""
        with self._lock:
            return key in self._evicted

    def recount(self, key):
        """Count again what the upload of ``key`` holds (its results grow), and trim."""
        with self._lock:
            upload = self._items.get(key)
        if upload is None:
            return
        size = footprint(upload)
        with self._lock:
            if key in self._sizes:
                self._used += size - self._sizes[key]
                self._sizes[key] = size
                self._trim()

    def _trim(self):
        """Drop least recently used uploads while over budget; the last one stays."""
        while self._used > self.budget and len(self._items) > 1:
            key, _ = self._items.popitem(last=False)
            self._used -= self._sizes.pop(key)
            self._evicted[key] = None
            while len(self._evicted) > EVICTED_IDS_KEPT:
                self._evicted.popitem(last=False)
        if self._used > self.budget and self._items:
            key, upload = next(reversed(self._items.items()))
            upload.shrink()
            size = footprint(upload)
            self._used += size - self._sizes[key]
            self._sizes[key] = size
