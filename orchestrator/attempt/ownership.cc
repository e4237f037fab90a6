#include "orchestrator/attempt/ownership.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace orch {
namespace {

std::string Hostname() {
  char buf[256] = {0};
  ::gethostname(buf, sizeof(buf) - 1);
  return buf;
}

std::string PidNamespace() {
  char buf[128];
  ssize_t n = ::readlink("/proc/self/ns/pid", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

std::optional<double> EnvSeconds(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  char* end = nullptr;
  double d = std::strtod(v, &end);
  if (end == v || *end != '\0' || !(d > 0) || d > 1e7) return std::nullopt;
  return d;
}

}  // namespace

LocalIdentity ThisProcessIdentity() { return {Hostname(), PidNamespace()}; }

store::Owner SelfRunOwner() {
  int64_t pid = ::getpid();
  LocalIdentity me = ThisProcessIdentity();
  return {me.host, pid, ProcessStartTicks(pid).value_or(0), me.pid_ns};
}

namespace {

// State (field 3) and start time (field 22) from /proc/PID/stat.
bool ReadStat(int64_t pid, char* state, int64_t* start) {
  if (pid <= 0) return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return false;
  auto rparen = stat.rfind(')');
  if (rparen == std::string::npos || rparen + 2 > stat.size()) return false;
  std::istringstream fields(stat.substr(rparen + 2));
  std::string f;
  for (int i = 3; i <= 22 && fields >> f; ++i) {
    if (i == 3) *state = f.empty() ? '?' : f[0];
    if (i == 22) {
      char* end = nullptr;
      long long v = std::strtoll(f.c_str(), &end, 10);
      if (end == f.c_str()) return false;
      *start = static_cast<int64_t>(v);
      return true;
    }
  }
  return false;
}

}  // namespace

std::optional<int64_t> ProcessStartTicks(int64_t pid) {
  char state = 0;
  int64_t start = 0;
  if (!ReadStat(pid, &state, &start)) return std::nullopt;
  return start;
}

bool SameProcessAlive(int64_t pid, int64_t start_ticks) {
  if (pid <= 0) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return false;
  char state = 0;
  int64_t start = 0;
  // The pid exists but /proc cannot say whose it is (hidepid, no descriptors left):
  // cannot tell, so not gone. An owner on another host is judged by its lease anyway.
  if (!ReadStat(pid, &state, &start)) return true;
  // A zombie has exited; only its parent's wait is missing.
  return start == start_ticks && state != 'Z' && state != 'X';
}

double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

OwnerVerdict JudgeOwner(const store::RunRecord& run, const LocalIdentity& me, double now) {
  if (!run.finished_utc.empty()) return {true, "its orch run ended"};
  const store::Owner& o = run.owner;
  bool here = o.host == me.host && (run.lease_expires_s ? o.pid_ns == me.pid_ns && !me.pid_ns.empty()
                                                        : true);
  // Without a recorded start time (no /proc), only a pid that does not exist is gone.
  bool pid_gone = o.pid_start == 0 ? ::kill(static_cast<pid_t>(o.pid), 0) != 0 && errno == ESRCH
                                   : !SameProcessAlive(o.pid, o.pid_start);
  if (here && pid_gone) {
    return {true, "its orch (pid " + std::to_string(o.pid) + " on " + o.host + ") is gone"};
  }
  if (run.lease_expires_s && now > *run.lease_expires_s) {
    return {true, "the lease of its orch (pid " + std::to_string(o.pid) + " on " + o.host +
                      ") expired " + std::to_string(static_cast<long long>(now - *run.lease_expires_s)) +
                      " s ago"};
  }
  return {false, ""};
}

LeaseSettings LeaseSettingsFromEnv() {
  LeaseSettings s;
  if (auto v = EnvSeconds("ORCH_LEASE_S")) s.lease_s = *v;
  if (auto v = EnvSeconds("ORCH_LEASE_REFRESH_S")) s.refresh_s = *v;
  if (s.refresh_s >= s.lease_s) s.refresh_s = s.lease_s / 3;
  return s;
}

}  // namespace orch
