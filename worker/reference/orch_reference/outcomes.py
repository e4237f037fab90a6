"""Exceptions -> protocol outcomes (docs/protocol.md, docs/worker.md "Outcomes").

oom: torch's OutOfMemoryError, a CUDA/cuBLAS allocation failure, or host MemoryError;
cuda_error: any other CUDA runtime/cuBLAS error text; blocked: the stack cannot run the
variant (a kernel that fails to import, an op not implemented for this dtype/device);
error: everything else, with the exception's type and message."""

import torch

_OOM_TEXT = ("CUDA out of memory", "CUBLAS_STATUS_ALLOC_FAILED", "cudaErrorMemoryAllocation",
             "out of memory")
_CUDA_TEXT = ("CUDA error", "cudaError", "CUBLAS_STATUS_", "CUDA driver error",
              "device-side assert")


class Blocked(Exception):
    """The trial cannot run on this stack; the message says why, `details` go to the result."""

    def __init__(self, message, details=None):
        super().__init__(message)
        self.details = details or {}


def _text(exc):
    return f"{type(exc).__name__}: {exc}"


def classify(exc):
    """(outcome, reason) for an exception that ended a trial."""
    msg = str(exc)
    if isinstance(exc, Blocked):
        return "blocked", msg
    if isinstance(exc, (torch.OutOfMemoryError, MemoryError)):
        return "oom", _text(exc)
    if isinstance(exc, (ImportError, NotImplementedError)):
        return "blocked", _text(exc)
    if isinstance(exc, RuntimeError):
        if any(t in msg for t in _OOM_TEXT):
            return "oom", _text(exc)
        if any(t in msg for t in _CUDA_TEXT):
            return "cuda_error", _text(exc)
        if "not implemented for" in msg or "Could not run" in msg:
            return "blocked", _text(exc)
    return "error", _text(exc)
