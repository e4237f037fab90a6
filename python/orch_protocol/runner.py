"""run_worker: argv handling, events, the failure event and exit status of protocol v1."""

import signal
import sys
import traceback

from orch_protocol.events import Events
from orch_protocol.result import OUTCOMES, Result, write_result
from orch_protocol.trial import Trial, TrialError


class WorkerFailure(Exception):
    """Raise to end the trial with a known outcome (e.g. WorkerFailure("blocked", why))."""

    def __init__(self, outcome, reason, details=None):
        if outcome not in OUTCOMES or outcome == "ok":
            raise ValueError(f"WorkerFailure outcome {outcome!r} is not a failure outcome")
        super().__init__(reason)
        self.outcome, self.reason, self.details = outcome, reason, details or {}


def run_worker(run, argv=None, classify=None, extra_flags=None):
    """The whole life of a protocol-v1 worker. `run(trial, events)` returns a Result or
    raises; `classify(exc)` maps an exception to (outcome, reason) (default: WorkerFailure
    keeps its outcome, anything else is `error`). `extra_flags` maps other flags (e.g.
    "--build-id") to functions printing their answer. Returns the exit status: 0 when
    result.json was written (whatever its outcome), 2 when trial.json could not be read,
    1 when result.json could not be written."""
    argv = sys.argv[1:] if argv is None else argv
    for flag, fn in (extra_flags or {}).items():
        if argv == [flag]:
            fn()
            return 0
    if len(argv) != 2 or argv[0] != "--trial":
        print("usage: WORKER --trial ATTEMPT_DIR/trial.json", file=sys.stderr)
        return 2
    # An orphaned worker (orch gone, the event pipe without reader) must die on its next
    # event, as a C worker does; Python ignores SIGPIPE by default.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        trial = Trial.load(argv[1])
        events = Events(trial.events_path)
    except (TrialError, OSError) as e:
        print(f"orch worker: {e}", file=sys.stderr)
        return 2
    events.started()
    try:
        result = run(trial, events)
    except BaseException as e:  # noqa: BLE001 - every failure becomes a result
        if isinstance(e, KeyboardInterrupt):
            raise
        traceback.print_exc(file=sys.stderr)
        if isinstance(e, WorkerFailure):
            outcome, reason, details = e.outcome, e.reason, e.details
        elif classify is not None:
            outcome, reason = classify(e)
            details = getattr(e, "details", None)
            details = details if isinstance(details, dict) else {}
        else:
            outcome, reason, details = "error", f"{type(e).__name__}: {e}", {}
        result = Result(outcome, reason=_one_line(reason), details=details)
    if result.outcome != "ok":
        events.failure(result.outcome, result.reason)
    try:
        write_result(trial.result_path, result)
    except ValueError as e:
        # orch would refuse this result: record why, as orch would word it, instead.
        reason = f"invalid result.json: {e}"
        print(f"orch worker: {reason}", file=sys.stderr)
        events.failure("error", reason)
        try:
            write_result(trial.result_path, Result("error", reason=reason))
        except (OSError, ValueError) as e2:
            print(f"orch worker: cannot write {trial.result_path}: {e2}", file=sys.stderr)
            return 1
    except OSError as e:
        print(f"orch worker: cannot write {trial.result_path}: {e}", file=sys.stderr)
        return 1
    return 0


def _one_line(text):
    lines = [l.strip() for l in str(text).splitlines() if l.strip()]
    return " | ".join(lines)[:4000]
