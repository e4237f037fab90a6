"""StreamingLLM on transformers' GPT-NeoX, with the semantics of mit-han-lab/streaming-llm:
`StartRecentKVCache` (keep the first `n_sink` and the last `window` cached tokens,
evicting after every step) and pos-shift attention (keys are cached *before* rotary and
re-rotated at every step by their position within the cache; the query takes the last
position). The model, its layers and its rotary embedding are transformers' own; only the
attention forward is replaced, as the reference repository does."""

import functools
import types

import torch
from transformers.models.gpt_neox import modeling_gpt_neox as neox


def _rotary(x, cos, sin):
    """Rotary on the first cos.shape[-1] dims (partial rotary), transformers' rotate_half."""
    n = cos.shape[-1]
    x_rot, x_pass = x[..., :n], x[..., n:]
    return torch.cat([x_rot * cos + neox.rotate_half(x_rot) * sin, x_pass], dim=-1)


def _pos_shift_attention_forward(self, hidden_states, attention_mask=None, layer_past=None,
                                 position_embeddings=None, *, rotary_emb, **kwargs):
    input_shape = hidden_states.shape[:-1]
    qkv = self.query_key_value(hidden_states).view(*input_shape, -1, 3 * self.head_size)
    query, key, value = qkv.transpose(1, 2).chunk(3, dim=-1)
    cos, sin = position_embeddings  # the query's position: the cache length before this token
    query = _rotary(query, cos.unsqueeze(1), sin.unsqueeze(1))
    # The unrotated key joins the cache; every cached key is rotated by its slot position.
    key, value = layer_past.update(key, value, self.layer_idx)
    key_pos = torch.arange(key.shape[-2], device=key.device).unsqueeze(0)
    kcos, ksin = rotary_emb(value, position_ids=key_pos)
    key = _rotary(key, kcos.unsqueeze(1), ksin.unsqueeze(1))
    attention = neox.ALL_ATTENTION_FUNCTIONS.get_interface(self.config._attn_implementation,
                                                           neox.eager_attention_forward)
    out, weights = attention(self, query, key, value, attention_mask, scaling=self.scaling,
                             dropout=0.0, **kwargs)
    out = self.dense(out.reshape(*input_shape, -1).contiguous())
    return out, weights


def enable_pos_shift(model):
    """Replaces every GPTNeoXAttention.forward of `model` by the pos-shift forward."""
    rotary_emb = model.gpt_neox.rotary_emb
    for layer in model.gpt_neox.layers:
        attn = layer.attention
        fn = functools.partial(_pos_shift_attention_forward, rotary_emb=rotary_emb)
        attn.forward = types.MethodType(lambda self, *a, _fn=fn, **k: _fn(self, *a, **k), attn)


def evict(cache, n_sink, window):
    """StartRecentKVCache: keep the first n_sink and the last `window` tokens of every layer
    of a transformers DynamicCache (called after each step)."""
    for layer in cache.layers:
        n = layer.keys.shape[-2]
        if n <= n_sink + window:
            continue
        keep = lambda t: torch.cat([t[..., :n_sink, :], t[..., n - window:, :]], dim=-2)
        layer.keys = keep(layer.keys)
        layer.values = keep(layer.values)
