"""`quant` through TorchAO's public configs, as a researcher calls them:
quantize_(model, Config(...), filter_fn=...).

  int8wo     -> Int8WeightOnlyConfig(version=V)
  int8da     -> Int8DynamicActivationInt8WeightConfig(version=V)
  int4wo-gN  -> Int4WeightOnlyConfig(group_size=N, version=V)

V is the newest config version the installed TorchAO accepts, or the one named by the
user axis `x_torchao_version`; the versions it accepts (and the ones it refuses, with its
message) are recorded in the result's details. orch-worker's own variants
(int8wo-dequant, int8wo-unscaled) have no TorchAO config: blocked."""

import torch

from orch_reference.outcomes import Blocked

_ATTENTION = ("query_key_value", "dense")
_MLP = ("dense_h_to_4h", "dense_4h_to_h")
_MAX_VERSION = 3  # versions probed: 1.._MAX_VERSION
quantize_ = None  # torchao.quantization.quantize_, imported on first use


def _config_class(quant):
    global quantize_
    try:
        import torchao  # noqa: F401
        from torchao import quantization as q
        quantize_ = q.quantize_
    except ImportError as e:
        raise Blocked(f"{quant}: TorchAO is not installed ({type(e).__name__}: {e}); "
                      "scripts/install-deps.sh installs the pinned version") from e
    if quant == "int8wo":
        return q.Int8WeightOnlyConfig, {}
    if quant == "int8da":
        return q.Int8DynamicActivationInt8WeightConfig, {}
    if quant.startswith("int4wo-g"):
        return q.Int4WeightOnlyConfig, {"group_size": int(quant[len("int4wo-g"):])}
    raise Blocked(f"{quant} is an orch-worker variant with no TorchAO config "
                  "(the reference worker runs none, int8wo, int8da, int4wo-gN)")


def offered_versions(cls, kwargs, dtype, device):
    """{version: None if the installed TorchAO quantizes a scratch linear with it, else its
    refusal}. Constructing a config is not enough: TorchAO checks most versions only in
    quantize_."""
    out = {}
    for v in range(1, _MAX_VERSION + 1):
        try:
            scratch = torch.nn.Sequential(torch.nn.Linear(256, 256)).to(device=device, dtype=dtype)
            quantize_(scratch, cls(**kwargs, version=v))
            out[v] = None
        except Exception as e:  # noqa: BLE001 - each refusal is recorded, not raised
            out[v] = e
    return out


def _filter(scope, quantize_head=False):
    names = {"all": _ATTENTION + _MLP, "attention": _ATTENTION, "mlp": _MLP}[scope]

    def keep(module, fqn):
        # The embedding is never quantized; embed_out (transformers: lm_head) only with
        # quantize_head, as orch-worker.
        if not isinstance(module, torch.nn.Linear):
            return False
        if fqn in ("lm_head", "embed_out"):
            return quantize_head
        return fqn.startswith("gpt_neox.layers.") and fqn.rsplit(".", 1)[-1] in names
    return keep


def quantize(model, quant, scope, requested_version=None, quantize_head=False):
    """Quantizes `model` in place; returns details for the result. Raises Blocked."""
    if quant == "none":
        return {}
    cls, kwargs = _config_class(quant)
    p = next(model.parameters())
    versions = offered_versions(cls, kwargs, p.dtype, p.device)
    accepted = [v for v, e in versions.items() if e is None]
    default = cls(**kwargs).version
    details = {"torchao_config_versions": ",".join(map(str, accepted)) or "none",
               "torchao_default_version": default}
    for v, e in versions.items():
        if e is not None and v <= max(accepted + [default]):
            details[f"torchao_v{v}_refused"] = f"{type(e).__name__}: {e}"[:500]
    version = default
    if requested_version is not None:
        try:
            version = int(requested_version)
        except ValueError:
            raise Blocked(f"x_torchao_version '{requested_version}' is not an integer") from None
    name = f"{cls.__name__}({''.join(f'{k}={v}, ' for k, v in kwargs.items())}version={version})"
    details["torchao_config"] = name
    e = versions.get(version)
    if version not in versions:
        raise Blocked(f"{quant}: {name}: TorchAO versions probed are 1..{_MAX_VERSION}", details)
    if isinstance(e, ImportError):  # e.g. int4's kernels: fbgemm-gpu-genai / mslk missing
        raise Blocked(f"{quant}: {name} needs a kernel that failed to import: "
                      f"{type(e).__name__}: {e}", details)
    if e is not None:
        raise Blocked(f"{quant}: TorchAO refuses {name}: {type(e).__name__}: {e} "
                      f"(versions it runs here: {details['torchao_config_versions']})", details)
    quantize_(model, cls(**kwargs, version=version), filter_fn=_filter(scope, quantize_head))
    return details


def weight_bytes(model):
    """Resident bytes of parameters and buffers; TorchAO tensor subclasses count their
    packed inner tensors."""
    def nbytes(t):
        if type(t) is not torch.Tensor and hasattr(t, "__tensor_flatten__"):
            names, _ = t.__tensor_flatten__()
            return sum(nbytes(getattr(t, n)) for n in names)
        return t.numel() * t.element_size()
    total = 0
    for p in model.parameters():
        total += nbytes(p.data if isinstance(p, torch.nn.Parameter) else p)
    return total
