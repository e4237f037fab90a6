// Ownership by lease: who is gone, who must never be taken over.
#include "orchestrator/attempt/ownership.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace orch {
namespace {

store::RunRecord RunOf(const std::string& host, int64_t pid, int64_t start, const std::string& ns,
                     std::optional<double> lease_expires) {
  store::RunRecord r;
  r.owner = {host, pid, start, ns};
  r.lease_expires_s = lease_expires;
  if (lease_expires) r.heartbeat_s = *lease_expires - 60;
  return r;
}

constexpr int64_t kDeadPid = 999999999;  // above pid_max: never a live process

TEST(Ownership, AFreshLeaseElsewhereIsNeverTakenOver) {
  LocalIdentity me{"here", "pid:[1]"};
  double now = 1000;
  EXPECT_FALSE(JudgeOwner(RunOf("there", kDeadPid, 1, "pid:[1]", now + 30), me, now).gone);
  // Same host name, another PID namespace (containers, SLURM): its pid means nothing
  // here, so a pid that looks dead from here does not make it gone.
  EXPECT_FALSE(JudgeOwner(RunOf("here", kDeadPid, 1, "pid:[2]", now + 30), me, now).gone);
}

TEST(Ownership, AnExpiredLeaseIsGoneWherever) {
  LocalIdentity me{"here", "pid:[1]"};
  double now = 1000;
  auto v = JudgeOwner(RunOf("there", 1, 1, "pid:[9]", now - 5), me, now);
  EXPECT_TRUE(v.gone);
  EXPECT_NE(v.why.find("lease"), std::string::npos) << v.why;
  EXPECT_TRUE(JudgeOwner(RunOf("here", 1, 1, "pid:[2]", now - 5), me, now).gone);
}

TEST(Ownership, ADeadPidInOurNamespaceIsGoneAtOnce) {
  LocalIdentity me = ThisProcessIdentity();
  ASSERT_FALSE(me.pid_ns.empty());
  double now = UnixNow();
  EXPECT_TRUE(JudgeOwner(RunOf(me.host, kDeadPid, 1, me.pid_ns, now + 60), me, now).gone);
  // A reused pid: alive, but started at another time.
  int64_t start = *ProcessStartTicks(getpid());
  EXPECT_TRUE(JudgeOwner(RunOf(me.host, getpid(), start + 1, me.pid_ns, now + 60), me, now).gone);
  EXPECT_FALSE(JudgeOwner(RunOf(me.host, getpid(), start, me.pid_ns, now + 60), me, now).gone);
  // No start time recorded (no /proc where it ran): a live pid is not taken for gone.
  EXPECT_FALSE(JudgeOwner(RunOf(me.host, getpid(), 0, me.pid_ns, now + 60), me, now).gone);
}

TEST(Ownership, AnEndedRunIsGone) {
  LocalIdentity me = ThisProcessIdentity();
  auto r = RunOf(me.host, getpid(), *ProcessStartTicks(getpid()), me.pid_ns, UnixNow() + 60);
  r.finished_utc = "2026-01-01T00:00:00.000Z";
  EXPECT_TRUE(JudgeOwner(r, me, UnixNow()).gone);
}

TEST(Ownership, RunsWithoutALeaseFallBackToThePidOnThisHost) {
  LocalIdentity me = ThisProcessIdentity();
  double now = UnixNow();
  EXPECT_TRUE(JudgeOwner(RunOf(me.host, kDeadPid, 1, "", std::nullopt), me, now).gone);
  EXPECT_FALSE(JudgeOwner(RunOf("elsewhere", kDeadPid, 1, "", std::nullopt), me, now).gone);
}

TEST(Ownership, LeaseSettingsComeFromTheEnvironment) {
  setenv("ORCH_LEASE_S", "3", 1);
  setenv("ORCH_LEASE_REFRESH_S", "5", 1);
  LeaseSettings s = LeaseSettingsFromEnv();
  EXPECT_EQ(s.lease_s, 3);
  EXPECT_EQ(s.refresh_s, 1);  // clamped below the lease
  setenv("ORCH_LEASE_S", "nonsense", 1);
  EXPECT_EQ(LeaseSettingsFromEnv().lease_s, 60);
  unsetenv("ORCH_LEASE_S");
  unsetenv("ORCH_LEASE_REFRESH_S");
}

}  // namespace
}  // namespace orch
