"""result.json: validated against protocol v1 and written atomically."""

import json
import os
from dataclasses import dataclass, field

# The outcomes a worker may report; crash, timeout, hung and interrupted are orch's.
OUTCOMES = ("ok", "nan", "oom", "cuda_error", "blocked", "error")


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
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome {self.outcome!r} is not one of {', '.join(OUTCOMES)}")
        for name, v in self.metrics.items():
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                raise ValueError(f"metric {name} is {type(v).__name__}, not a number")
        for i, s in enumerate(self.samples):
            for key in ("repeat", "warmup"):
                if not isinstance(s.get(key), int) or s[key] < 0:
                    raise ValueError(f"samples[{i}].{key} must be an integer >= 0")
            if len(s.get("latency_ms", [])) != len(s.get("nll", [])):
                raise ValueError(f"samples[{i}]: latency_ms and nll differ in length")
        return {"protocol": 1, "outcome": self.outcome, "reason": str(self.reason),
                "metrics": {k: float(v) for k, v in self.metrics.items()},
                "samples": self.samples, "details": self.details,
                "warnings": [str(w) for w in self.warnings], "environment": self.environment}


def write_result(path, result):
    """Writes `result` (a Result or a dict) to a temporary file in the same directory,
    fsyncs it, renames it to `path` and fsyncs the directory: complete or absent."""
    doc = result.to_json() if isinstance(result, Result) else result
    # Bare NaN/Infinity are accepted by orch (docs/protocol.md); json.dumps writes them.
    text = json.dumps(doc, allow_nan=True)
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
