// End-to-end: the orch binary running sweeps of the fake worker — every outcome class,
// resume after SIGKILL, Ctrl-C, concurrent orchestrators, edited specs.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "store/store.h"
#include "orch_process.h"
#include "sweep_probe.h"
#include "test_util.h"
#include "tests/orchestrator/must.h"

namespace orch {
namespace {

using testing::RunningAttempts;

using testing::RunOrch;
using testing::TempDir;
using testing::WriteText;

std::string SpecWith(const std::string& studies, const std::string& timeout = "5") {
  return "name: e2e\nworker: " FAKE_WORKER "\ndefaults: {tokens: 16, timeout: " + timeout +
         ", heartbeat_timeout: 1}\nstudies:\n" + studies;
}

// Fake workers still alive whose trial lives under `dir`.
int LiveWorkers(const std::string& dir) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::ifstream in(e.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.rfind(FAKE_WORKER, 0) == 0 && cmdline.find(dir) != std::string::npos) ++n;
  }
  return n;
}

// outcome per x_behavior value, from the database.
std::map<std::string, std::string> Outcomes(const std::string& db_path) {
  auto db = std::move(store::Store::Open(db_path, store::OpenMode::kReadOnly)).value();
  std::map<std::string, std::string> out;
  auto sweep = Must(db->FindSweep("e2e"));
  for (const auto& t : Must(db->Trials(sweep->id))) {
    auto c = nlohmann::json::parse(t.config_json);
    std::string label = c.value("x_behavior", "ok") + (c.contains("x_i") ? c["x_i"].get<std::string>() : "");
    out[label] = t.state == store::TrialState::kDone ? t.outcome : store::TrialStateName(t.state);
  }
  return out;
}

// orch as a process: stdout and stderr (append mode) in dir/orch-PID.log.
pid_t SpawnOrch(const std::string& dir, std::vector<std::string> args) {
  return testing::SpawnOrchWith(dir, std::move(args));
}

TEST(EndToEnd, EachWorkerBehaviourEndsInItsOutcomeClass) {
  TempDir d;
  WriteText(d / "spec.yaml", SpecWith(R"(  - id: A
    matrix:
      x_behavior: [ok, crash, exit, oom, cuda_error, nan, blocked, hang, silent, flaky, failure_event]
)", "2"));
  auto r = RunOrch(d.path(), "run spec.yaml --kill-grace 0.2");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  auto o = Outcomes(d / "results/orch.db");
  EXPECT_EQ(o["ok"], "ok");
  EXPECT_EQ(o["crash"], "crash");
  EXPECT_EQ(o["exit"], "error");
  EXPECT_EQ(o["oom"], "oom");
  EXPECT_EQ(o["cuda_error"], "cuda_error");
  EXPECT_EQ(o["nan"], "nan");
  EXPECT_EQ(o["blocked"], "blocked");
  EXPECT_EQ(o["hang"], "timeout");
  EXPECT_EQ(o["silent"], "hung");
  EXPECT_EQ(o["flaky"], "ok");
  EXPECT_EQ(o["failure_event"], "oom");

  auto db = std::move(store::Store::Open(d / "results/orch.db", store::OpenMode::kReadOnly)).value();
  auto sweep = Must(db->FindSweep("e2e"));
  for (const auto& t : Must(db->Trials(sweep->id))) {
    auto c = nlohmann::json::parse(t.config_json);
    auto attempts = Must(db->Attempts(t.key));
    std::string b = c["x_behavior"];
    // Transient classes are retried once (retries: 1); nan/oom/blocked never.
    int expected = (b == "crash" || b == "silent" || b == "flaky" || b == "cuda_error") ? 2 : 1;
    EXPECT_EQ(static_cast<int>(attempts.size()), expected) << b;
    if (b == "crash") {
      EXPECT_EQ(attempts[0].reason, "SIGSEGV: about to crash");
      EXPECT_NE(attempts[0].stderr_tail.find("about to crash"), std::string::npos);
    }
    if (b == "ok") {
      EXPECT_EQ(Must(db->Samples(attempts[0].id)).size(), 16u);
      EXPECT_EQ(Must(db->Metrics(attempts[0].id)).at("ppl"), 9.5);
      auto run = Must(db->FindRun(attempts[0].run_id));
      ASSERT_TRUE(run);
      auto prov = nlohmann::json::parse(run->provenance_json);
      EXPECT_TRUE(prov.contains("orch_commit"));
      EXPECT_TRUE(prov.contains("cpu_model"));
    }
  }
  EXPECT_TRUE(db->IntegrityCheck().ok());
  // Nothing is left running: no worker survives its trial.
  EXPECT_EQ(LiveWorkers(d.path()), 0);

  auto again = RunOrch(d.path(), "run spec.yaml");
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.output.find("nothing to run"), std::string::npos) << again.output;

  auto retry = RunOrch(d.path(), "run spec.yaml --retry-failed --kill-grace 0.2");
  EXPECT_EQ(retry.exit_code, 0);
  EXPECT_NE(retry.output.find("9 failed trial(s) will run again"), std::string::npos) << retry.output;
}

