// Torture: dozens of SIGKILLs of `orch run -j 2` at seeded random moments over a few
// hundred short trials, each followed by another run. At the end every trial is done
// exactly once (one non-interrupted attempt, and the worker's completion marker written
// once), nothing is left running, the database is whole and no worker is alive.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "orch_process.h"
#include "store/store.h"
#include "test_util.h"
#include "tests/orchestrator/must.h"

namespace orch {
namespace {

using testing::LiveProcesses;
using testing::OrchLog;
using testing::SpawnOrchWith;
using testing::TempDir;
using testing::WaitOrch;
using testing::WriteText;

TEST(Torture, RandomSigkillsThenResumeRunEveryTrialExactlyOnce) {
  constexpr int kTrials = 240;
  constexpr int kKills = 30;
  TempDir d;
  std::string items;
  for (int i = 0; i < kTrials; ++i) items += std::string(i ? ", " : "") + "\"" + std::to_string(i) + "\"";
  WriteText(d / "spec.yaml",
            "name: e2e\nworker: " FAKE_WORKER "\ndefaults: {tokens: 4, timeout: 20, "
            "heartbeat_timeout: 5}\nstudies:\n  - id: A\n    matrix: {x_behavior: [sleep], "
            "x_sleep: [\"0.01\"], x_marker: [\"" + d / "marker" + "\"], x_i: [" + items + "]}\n");
  std::mt19937 rng(20261203);
  std::uniform_int_distribution<int> delay_ms(30, 400);
  for (int k = 0; k < kKills; ++k) {
    pid_t orch = SpawnOrchWith(d.path(), {"run", "spec.yaml", "-j", "2", "--kill-grace", "0.2"});
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    kill(orch, SIGKILL);
    int code = WaitOrch(orch);
    ASSERT_TRUE(code == 128 + SIGKILL || code == 0) << code << OrchLog(d.path(), orch);
  }
  pid_t last = SpawnOrchWith(d.path(), {"run", "spec.yaml", "-j", "2"});
  ASSERT_EQ(WaitOrch(last), 0) << OrchLog(d.path(), last);

  auto db = std::move(store::Store::Open(d / "results/orch.db", store::OpenMode::kReadOnly)).value();
  EXPECT_TRUE(db->IntegrityCheck().ok());
  auto trials = Must(db->Trials(Must(db->FindSweep("e2e"))->id));
  ASSERT_EQ(trials.size(), static_cast<size_t>(kTrials));
  int interrupted = 0;
  for (const auto& t : trials) {
    EXPECT_EQ(t.state, store::TrialState::kDone) << t.key;
    EXPECT_EQ(t.outcome, "ok") << t.key;
    int terminal = 0;
    for (const auto& a : Must(db->Attempts(t.key))) {
      EXPECT_TRUE(a.finished) << t.key;
      if (a.outcome == "interrupted") ++interrupted;
      else ++terminal;
    }
    EXPECT_EQ(terminal, 1) << t.key;
  }
  EXPECT_GT(interrupted, 0);  // the kills did hit running attempts
  EXPECT_TRUE(Must(db->UnfinishedAttempts()).empty());
  std::map<std::string, int> markers;
  std::ifstream in(d / "marker");
  std::string key;
  int attempt;
  while (in >> key >> attempt) ++markers[key];
  EXPECT_EQ(markers.size(), static_cast<size_t>(kTrials));
  for (const auto& [k, n] : markers) EXPECT_EQ(n, 1) << k;  // no trial ran to the end twice
  EXPECT_EQ(LiveProcesses(FAKE_WORKER, d.path()), 0);
}

}  // namespace
}  // namespace orch
