"""Progress events: one JSON line per event, flushed, and heartbeats that mean progress."""

import json
import os
import threading
import time


class Events:
    """Appends events to `events_path` (usually /dev/fd/3, a pipe to orch).

    One os.write per line, under a lock, so the heartbeat thread and the worker never
    interleave. When orch is gone the pipe has no reader: with SIGPIPE at its default
    (run_worker sets it) the worker dies, as the protocol asks of an orphan.
    """

    def __init__(self, path):
        self._lock = threading.Lock()
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)

    def emit(self, event, **fields):
        line = json.dumps({"event": event, "t": time.time(), **fields}) + "\n"
        data = line.encode("utf-8")
        with self._lock:
            while data:
                n = os.write(self._fd, data)
                data = data[n:]

    def started(self):
        self.emit("started", pid=os.getpid(), protocol=1)

    def phase(self, name):
        self.emit("phase", name=name)

    def heartbeat(self, token=None, total=None):
        fields = {}
        if token is not None:
            fields["token"] = int(token)
        if total is not None:
            fields["total"] = int(total)
        self.emit("heartbeat", **fields)

    def warning(self, message):
        self.emit("warning", message=str(message))

    def failure(self, outcome, message):
        self.emit("failure", outcome=outcome, message=str(message))

    def close(self):
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


class Heartbeat:
    """Heartbeats that mean progress; use it as a context manager around the work.

    orch takes every event for a sign of life and ends an attempt `hung` after
    `heartbeat_timeout` seconds without one. A thread that beat on its own would keep a
    wedged worker (a deadlock, a hung collective, a GPU that stopped answering) alive until
    the wall-clock `timeout`; so this thread only forwards progress: it sends a heartbeat
    at most every `interval` seconds, and only when the work reported some since the last
    one, through `progress(token, total)` (the decode loop, once per token) or `beat()`
    (any other step that moved). A worker that stops calling them stops beating.

    A single long call that cannot report progress (loading weights, compiling) goes
    inside `with hb.busy(limit_s):`: the thread beats for it, but for at most `limit_s`
    seconds, so a call that wedges is still found `limit_s + heartbeat_timeout` later.
    """

    def __init__(self, events, interval=0.5):
        self._events = events
        self._interval = interval
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._token = None
        self._total = None
        self._moved = False        # progress since the last heartbeat
        self._busy_until = 0.0     # monotonic deadline of the current busy() block
        self._thread = threading.Thread(target=self._run, name="orch-heartbeat", daemon=True)

    def progress(self, token, total=None):
        """The work advanced to `token` of `total`."""
        with self._lock:
            self._token, self._total, self._moved = token, total, True

    def beat(self):
        """The work advanced (no token count)."""
        with self._lock:
            self._moved = True

    def busy(self, limit_s):
        """Context manager: beat while one long call runs, for at most `limit_s` s."""
        return _Busy(self, float(limit_s))

    def _set_busy(self, until):
        with self._lock:
            self._busy_until = until
            self._moved = True

    def _run(self):
        while not self._stop.wait(self._interval):
            with self._lock:
                due = self._moved or time.monotonic() < self._busy_until
                self._moved = False
                token, total = self._token, self._total
            if due:
                self._events.heartbeat(token, total)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False


class _Busy:
    def __init__(self, hb, limit_s):
        self._hb, self._limit_s = hb, limit_s

    def __enter__(self):
        self._hb._set_busy(time.monotonic() + self._limit_s)
        return self._hb

    def __exit__(self, *exc):
        self._hb._set_busy(0.0)
        return False