TEST(EndToEnd, InvalidSpecExitsTwoAndWritesNothing) {
  TempDir d;
  WriteText(d / "spec.yaml", SpecWith("  - id: A\n    matrix: {quant: [int9wo], windw: [1]}\n"));
  auto r = RunOrch(d.path(), "run spec.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("spec.yaml:6:22: studies[0].matrix.quant: unknown quant 'int9wo'"),
            std::string::npos) << r.output;
  EXPECT_NE(r.output.find("2 error(s)"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(d / "results"));
  EXPECT_EQ(RunOrch(d.path(), "plan spec.yaml").exit_code, 2);
}

TEST(EndToEnd, MissingWorkerIsAWarningForPlanAndAnErrorForRun) {
  TempDir d;
  WriteText(d / "spec.yaml", "name: e2e\nworker: ./not-built\nstudies:\n  - id: A\n"
                             "    matrix: {quant: [none]}\n");
  auto plan = RunOrch(d.path(), "plan spec.yaml");
  EXPECT_EQ(plan.exit_code, 0) << plan.output;
  EXPECT_NE(plan.output.find("warning: spec.yaml:2:9: worker: worker "), std::string::npos)
      << plan.output;
  EXPECT_NE(plan.output.find("provisional"), std::string::npos) << plan.output;
  auto run = RunOrch(d.path(), "run spec.yaml");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("is not an executable file"), std::string::npos) << run.output;
}

TEST(EndToEnd, AWorkerThatCannotStartIsAnErrorResultNotALostTrial) {
  TempDir d;
  WriteText(d / "broken-worker", "#!/nonexistent/interpreter\n");
  std::filesystem::permissions(d / "broken-worker", std::filesystem::perms::owner_all);
  WriteText(d / "spec.yaml", "name: e2e\nworker: ./broken-worker\nstudies:\n  - id: A\n"
                             "    matrix: {quant: [none, int8wo]}\n");
  auto run = RunOrch(d.path(), "run spec.yaml");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  auto db = std::move(store::Store::Open(d / "results/orch.db", store::OpenMode::kReadOnly)).value();
  auto trials = Must(db->Trials(Must(db->FindSweep("e2e"))->id));
  ASSERT_EQ(trials.size(), 2u);
  for (const auto& t : trials) {
    EXPECT_EQ(t.outcome, "error");
    EXPECT_NE(t.reason.find("cannot start"), std::string::npos) << t.reason;
  }
}

