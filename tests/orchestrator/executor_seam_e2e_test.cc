// The executor seam end to end (issue 17): the orch binary with the fake worker, for the
// promises every executor keeps (orchestrator/executor.h):
//   F6   two runs of one sweep, the second after the spec was edited (another dataset):
//        each run claims only the cells of its own plan, so every result was measured on
//        the inputs its trial key names, and each run completes its own cells;
//   F11  `orch cancel --study A` stops A's running attempt within seconds (recorded
//        interrupted, pending) while the run completes B, exits 130 naming what it left,
//        and `orch resume` runs A.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "orch_process.h"
#include "store/store.h"
#include "sweep_probe.h"
#include "test_util.h"
#include "tests/orchestrator/must.h"

namespace orch {
namespace {

using testing::OrchLog;
using testing::SpawnOrchWith;
using testing::TempDir;
using testing::WaitOrch;
using testing::WriteText;

// `n` little-endian int32 token ids starting at `first` (a pre-tokenized .ids dataset).
void WriteIds(const std::string& path, int32_t first, int n) {
  std::ofstream out(path, std::ios::binary);
  for (int32_t i = 0; i < n; ++i) {
    int32_t v = first + i;
    unsigned char b[4] = {static_cast<unsigned char>(v), static_cast<unsigned char>(v >> 8),
                          static_cast<unsigned char>(v >> 16), static_cast<unsigned char>(v >> 24)};
    out.write(reinterpret_cast<const char*>(b), 4);
  }
}

std::string EditedSpec(const std::string& dataset) {
  return "name: seam\nworker: " FAKE_WORKER "\ndataset: " + dataset +
         "\ndefaults: {retries: 0, timeout: 30, heartbeat_timeout: 10}\nstudies:\n"
         "  - id: A\n    matrix: {x_i: [\"1\", \"2\", \"3\", \"4\", \"5\", \"6\"], "
         "x_behavior: [sleep], x_sleep: [\"0.4\"], x_report_inputs: [\"1\"]}\n";
}

TEST(ExecutorSeamEndToEnd, TwoRunsOfAnEditedSpecEachMeasureTheirOwnInputs) {
  TempDir d;
  WriteIds(d / "d1.ids", 0, 64);
  WriteIds(d / "d2.ids", 100, 64);
  WriteText(d / "spec.yaml", EditedSpec(d / "d1.ids"));
  pid_t first = SpawnOrchWith(d.path(), {"run", "spec.yaml", "-j", "1"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // a cell or two in
  WriteText(d / "spec.yaml", EditedSpec(d / "d2.ids"));
  pid_t second = SpawnOrchWith(d.path(), {"run", "spec.yaml", "-j", "1"});
  ASSERT_EQ(WaitOrch(first), 0) << OrchLog(d.path(), first);
  ASSERT_EQ(WaitOrch(second), 0) << OrchLog(d.path(), second);

  auto db = testing::OpenSweepDb(d.path());
  ASSERT_TRUE(db);
  auto trials = Must(db->Trials(Must(db->FindSweep("seam"))->id));
  ASSERT_EQ(trials.size(), 12u);  // six cells per dataset
  int64_t first_run = INT64_MAX;
  for (const auto& t : trials) {
    for (const auto& a : Must(db->Attempts(t.key))) first_run = std::min(first_run, a.run_id);
  }
  int measured = 0;
  for (const auto& t : trials) {
    // Each run completed its own cells: the first run's are the ones now out of the spec.
    EXPECT_EQ(t.outcome, "ok") << t.key << (t.in_spec ? " (d2)" : " (d1)");
    std::string want = d / (t.in_spec ? "d2.ids" : "d1.ids");
    for (const auto& a : Must(db->Attempts(t.key))) {
      if (a.outcome != "ok") continue;
      auto details = nlohmann::json::parse(a.details_json);
      EXPECT_EQ(details.value("dataset_seen", ""), want)
          << "trial " << t.key.substr(0, 8) << " attempt " << a.id << " by run " << a.run_id;
      // A run measures only its own plan: the first run the d1 cells, the second d2.
      EXPECT_EQ(a.run_id == first_run, !t.in_spec) << "attempt " << a.id;
      ++measured;
    }
  }
  EXPECT_EQ(measured, 12);
}

TEST(ExecutorSeamEndToEnd, CancelOfOneStudyStopsOnlyItsAttemptsWithinSeconds) {
  TempDir d;
  WriteText(d / "spec.yaml",
            "name: two\nworker: " FAKE_WORKER "\n"
            "defaults: {retries: 0, timeout: 60, heartbeat_timeout: 10}\nstudies:\n"
            "  - id: A\n    matrix: {x_i: [a], x_behavior: [sleep], x_sleep: [\"5\"]}\n"
            "  - id: B\n    matrix: {x_i: [b], x_behavior: [sleep], x_sleep: [\"3\"]}\n");
  pid_t run = SpawnOrchWith(d.path(), {"run", "spec.yaml", "-j", "2"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // both cells are running
  auto cancel = testing::RunOrch(d.path(), "cancel --study A");
  ASSERT_EQ(cancel.exit_code, 0) << cancel.output;
  int code = WaitOrch(run);
  std::string log = OrchLog(d.path(), run);
  EXPECT_EQ(code, 130) << log;
  EXPECT_NE(log.find("cancelled studies did not run"), std::string::npos) << log;

  auto db = testing::OpenSweepDb(d.path());
  ASSERT_TRUE(db);
  for (const auto& t : Must(db->Trials(Must(db->FindSweep("two"))->id))) {
    auto attempts = Must(db->Attempts(t.key));
    ASSERT_FALSE(attempts.empty()) << t.study_id;
    if (t.study_id == "B") {
      EXPECT_EQ(t.outcome, "ok") << log;  // the run went on with B
      continue;
    }
    // A's worker (5 s of work) was stopped within the cancel check and the grace period,
    // not left to finish, and its trial is pending for a later run.
    EXPECT_EQ(attempts.back().outcome, "interrupted") << log;
    EXPECT_LT(attempts.back().duration_s, 5.0) << log;
    EXPECT_NE(t.state, store::TrialState::kDone);
  }
  auto resumed = testing::RunOrch(d.path(), "resume");
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
  for (const auto& t : Must(db->Trials(Must(db->FindSweep("two"))->id))) {
    EXPECT_EQ(t.outcome, "ok") << t.study_id << "\n" << resumed.output;
  }
}

}  // namespace
}  // namespace orch
