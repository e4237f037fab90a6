"""result.json: validated against protocol v1 exactly as orch validates it, and written
atomically.

`validate(doc)` mirrors orch's reader (orchestrator/attempt/classify.cc, ReadResult; the rules are
in docs/protocol.md, "result.json"): a document it accepts is one orch records as written,
and one it refuses would have ended the attempt in `error`, so the worker learns it at
write time, with the same reason, instead of losing the whole measurement.
"""

import json
import math
import os
from dataclasses import dataclass, field

# The outcomes a worker may report; crash, timeout, hung and interrupted are orch's.
OUTCOMES = ("ok", "nan", "oom", "cuda_error", "blocked", "error")

_INT_MAX = 0x7FFFFFFF  # orch keeps repeat and warmup in an int


@dataclass
class Result:
    outcome: str
    reason: str = ""
    metrics: dict = field(default_factory=dict)
    samples: list = field(default_factory=list)   # [{"repeat", "warmup", "latency_ms", "nll"}]
    details: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    environment: dict = field(default_factory=dict)

    def to_json(self):
        doc = {"protocol": 1, "outcome": self.outcome, "reason": str(self.reason),
               "metrics": {k: _as_float(v) for k, v in self.metrics.items()},
               "samples": self.samples, "details": self.details,
               "warnings": [str(w) for w in self.warnings], "environment": self.environment}
        validate(doc)
        return doc


def _as_float(v):
    return float(v) if _is_number(v) else v  # validate() names what is not a number


def _type_name(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true/false"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, (list, tuple)):
        return "a list"
    if isinstance(v, dict):
        return "an object"
    return type(v).__name__


def _is_number(v):
    # JSON numbers (and null, NaN, +-Infinity: orch reads them as non-finite); never a bool,
    # which json.dumps writes as true/false.
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))


def _is_count(v):
    # An integer >= 0 that fits orch's int: 3 and 3.0 are, True, "3", -1 and 2**31 are not.
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    if isinstance(v, float) and (not math.isfinite(v) or v != math.floor(v)):
        return False
    return 0 <= v <= _INT_MAX


def _wrong(where, v, want):
    return ValueError(f"{where} is {_type_name(v)}, not {want}")


def _validate_samples(samples):
    if not isinstance(samples, (list, tuple)):
        raise _wrong("samples", samples, "a list")
    seen = set()
    for si, s in enumerate(samples):
        where = f"samples[{si}]"
        if not isinstance(s, dict):
            raise _wrong(where, s, "an object")
        repeat = s.get("repeat", 0)
        if not _is_count(repeat):
            raise _wrong(where + ".repeat", repeat, "an integer >= 0")
        if int(repeat) in seen:
            raise ValueError(f"{where}.repeat: repeat {int(repeat)} is given twice "
                             "(each samples entry is one repeat)")
        seen.add(int(repeat))
        if "warmup" in s and not _is_count(s["warmup"]):
            raise _wrong(where + ".warmup", s["warmup"], "an integer >= 0")
        for key in ("latency_ms", "nll"):
            if key not in s:
                continue
            series = s[key]
            if not isinstance(series, (list, tuple)):
                raise _wrong(f"{where}.{key}", series, "a list of numbers")
            for i, x in enumerate(series):
                if not _is_number(x):
                    raise _wrong(f"{where}.{key}[{i}]", x, "a number")
        if len(s.get("latency_ms", [])) != len(s.get("nll", [])):
            raise ValueError(f"{where}: latency_ms and nll differ in length")


def validate(doc):
    """Raises ValueError naming the first field orch would refuse (its wording)."""
    if not isinstance(doc, dict):
        raise ValueError(f"the top level is {_type_name(doc)}, not an object")
    if "outcome" not in doc:
        raise ValueError("outcome is missing")
    outcome = doc["outcome"]
    if not isinstance(outcome, str):
        raise _wrong("outcome", outcome, "a string")
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
    if doc.get("reason") is not None and not isinstance(doc["reason"], str):
        raise _wrong("reason", doc["reason"], "a string")
    if "metrics" in doc:
        if not isinstance(doc["metrics"], dict):
            raise _wrong("metrics", doc["metrics"], "an object")
        for name, v in doc["metrics"].items():
            if not _is_number(v):
                raise ValueError(f"metric {name} is {_type_name(v)}, not a number")
    if "samples" in doc:
        _validate_samples(doc["samples"])
    for key in ("details", "environment"):
        if key in doc and not isinstance(doc[key], dict):
            raise _wrong(key, doc[key], "an object")
    if "warnings" in doc:
        w = doc["warnings"]
        if not isinstance(w, (list, tuple)):
            raise _wrong("warnings", w, "a list of strings")
        for i, x in enumerate(w):
            if not isinstance(x, str):
                raise _wrong(f"warnings[{i}]", x, "a string")


def write_result(path, result):
    """Validates `result` (a Result or a dict) as orch will (ValueError otherwise), writes
    it to a temporary file in the same directory, fsyncs it, renames it to `path` and
    fsyncs the directory: complete or absent."""
    if isinstance(result, Result):
        doc = result.to_json()
    else:
        doc = result
        validate(doc)
    # Bare NaN/Infinity are accepted by orch (docs/protocol.md); json.dumps writes them.
    text = json.dumps(doc, allow_nan=True)
    if len(text.encode("utf-8")) > 64 << 20:
        raise ValueError("result.json would be larger than 64 MiB (orch reads no more)")
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.tmp.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        data = text.encode("utf-8")
        while data:
            data = data[os.write(fd, data):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, path)
    dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
