// End to end: the orch binary under faults of the machine rather than of the trial —
// descriptors a worker must not inherit, GPUs granted by CUDA_VISIBLE_DEVICES, an orch
// stopped or blocked on its terminal while healthy workers heartbeat, a worker whose
// output would fill the disk, a kernel without pidfd_open.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "store/store.h"
#include "test_util.h"
#include "tests/orchestrator/must.h"

namespace orch {
namespace {

using testing::CommandResult;
using testing::TempDir;
using testing::WriteText;

std::string Spec(const std::string& matrix, const std::string& heartbeat = "1") {
  return "name: mf\nworker: " PROBE_WORKER
         "\ndefaults: {tokens: 16, timeout: 120, "
         "heartbeat_timeout: " +
         heartbeat + ", retries: 0}\nstudies:\n  - id: A\n    matrix:\n" + matrix;
}

// Runs `ENV orch ARGS` in `dir` through the shell (test code only).
CommandResult Orch(const std::string& dir, const std::string& args, const std::string& env = "") {
  std::string cmd = "cd '" + dir + "' && " + env + " " + ORCH_BINARY + " " + args + " 2>&1";
  CommandResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

struct TrialOutcome {
  std::string outcome, reason, attempt_dir;
};

// Outcome per x_sleep / x_probe label, from the database.
std::map<std::string, TrialOutcome> Outcomes(const std::string& db_path) {
  auto db = std::move(store::Store::Open(db_path, store::OpenMode::kReadOnly)).value();
  std::map<std::string, TrialOutcome> out;
  for (const auto& t : Must(db->Trials(Must(db->FindSweep("mf"))->id))) {
    auto c = nlohmann::json::parse(t.config_json);
    std::string label = c.value("x_probe", "") + c.value("x_sleep", "") + c.value("x_i", "");
    auto attempts = Must(db->Attempts(t.key));
    std::string dir;
    for (const auto& e : std::filesystem::recursive_directory_iterator(
             std::filesystem::path(db_path).parent_path() / "runs")) {
      if (e.path().filename() == "trial.json") {
        std::ifstream in(e.path());
        auto trial = nlohmann::json::parse(in);
        if (trial["trial_key"] == t.key) dir = e.path().parent_path().string();
      }
    }
    out[label] = {t.state == store::TrialState::kDone ? t.outcome : store::TrialStateName(t.state),
                  t.reason, dir};
  }
  return out;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Starts orch in `dir` with stdout on `out_fd` and stderr in a file; returns its pid.
pid_t SpawnOrch(const std::string& dir, std::vector<std::string> args, int out_fd) {
  pid_t pid = fork();
  if (pid == 0) {
    if (chdir(dir.c_str()) != 0) _exit(99);
    ::dup2(out_fd, 1);
    int err = ::open((dir + "/orch.stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(err, 2);
    std::vector<char*> argv;
    std::string bin = ORCH_BINARY;
    argv.push_back(bin.data());
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(98);
  }
  return pid;
}

std::string FindAttemptFile(const std::string& runs, const std::string& name) {
  for (int i = 0; i < 1200; ++i) {
    std::error_code ec;
    if (std::filesystem::exists(runs)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(runs, ec)) {
        if (e.path().filename() == name) return e.path().string();
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return "";
}

TEST(MachineFaults, WorkersInheritOnlyDescriptorsZeroToThree) {
  TempDir d;
  // Two at once: neither may inherit the other's pipes or log files, nor orch's own.
  WriteText(d / "spec.yaml", Spec("      x_probe: [fds]\n      x_i: ['1', '2', '3']\n"));
  auto r = Orch(d.path(), "run spec.yaml -j 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto o = Outcomes(d / "results/orch.db");
  ASSERT_EQ(o.size(), 3u);
  for (const auto& [label, t] : o) {
    EXPECT_EQ(t.outcome, "ok") << label << ": " << t.reason;
    EXPECT_EQ(ReadAll(t.attempt_dir + "/fds.txt"), "0 1 2 3\n") << label;
  }
}

TEST(MachineFaults, GpuSlotsIndexIntoAnInheritedCudaVisibleDevices) {
  TempDir d;
  WriteText(d / "spec.yaml", Spec("      x_probe: [env]\n"));
  auto r = Orch(d.path(), "run spec.yaml --gpus 1", "CUDA_VISIBLE_DEVICES=5,7");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto o = Outcomes(d / "results/orch.db");
  std::string env = ReadAll(o["env"].attempt_dir + "/env.txt");
  EXPECT_NE(env.find("CUDA_VISIBLE_DEVICES=7\n"), std::string::npos) << env;
  EXPECT_NE(env.find("CUDA_DEVICE_ORDER=PCI_BUS_ID\n"), std::string::npos) << env;

  // A user's explicit device order is kept.
  TempDir kept;
  WriteText(kept / "spec.yaml", Spec("      x_probe: [env]\n"));
  auto own = Orch(kept.path(), "run spec.yaml --gpus 0", "CUDA_DEVICE_ORDER=FASTEST_FIRST");
  ASSERT_EQ(own.exit_code, 0) << own.output;
  std::string own_env = ReadAll(Outcomes(kept / "results/orch.db")["env"].attempt_dir + "/env.txt");
  EXPECT_NE(own_env.find("CUDA_DEVICE_ORDER=FASTEST_FIRST\n"), std::string::npos) << own_env;

  TempDir d2;
  WriteText(d2 / "spec.yaml", Spec("      x_probe: [env]\n"));
  auto bad = Orch(d2.path(), "run spec.yaml --gpus 2", "CUDA_VISIBLE_DEVICES=5,7");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--gpus 2: this process may use 2 GPU(s) (CUDA_VISIBLE_DEVICES=5,7)"),
            std::string::npos)
      << bad.output;
  EXPECT_FALSE(std::filesystem::exists(d2 / "results/orch.db"));
}

TEST(MachineFaults, AHealthyWorkerIsNotHungWhileOrchIsStopped) {
  TempDir d;
  WriteText(d / "spec.yaml", Spec("      x_probe: [beat]\n      x_sleep: ['6']\n"));
  int devnull = ::open("/dev/null", O_WRONLY);
  pid_t orch = SpawnOrch(d.path(), {"run", "spec.yaml"}, devnull);
  ::close(devnull);
  // The worker runs (its events file exists), then orch is stopped for 3x the
  // heartbeat timeout while the worker keeps beating.
  ASSERT_FALSE(FindAttemptFile(d / "results/runs", "events.jsonl").empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(::kill(orch, SIGSTOP), 0);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ASSERT_EQ(::kill(orch, SIGCONT), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(orch, &status, 0), orch);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadAll(d / "orch.stderr");
  auto o = Outcomes(d / "results/orch.db");
  EXPECT_EQ(o["beat6"].outcome, "ok") << o["beat6"].reason;
}

TEST(MachineFaults, AHealthyWorkerIsNotHungWhileOrchsOutputIsBlocked) {
  // A terminal paused with XOFF (or a full pipe): orch blocks printing the first
  // finished trial while the second keeps beating into its event pipe.
  TempDir d;
  WriteText(d / "spec.yaml", Spec("      x_probe: [beat]\n      x_sleep: ['6', '0.5']\n"));
  // A one-page pipe with room for orch's first line ("sweep ...") and not for the next.
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  ASSERT_EQ(::fcntl(out[1], F_SETPIPE_SZ, 4096), 4096);
  std::string first = "sweep mf: 2 trials, 2 to run, database results/orch.db\n";
  std::string fill(4096 - first.size() - 8, '.');
  ASSERT_EQ(::write(out[1], fill.data(), fill.size()), static_cast<ssize_t>(fill.size()));
  pid_t orch = SpawnOrch(d.path(), {"run", "spec.yaml", "-j", "2"}, out[1]);
  ::close(out[1]);
  // The short trial's result exists: orch is about to print its line and block.
  std::string result = FindAttemptFile(d / "results/runs", "result.json");
  ASSERT_FALSE(result.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // 2.5x heartbeat_timeout
  // XON: read everything until orch exits.
  std::string printed;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof(buf))) > 0) printed.append(buf, n);
  EXPECT_NE(printed.find(first), std::string::npos) << "orch printed something else first";
  ::close(out[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(orch, &status, 0), orch);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadAll(d / "orch.stderr");
  auto o = Outcomes(d / "results/orch.db");
  EXPECT_EQ(o["beat0.5"].outcome, "ok") << o["beat0.5"].reason;
  EXPECT_EQ(o["beat6"].outcome, "ok") << o["beat6"].reason;
}

TEST(MachineFaults, AWorkerSpewing100MiBLeavesACappedLogAndItsStderrTail) {
  TempDir d;
  WriteText(d / "spec.yaml", Spec("      x_probe: [spew]\n      x_mb: ['100']\n", "30"));
  auto r = Orch(d.path(), "run spec.yaml");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto o = Outcomes(d / "results/orch.db");
  EXPECT_EQ(o["spew"].outcome, "error");
  EXPECT_EQ(o["spew"].reason, "exit code 3: fatal: spewed");  // the tail survives the cap
  std::string log = o["spew"].attempt_dir + "/worker.log";
  auto size = std::filesystem::file_size(log);
  EXPECT_LE(size, (5u << 20) + 256) << "worker.log is not capped";
  EXPECT_GE(size, 5u << 20);
  std::string text = ReadAll(log);
  EXPECT_EQ(text.rfind("FIRST LINE\n", 0), 0u);
  EXPECT_NE(text.find("bytes of worker output dropped here"), std::string::npos);
  EXPECT_EQ(text.substr(text.size() - 14), "fatal: spewed\n");
}

TEST(MachineFaults, ASweepRunsWithoutPidfd) {
  // As on kernels before 5.3: exits are noticed through the SIGCHLD self-pipe.
  TempDir d;
  WriteText(d / "spec.yaml", Spec("      x_probe: [beat, fds]\n      x_sleep: ['0.2', '0.3']\n"));
  auto r = Orch(d.path(), "run spec.yaml -j 2", "ORCH_NO_PIDFD=1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto o = Outcomes(d / "results/orch.db");
  ASSERT_EQ(o.size(), 4u);
  for (const auto& [label, t] : o) EXPECT_EQ(t.outcome, "ok") << label << ": " << t.reason;
  // Under the fallback orch holds no pidfd for a worker to inherit either.
  EXPECT_EQ(ReadAll(o["fds0.2"].attempt_dir + "/fds.txt"), "0 1 2 3\n");
}

}  // namespace
}  // namespace orch
