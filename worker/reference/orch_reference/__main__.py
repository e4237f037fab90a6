import sys

from orch_reference.build_id import print_build_id
from orch_protocol import run_worker

if __name__ == "__main__":
    if sys.argv[1:] == ["--build-id"]:  # answered without importing torch
        print_build_id()
        sys.exit(0)
    from orch_reference.outcomes import classify
    from orch_reference.trial_runner import run_trial
    sys.exit(run_worker(run_trial, classify=classify))
