"""Bounded work: a few slots, a short queue, and a 503 for whoever comes past it.

Waiting happens in the event loop (no thread is held while a request waits), and
the gate works across event loops and threads (the test client runs one loop per
request), so it is built on a thread lock and futures woken thread-safely.
"""

import asyncio
import collections
import threading

from ._limits import RETRY_AFTER_S


class Busy(Exception):
    """The server is busy: answer 503 with ``Retry-After``."""

    def __init__(self, message, retry_after=RETRY_AFTER_S):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class _Waiter:
    __slots__ = ("loop", "future", "granted")

    def __init__(self, loop):
        self.loop = loop
        self.future = loop.create_future()
        self.granted = False


def _wake(future):
    if not future.done():
        future.set_result(None)


class Gate:
    """``slots`` holders at once, at most ``max_waiting`` waiting, each at most ``wait_s``.

    Use as ``async with gate: ...``; a request that finds the queue full, or
    waits too long, gets :class:`Busy`.
    """

    def __init__(self, what, slots, max_waiting, wait_s):
        self.what = what
        self.slots = slots
        self.max_waiting = max_waiting
        self.wait_s = wait_s
        self._free = slots
        self._waiters = collections.deque()
        self._lock = threading.Lock()

    @property
    def waiting(self):
        return len(self._waiters)

    async def acquire(self):
        with self._lock:
            if self._free and not self._waiters:
                self._free -= 1
                return
            if len(self._waiters) >= self.max_waiting:
                raise Busy(f"server busy: {len(self._waiters)} requests already wait for {self.what}; "
                           f"retry in {RETRY_AFTER_S} s")
            waiter = _Waiter(asyncio.get_running_loop())
            self._waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter.future), self.wait_s)
        except BaseException as exc:  # a timeout, or the request cancelled
            with self._lock:
                granted = waiter.granted
                if not granted:
                    self._waiters.remove(waiter)
            if granted and isinstance(exc, asyncio.TimeoutError):
                return  # the slot came at the last moment: take it
            if granted:
                self.release()
            if isinstance(exc, asyncio.TimeoutError):
                raise Busy(f"server busy: waited {self.wait_s:g} s for {self.what}; "
                           f"retry in {RETRY_AFTER_S} s") from None
            raise

    def release(self):
        with self._lock:
            while self._waiters:
                waiter = self._waiters.popleft()
                waiter.granted = True
                try:
                    waiter.loop.call_soon_threadsafe(_wake, waiter.future)
                    return
                except RuntimeError:  # its event loop is gone: the next one
                    continue
            self._free += 1

    async def __aenter__(self):
        await self.acquire()
        return self

    async def __aexit__(self, *exc):
        self.release()
        return False
