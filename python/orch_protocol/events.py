"""Progress events: one JSON line per event, flushed, and a heartbeat thread."""

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
    """A daemon thread that emits a heartbeat every `interval` seconds with the progress
    last set through `progress(token, total)`; use it as a context manager."""

    def __init__(self, events, interval=0.5):
        self._events = events
        self._interval = interval
        self._stop = threading.Event()
        self._token = None
        self._total = None
        self._thread = threading.Thread(target=self._run, name="orch-heartbeat", daemon=True)

    def progress(self, token, total=None):
        self._token, self._total = token, total

    def _run(self):
        while not self._stop.wait(self._interval):
            self._events.heartbeat(self._token, self._total)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False