TEST(EndToEnd, PlanPrintsJsonWithoutSideEffects) {
  TempDir d;
  WriteText(d / "spec.yaml", SpecWith(R"(  - id: A
    matrix: {quant: [none, int8wo], window: [64, full]}
    exclude: [{quant: none, window: 64}]
)"));
  auto r = RunOrch(d.path(), "plan spec.yaml --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["name"], "e2e");
  ASSERT_EQ(j["trials"].size(), 3u);
  EXPECT_EQ(j["trials"][0]["study"], "A");
  EXPECT_EQ(j["trials"][0]["key"].get<std::string>().size(), 64u);
  EXPECT_EQ(j["trials"][0]["config"]["window"], "full");
  ASSERT_EQ(j["excluded"].size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(d / "results"));
}

TEST(EndToEnd, EditedSpecAddsTrialsAndKeepsOldResultsAsStale) {
  TempDir d;
  WriteText(d / "spec.yaml", SpecWith("  - id: A\n    matrix: {x_behavior: [ok, nan]}\n"));
  ASSERT_EQ(RunOrch(d.path(), "run spec.yaml").exit_code, 0);
  WriteText(d / "spec.yaml", SpecWith("  - id: A\n    matrix: {x_behavior: [ok, blocked]}\n"));
  auto r = RunOrch(d.path(), "run spec.yaml");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 trials, 1 to run"), std::string::npos) << r.output;
  auto st = RunOrch(d.path(), "status --json");
  auto j = nlohmann::json::parse(st.output);
  EXPECT_EQ(j["studies"][0]["stale"], 1);
  EXPECT_EQ(j["studies"][0]["done"]["ok"], 1);
  EXPECT_EQ(j["studies"][0]["done"]["blocked"], 1);
  // The export lists the stale trial too, marked so, after the spec's.
  auto exported = nlohmann::json::parse(RunOrch(d.path(), "export --format json").output);
  ASSERT_EQ(exported.size(), 3u);
  EXPECT_EQ(exported[0]["stale"], false);
  EXPECT_EQ(exported[1]["stale"], false);
  EXPECT_EQ(exported[2]["stale"], true);
  EXPECT_EQ(exported[2]["config"]["x_behavior"], "nan");
}

TEST(EndToEnd, CtrlCForwardsToWorkersRecordsInterruptedAndExits130) {
  TempDir d;
  WriteText(d / "spec.yaml", SpecWith(R"(  - id: A
    matrix: {x_behavior: [sleep], x_sleep: ["30"], x_i: ["1", "2"]}
)"));
  pid_t orch = SpawnOrch(d.path(), {"run", "spec.yaml", "-j", "2"});
  // Interrupt once both workers run (polling the database, so a slow machine waits longer).
  for (int i = 0; i < 200 && RunningAttempts(d / "results/orch.db") < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  kill(orch, SIGINT);
  EXPECT_EQ(testing::WaitOrch(orch), 130);
  auto db = std::move(store::Store::Open(d / "results/orch.db", store::OpenMode::kReadOnly)).value();
  auto sweep = Must(db->FindSweep("e2e"));
  int interrupted = 0;
  for (const auto& t : Must(db->Trials(sweep->id))) {
    EXPECT_EQ(t.state, store::TrialState::kPending);
    for (const auto& a : Must(db->Attempts(t.key))) interrupted += a.outcome == "interrupted";
  }
  EXPECT_EQ(interrupted, 2);
  EXPECT_EQ(LiveWorkers(d.path()), 0);
}

// SIGKILL the orchestrator at several moments; after each, run again. Every trial must
// end exactly once with a terminal outcome and the database must stay whole.
TEST(Resume, KilledOrchestratorRerunsOnlyUnfinishedTrials) {
  TempDir d;
  WriteText(d / "spec.yaml", SpecWith(R"(  - id: A
    matrix:
      x_behavior: [sleep]
      x_sleep: ["0.4"]
      x_i: ["1", "2", "3", "4", "5", "6", "7", "8"]
    include:
      - {x_behavior: nan, x_i: "9"}
)"));
  for (int delay_ms : {50, 300, 700, 1100}) {
    pid_t orch = SpawnOrch(d.path(), {"run", "spec.yaml", "-j", "2"});
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    kill(orch, SIGKILL);
    testing::WaitOrch(orch);
  }
  // Orphaned workers die at their next event write (SIGPIPE), within one heartbeat.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto status = RunOrch(d.path(), "status");
  EXPECT_NE(status.output.find("belong to an orch that is gone"), std::string::npos)
      << status.output;
  auto r = RunOrch(d.path(), "run spec.yaml -j 2");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  auto db = std::move(store::Store::Open(d / "results/orch.db", store::OpenMode::kReadOnly)).value();
  EXPECT_TRUE(db->IntegrityCheck().ok());
  auto sweep = Must(db->FindSweep("e2e"));
  auto trials = Must(db->Trials(sweep->id));
  ASSERT_EQ(trials.size(), 9u);
  for (const auto& t : trials) {
    EXPECT_EQ(t.state, store::TrialState::kDone) << t.key;
    int terminal = 0;
    for (const auto& a : Must(db->Attempts(t.key))) {
      EXPECT_TRUE(a.finished);
      if (a.outcome != "interrupted") ++terminal;
    }
    EXPECT_EQ(terminal, 1) << t.key;  // completed exactly once
  }
  EXPECT_EQ(RunOrch(d.path(), "run spec.yaml").output.find("nothing to run") != std::string::npos, true);
}

TEST(Resume, ResumeRunsFromTheSnapshotInTheDatabase) {
  TempDir d;
  WriteText(d / "spec.yaml", SpecWith(R"(  - id: A
    matrix: {x_behavior: [sleep], x_sleep: ["0.3"], x_i: ["1", "2", "3"]}
)"));
  pid_t orch = SpawnOrch(d.path(), {"run", "spec.yaml"});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  kill(orch, SIGKILL);
  testing::WaitOrch(orch);
  std::filesystem::remove(d / "spec.yaml");  // resume needs only the database
  auto r = RunOrch(d.path(), "resume");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  auto o = Outcomes(d / "results/orch.db");
  EXPECT_EQ(o["sleep1"], "ok");
  EXPECT_EQ(o["sleep3"], "ok");
}

TEST(Concurrency, TwoOrchestratorsOnOneDatabaseNeverRunTheSameTrial) {
  TempDir d;
  std::string items;
  for (int i = 0; i < 12; ++i) items += std::string(i ? ", " : "") + "\"" + std::to_string(i) + "\"";
  WriteText(d / "spec.yaml", SpecWith("  - id: A\n    matrix: {x_behavior: [sleep], x_sleep: [\"0.1\"], x_i: [" + items + "]}\n"));
  // Create the sweep first so both start on the same database state.
  ASSERT_EQ(RunOrch(d.path(), "plan spec.yaml").exit_code, 0);
  pid_t a = SpawnOrch(d.path(), {"run", "spec.yaml", "-j", "2"});
  pid_t b = SpawnOrch(d.path(), {"run", "spec.yaml", "-j", "2"});
  int ra = testing::WaitOrch(a), rb = testing::WaitOrch(b);
  EXPECT_TRUE(ra == 0 || rb == 0) << ra << " " << rb;
  auto db = std::move(store::Store::Open(d / "results/orch.db", store::OpenMode::kReadOnly)).value();
  auto sweep = Must(db->FindSweep("e2e"));
  for (const auto& t : Must(db->Trials(sweep->id))) {
    EXPECT_EQ(t.outcome, "ok");
    EXPECT_EQ(Must(db->Attempts(t.key)).size(), 1u) << t.key;
  }
}

TEST(EndToEnd, ShowAndExportFindTrialsByKeyPrefix) {
  TempDir d;
  WriteText(d / "spec.yaml", SpecWith("  - id: A\n    matrix: {x_behavior: [crash, ok]}\n"));
  ASSERT_EQ(RunOrch(d.path(), "run spec.yaml").exit_code, 0);
  auto exported = RunOrch(d.path(), "export --format json");
  // Streamed one trial at a time: still one JSON array, an element per trial, spec order.
  auto j = nlohmann::json::parse(exported.output);
  EXPECT_EQ(exported.output, j.dump(2) + "\n");  // the bytes of one indented dump
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[1]["outcome"], "ok");
  EXPECT_EQ(j[1]["config"]["x_behavior"], "ok");
  std::string key = j[0]["key"];
  EXPECT_EQ(j[0]["outcome"], "crash");
  EXPECT_EQ(j[0]["replicates"], 1);
  EXPECT_EQ(j[0]["ok_replicates"], 0);
  auto show = RunOrch(d.path(), "show " + key.substr(0, 8));
  EXPECT_EQ(show.exit_code, 0);
  EXPECT_NE(show.output.find("signal SIGSEGV"), std::string::npos) << show.output;
  EXPECT_NE(show.output.find("about to crash"), std::string::npos) << show.output;
  auto csv = RunOrch(d.path(), "export --format csv");
  EXPECT_EQ(csv.output.rfind("key,study,stale,state,outcome,reason,attempts,replicates,ok_replicates", 0),
            0u)
      << csv.output;
  EXPECT_EQ(std::count(csv.output.begin(), csv.output.end(), '\n'), 3) << csv.output;  // header + 2
  EXPECT_EQ(RunOrch(d.path(), "show zzzz").exit_code, 2);
}

}  // namespace
}  // namespace orch
