// Replicates end to end (issue 13): the orch binary with the fake worker. `repeats: N`
// runs N worker processes per trial, each with `repeats: 1` and its replicate number in
// trial.json, claimed round by round over the cells; a failing replicate fails its
// trial; orch killed at every crash point and resumed ends with exactly N ok replicates.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "orch_process.h"
#include "store/store.h"
#include "sweep_probe.h"
#include "test_util.h"
#include "tests/orchestrator/must.h"

namespace orch {
namespace {

using testing::LiveProcesses;
using testing::MarkerCounts;
using testing::OrchLog;
using testing::SpawnExtras;
using testing::SpawnOrchWith;
using testing::TempDir;
using testing::WaitOrch;
using testing::WriteText;

std::string Spec(const std::string& matrix, int repeats, const std::string& extra = "") {
  return "name: e2e\nworker: " FAKE_WORKER "\n" + extra +
         "defaults: {tokens: 16, timeout: 20, heartbeat_timeout: 2, repeats: " +
         std::to_string(repeats) + "}\nstudies:\n  - id: A\n    matrix: " + matrix + "\n";
}

nlohmann::json TrialJson(const store::AttemptRecord& a) {
  std::ifstream in(a.attempt_dir + "/trial.json");
  return nlohmann::json::parse(in, nullptr, false);
}

TEST(ReplicatesEndToEnd, EachReplicateIsAFreshProcessClaimedRoundRobin) {
  TempDir d;
  WriteText(d / "spec.yaml",
            Spec("{x_i: [\"1\", \"2\", \"3\"], x_marker: [\"" + d / "marker" + "\"]}", 3,
                 "order: interleaved\n"));  // spec order within a round (below)
  // The plan says how many worker processes the replicates make.
  auto plan = testing::RunOrch(d.path(), "plan spec.yaml");
  EXPECT_NE(plan.output.find("3 distinct trials (9 worker processes"), std::string::npos)
      << plan.output;
  pid_t orch = SpawnOrchWith(d.path(), {"run", "spec.yaml", "-j", "1"});
  ASSERT_EQ(WaitOrch(orch), 0) << OrchLog(d.path(), orch);
  // Progress counts trials (done at their last replicate) and names the replicate.
  std::string log = OrchLog(d.path(), orch);
  EXPECT_NE(log.find("[0/3] ok"), std::string::npos) << log;
  EXPECT_NE(log.find("replicate 1/3"), std::string::npos) << log;
  EXPECT_NE(log.find("[3/3] ok"), std::string::npos) << log;
  EXPECT_EQ(log.find("[4/3]"), std::string::npos) << log;
  auto db = testing::OpenSweepDb(d.path());
  ASSERT_TRUE(db);
  auto trials = Must(db->Trials(Must(db->FindSweep("e2e"))->id));
  ASSERT_EQ(trials.size(), 3u);
  // Attempt ids are the claim order: every cell's replicate 1, then 2, then 3, in spec
  // order within a round.
  std::map<int64_t, std::pair<int, int>> by_id;  // attempt id -> (cell position, replicate)
  std::set<int64_t> worker_pids;
  for (const auto& t : trials) {
    EXPECT_EQ(t.outcome, "ok");
    EXPECT_EQ(t.ok_replicates, 3);
    auto attempts = Must(db->Attempts(t.key));
    ASSERT_EQ(attempts.size(), 3u);
    for (const auto& a : attempts) {
      by_id[a.id] = {t.position, a.replicate};
      worker_pids.insert(a.worker_pid);
      nlohmann::json tj = TrialJson(a);
      ASSERT_TRUE(tj.is_object()) << a.attempt_dir;
      EXPECT_EQ(tj["replicate"], a.replicate);
      EXPECT_EQ(tj["replicates"], 3);
      EXPECT_EQ(tj["config"]["repeats"], 1);  // one decode loop per process
      EXPECT_EQ(nlohmann::json::parse(t.config_json)["repeats"], 3);  // the identity keeps N
      EXPECT_EQ(Must(db->Samples(a.id)).size(), 16u);
    }
  }
  EXPECT_EQ(worker_pids.size(), 9u);  // nine processes
  int i = 0;
  for (const auto& [id, where] : by_id) {
    EXPECT_EQ(where, std::make_pair(i % 3, i / 3 + 1)) << "claim " << i;
    ++i;
  }
  auto markers = MarkerCounts(d / "marker");
  ASSERT_EQ(markers.size(), 3u);
  for (const auto& [key, n] : markers) EXPECT_EQ(n, 3) << key;

  auto status = testing::RunOrch(d.path(), "status");
  EXPECT_NE(status.output.find("replicates: 9/9 ok"), std::string::npos) << status.output;
  auto show = testing::RunOrch(d.path(), "show " + trials[0].key.substr(0, 8));
  EXPECT_NE(show.output.find("replicates: 3/3 ok"), std::string::npos) << show.output;
  EXPECT_NE(show.output.find("attempt 3 (replicate 3)"), std::string::npos) << show.output;
  auto report = testing::RunOrch(d.path(), "report --out rep");
  ASSERT_EQ(report.exit_code, 0) << report.output;
  std::ifstream md(d / "rep/report.md");
  std::string text((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("x 3 replicates (fresh processes, interleaved)"), std::string::npos);
}

TEST(ReplicatesEndToEnd, ARandomOrderIsRecordedWithTheSweep) {
  TempDir d;
  WriteText(d / "spec.yaml", Spec("{x_i: [\"1\", \"2\", \"3\", \"4\"]}", 2,
                                  "order: random\norder_seed: 5\n"));
  pid_t orch = SpawnOrchWith(d.path(), {"run", "spec.yaml", "-j", "1"});
  ASSERT_EQ(WaitOrch(orch), 0) << OrchLog(d.path(), orch);
  auto db = testing::OpenSweepDb(d.path());
  ASSERT_TRUE(db);
  EXPECT_EQ(Must(db->FindSweep("e2e"))->claim_order, "random:5");
  auto status = testing::RunOrch(d.path(), "status");
  EXPECT_NE(status.output.find("claim order random:5"), std::string::npos) << status.output;
}

TEST(ReplicatesEndToEnd, AFailingReplicateFailsTheTrialAndStopsItsReplicates) {
  TempDir d;
  WriteText(d / "spec.yaml", Spec("{x_fail_replicate: [\"0\", \"2\"]}", 3));
  pid_t orch = SpawnOrchWith(d.path(), {"run", "spec.yaml", "-j", "2"});
  EXPECT_EQ(WaitOrch(orch), 0) << OrchLog(d.path(), orch);  // a failed trial is a result
  auto db = testing::OpenSweepDb(d.path());
  ASSERT_TRUE(db);
  for (const auto& t : Must(db->Trials(Must(db->FindSweep("e2e"))->id))) {
    auto attempts = Must(db->Attempts(t.key));
    if (nlohmann::json::parse(t.config_json)["x_fail_replicate"] == "2") {
      EXPECT_EQ(t.outcome, "error");
      ASSERT_EQ(attempts.size(), 2u);  // replicate 3 never ran
      EXPECT_EQ(attempts[1].replicate, 2);
      EXPECT_EQ(attempts[1].outcome, "error");
      EXPECT_EQ(t.final_attempt_id, attempts[1].id);
    } else {
      EXPECT_EQ(t.outcome, "ok");
      EXPECT_EQ(attempts.size(), 3u);
    }
  }
}

// orch dies at each crash point, several times over a sweep of 3 cells x 3 replicates;
// the resume ends with exactly 3 ok replicates per trial, each a worker that completed
// once (the marker), none lost and none extra.
class ReplicateCrashWindow : public ::testing::TestWithParam<const char*> {};

TEST_P(ReplicateCrashWindow, ResumeKeepsExactlyNReplicates) {
  TempDir d;
  WriteText(d / "spec.yaml",
            Spec("{x_behavior: [sleep], x_sleep: [\"0.1\"], x_i: [\"1\", \"2\", \"3\"], "
                 "x_marker: [\"" + d / "marker" + "\"]}",
                 3));
  for (int kill = 0; kill < 3; ++kill) {
    pid_t orch = SpawnOrchWith(d.path(), {"run", "spec.yaml", "-j", "2"},
                               {{{"ORCH_FAULT", GetParam()}}});
    int rc = WaitOrch(orch);
    if (rc == 0) break;  // nothing left to crash in
    EXPECT_EQ(rc, 128 + SIGKILL) << OrchLog(d.path(), orch);
  }
  pid_t resume = SpawnOrchWith(d.path(), {"run", "spec.yaml", "-j", "2"});
  ASSERT_EQ(WaitOrch(resume), 0) << OrchLog(d.path(), resume);
  auto db = testing::OpenSweepDb(d.path());
  ASSERT_TRUE(db);
  EXPECT_TRUE(db->IntegrityCheck().ok());
  for (const auto& t : Must(db->Trials(Must(db->FindSweep("e2e"))->id))) {
    EXPECT_EQ(t.outcome, "ok") << t.key;
    std::vector<int> ok_replicates;
    for (const auto& a : Must(db->Attempts(t.key))) {
      EXPECT_TRUE(a.finished);
      if (a.outcome == "ok") ok_replicates.push_back(a.replicate);
      else EXPECT_EQ(a.outcome, "interrupted") << t.key;
    }
    EXPECT_EQ(ok_replicates, (std::vector<int>{1, 2, 3})) << t.key;
  }
  auto markers = MarkerCounts(d / "marker");
  EXPECT_EQ(markers.size(), 3u);
  for (const auto& [key, n] : markers) EXPECT_EQ(n, 3) << key;
  EXPECT_TRUE(Must(db->UnfinishedAttempts()).empty());
  EXPECT_EQ(LiveProcesses(FAKE_WORKER, d.path()), 0);
}

INSTANTIATE_TEST_SUITE_P(Points, ReplicateCrashWindow,
                         ::testing::Values("after_claim", "after_spawn", "after_result_written",
                                           "inside_result_txn"));

}  // namespace
}  // namespace orch
