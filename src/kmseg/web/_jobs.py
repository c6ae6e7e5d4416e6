"""Progress of long requests: the stages a request goes through, as they happen.

The page asks for a record (``POST /api/jobs``), names it in its request (an
upload or a segmentation: ``job=<id>``), and reads it (``GET /api/jobs/{id}``)
while the request runs. The request itself still does the work and answers with
its result; the record only tells where it is: waiting for its turn, or which
stage runs, for how long, and what fraction of it is done where that is known
(the bytes of an upload received). Stages are the steps the web layer itself
takes (receiving, decoding, counting colours, the elbow sweep, fitting, the
superpixels and their merges, cutting the merge tree): each is one call, timed
from its start to the next one's.

Examples
--------
>>> jobs = JobRecords(4)
>>> job = jobs.new()
>>> job.start(["decoding", "fitting"])
>>> job.stage("decoding"); job.stage("fitting"); job.finish()
>>> [(s["name"], s["state"]) for s in jobs.get(job.id).snapshot()["stages"]]
[('decoding', 'done'), ('fitting', 'done')]
"""

import collections
import secrets
import threading
import time

from ._limits import MAX_JOBS


class Job:
    """One request's progress; every method is safe to call from any thread."""

    def __init__(self, job_id):
        self.id = job_id
        self._lock = threading.Lock()
        self._reset()

    def _reset(self):
        self._state = "new"
        self._waiting_for = None
        self._stages = []  # [name, state, start, end, fraction]
        self._error = None

    def start(self, plan=()):
        """A request starts on this record: what it held before is cleared, and
        ``plan`` (stage names, in order) is what it expects to do."""
        with self._lock:
            self._reset()
            self._state = "running"
            self._stages = [[name, "pending", None, None, None] for name in plan]

    def plan(self, names):
        """Stages ahead, added after those already recorded."""
        with self._lock:
            self._stages += [[name, "pending", None, None, None] for name in names]

    def wait(self, what):
        """The request waits for its turn (``what``: 'the computation', 'an upload slot')."""
        with self._lock:
            self._state, self._waiting_for = "waiting", what

    def stage(self, name):
        """Stage ``name`` starts: the running one is done, planned ones before it
        that never ran are skipped."""
        now = time.monotonic()
        with self._lock:
            self._end_running(now)
            self._state, self._waiting_for = "running", None
            found = next((s for s in self._stages if s[0] == name and s[1] == "pending"), None)
            if found is None:
                found = [name, "pending", None, None, None]
                self._stages.append(found)
            for s in self._stages[:self._stages.index(found)]:
                if s[1] == "pending":
                    s[1] = "skipped"
            found[1:4] = ["running", now, None]

    def progress(self, fraction):
        """The running stage's done fraction, in [0, 1]."""
        with self._lock:
            for s in self._stages:
                if s[1] == "running":
                    s[4] = min(1.0, max(0.0, float(fraction)))

    def finish(self, error=None):
        """The request is over: done, or failed with the one-line ``error`` it answered."""
        now = time.monotonic()
        with self._lock:
            self._end_running(now, "done" if error is None else "failed")
            for s in self._stages:
                if s[1] == "pending":
                    s[1] = "skipped"
            self._state = "done" if error is None else "failed"
            self._waiting_for, self._error = None, error

    def _end_running(self, now, state="done"):
        for s in self._stages:
            if s[1] == "running":
                s[1], s[3] = state, now
                if s[4] is not None and state == "done":
                    s[4] = 1.0

    def snapshot(self):
        """The record as JSON: its state and stages (a running stage's seconds so far)."""
        now = time.monotonic()
        with self._lock:
            stages = [{"name": name, "state": state,
                       "seconds": None if start is None else round((end or now) - start, 4),
                       "fraction": fraction}
                      for name, state, start, end, fraction in self._stages]
            current = next((s["name"] for s in stages if s["state"] == "running"), None)
            return {"id": self.id, "state": self._state, "waiting_for": self._waiting_for,
                    "stage": current, "stages": stages, "error": self._error}


class _NoJob:
    """The record of a request that names none (or one no longer kept): records nothing."""

    id = None

    def start(self, plan=()):
        pass

    def plan(self, names):
        pass

    def wait(self, what):
        pass

    def stage(self, name):
        pass

    def progress(self, fraction):
        pass

    def finish(self, error=None):
        pass


NO_JOB = _NoJob()


class JobRecords:
    """Progress records by random id; at most ``limit``, the oldest dropped first."""

    def __init__(self, limit=MAX_JOBS):
        self.limit = limit
        self._items = collections.OrderedDict()
        self._lock = threading.Lock()

    def __len__(self):
        return len(self._items)

    def new(self):
        """A new, empty record (128 random bits, URL-safe id)."""
        job = Job(secrets.token_urlsafe(16))
        with self._lock:
            self._items[job.id] = job
            while len(self._items) > self.limit:
                self._items.popitem(last=False)
        return job

    def get(self, job_id):
        """The record of ``job_id``, or None."""
        with self._lock:
            return self._items.get(job_id)

    def of(self, job_id):
        """The record a request names, or one that records nothing: progress is a
        side channel, and a request whose record was dropped still does its work."""
        found = self.get(job_id) if job_id else None
        return NO_JOB if found is None else found
