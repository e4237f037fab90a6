"""Device selection, synchronization and peak memory (CUDA caching allocator, host RSS)."""

import os
import platform
import resource

import torch

from orch_reference.outcomes import Blocked


def parse_device(name):
    if name == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise Blocked(f"device {name}: no CUDA device is visible (torch.cuda.is_available() "
                      "is False)")
    dev = torch.device(name)
    if dev.index is not None and dev.index >= torch.cuda.device_count():
        raise Blocked(f"device {name}: only {torch.cuda.device_count()} CUDA device(s) visible")
    return dev


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def reset_peaks(device):
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory(device):
    out = {"peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
    if device.type == "cuda":
        out["peak_alloc_bytes"] = torch.cuda.max_memory_allocated(device)
        out["peak_reserved_bytes"] = torch.cuda.max_memory_reserved(device)
    return out


def device_name(device):
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine()


def set_threads():
    n = os.environ.get("ORCH_WORKER_THREADS", "")
    if n.isdigit() and int(n) > 0:
        torch.set_num_threads(int(n))
    return torch.get_num_threads()
