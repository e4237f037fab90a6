"""The reference worker: the trial of docs/worker.md run on the stack researchers use
(transformers' GPTNeoXForCausalLM, TorchAO quantization, torch.compile), speaking
protocol v1 through orch_protocol. Written independently of orch-worker's C++ so that
two implementations can be checked against each other."""
