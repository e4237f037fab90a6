"""trial.json (protocol v1) and the token-id file."""

import array
import json
import os
import sys
from dataclasses import dataclass, field


class TrialError(Exception):
    """trial.json is missing, not JSON, or lacks a required field."""


@dataclass
class Trial:
    path: str
    trial_key: str
    attempt: int
    attempt_dir: str
    events_path: str
    result_path: str
    config: dict = field(default_factory=dict)   # resolved config: every key present
    inputs: dict = field(default_factory=dict)   # model, tokenizer, dataset, token_ids

    @staticmethod
    def load(path):
        try:
            with open(path, "rb") as f:
                doc = json.loads(f.read().decode("utf-8"))
        except (OSError, ValueError) as e:
            raise TrialError(f"{path}: {e}") from e
        if not isinstance(doc, dict):
            raise TrialError(f"{path}: not a JSON object")
        if doc.get("protocol") != 1:
            raise TrialError(f"{path}: protocol {doc.get('protocol')!r} is not 1")
        for key in ("result_path", "events_path"):
            if not isinstance(doc.get(key), str) or not doc[key]:
                raise TrialError(f"{path}: `{key}` is missing or not a string")
        config = doc.get("config", {})
        inputs = doc.get("inputs", {})
        if not isinstance(config, dict) or not isinstance(inputs, dict):
            raise TrialError(f"{path}: `config` and `inputs` must be objects")
        return Trial(path=path, trial_key=str(doc.get("trial_key", "")),
                     attempt=int(doc.get("attempt", 1)),
                     attempt_dir=str(doc.get("attempt_dir", os.path.dirname(path))),
                     events_path=doc["events_path"], result_path=doc["result_path"],
                     config=config, inputs=inputs)


def read_token_ids(path):
    """The token-id file: little-endian int32, no header. Returns an array('i')."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) % 4:
        raise ValueError(f"{path}: {len(data)} bytes is not a multiple of 4 (int32 token ids)")
    ids = array.array("i")
    ids.frombytes(data)
    if sys.byteorder != "little":
        ids.byteswap()
    return ids
