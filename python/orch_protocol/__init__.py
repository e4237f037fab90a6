"""orch_protocol: the worker side of orch's protocol v1 (docs/protocol.md) for Python workers.

A worker reads ``trial.json``, appends JSON-line events (heartbeats that report progress:
a worker that stops making progress stops beating, so orch's ``heartbeat_timeout`` finds
it), and writes ``result.json`` atomically, validated as orch will read it. Nothing here imports torch:
any Python stack can use it. Typical use::

    from orch_protocol import Result, run_worker

    def run(trial, events):
        events.phase("decode")
        ...
        return Result("ok", metrics={"ppl": 12.3})

    if __name__ == "__main__":
        run_worker(run)
"""

from orch_protocol.events import Events, Heartbeat
from orch_protocol.result import OUTCOMES, Result, validate, write_result
from orch_protocol.trial import Trial, TrialError, read_token_ids
from orch_protocol.runner import WorkerFailure, run_worker

__all__ = [
    "Events", "Heartbeat", "OUTCOMES", "Result", "validate", "write_result", "Trial", "TrialError",
    "read_token_ids", "WorkerFailure", "run_worker",
]
PROTOCOL = 1
