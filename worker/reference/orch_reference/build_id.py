"""The build id: what decides whether a result of this worker can be reused. It covers
the worker's own source files (this package, orch_protocol, the entry script) and the
versions of the stack (torch, transformers, TorchAO), read from the installed package
metadata so that the probe does not import torch (orch runs it with a timeout)."""

import hashlib
import importlib.metadata
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_WORKER_DIR = os.path.dirname(_HERE)
_ROOT = os.path.dirname(os.path.dirname(_WORKER_DIR))
STACK = ("torch", "transformers", "torchao")


def source_files():
    files = [os.path.join(_WORKER_DIR, "orch-reference-worker")]
    for d in (_HERE, os.path.join(_ROOT, "python", "orch_protocol")):
        files += [os.path.join(d, n) for n in os.listdir(d) if n.endswith(".py")]
    return sorted(files)


def source_hash():
    h = hashlib.sha256()
    for path in source_files():
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        h.update(f"{os.path.relpath(path, _ROOT)}\0{digest}\n".encode())
    return h.hexdigest()


def package_version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def build_id():
    versions = " ".join(f"{p}={package_version(p)}" for p in STACK)
    py = ".".join(map(str, sys.version_info[:3]))
    return f"orch-reference-worker 0.1.0 src={source_hash()[:16]} {versions} python={py}"


def print_build_id():
    print(build_id())
