// Attempt directories: RUNS/KEY/attempt-N, created exclusively so that an attempt never
// writes into a directory an earlier life of the database (a reset database, a claim
// rolled back or lost to a power cut) already used: when attempt-N exists, the next free
// attempt-N.1, attempt-N.2, ... is taken. A full disk or exhausted descriptors are
// the machine's fault (Status::Resource), not the trial's. Any thread.
#pragma once

#include <string>

#include "base/status.h"

namespace orch {

StatusOr<std::string> CreateAttemptDir(const std::string& runs_dir, const std::string& key,
                                       int number);

}  // namespace orch
