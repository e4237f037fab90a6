// Ownership: who owns a running attempt and whether that owner is gone. Each `orch run`
// holds a lease in the database (RunRecord::lease_expires_s) that its scheduler loop
// refreshes; an owner whose lease expired is gone wherever it ran (another host,
// another PID namespace). On this host and in this PID namespace, a dead pid (or a pid
// whose start time differs) means gone at once, without waiting for the lease. A live
// owner with a fresh lease is never taken over. Also: the identity of a process
// (/proc/PID/stat start time), used to recognise orphaned workers. Linux; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "store/records.h"

namespace orch {

// Where this process runs: host name and PID namespace.
struct LocalIdentity {
  std::string host;
  std::string pid_ns;  // readlink("/proc/self/ns/pid"), "" when unreadable
};
LocalIdentity ThisProcessIdentity();

// This process as a run's owner: host, pid, start time and PID namespace.
store::Owner SelfRunOwner();

// The start time of `pid` in clock ticks since boot (field 22 of /proc/PID/stat), or
// nullopt when there is no such process (or it cannot be read).
std::optional<int64_t> ProcessStartTicks(int64_t pid);

// True when `pid` is a live process that started at `start_ticks` (not a reused pid),
// and when the pid exists but /proc cannot tell its start time (cannot tell is not gone).
bool SameProcessAlive(int64_t pid, int64_t start_ticks);

// Unix time now, in seconds.
double UnixNow();

// Whether the run that owns an attempt is gone, and why (for messages):
//   the run ended; or its owner is in our host and PID namespace and its pid is dead or
//   reused; or its lease expired before `now`. Runs of schema v1 (no lease) fall back
//   to the pid check on this host and are assumed alive elsewhere.
struct OwnerVerdict {
  bool gone = false;
  std::string why;
};
OwnerVerdict JudgeOwner(const store::RunRecord& run, const LocalIdentity& me, double now);

// Lease settings: ORCH_LEASE_S (default 60) and ORCH_LEASE_REFRESH_S (default 10), for
// tests and clusters with slow shared filesystems. Refresh is clamped below the lease.
struct LeaseSettings {
  double lease_s = 60;
  double refresh_s = 10;
};
LeaseSettings LeaseSettingsFromEnv();

}  // namespace orch
