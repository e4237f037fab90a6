// The SLURM executor's pure parts: the spec's `slurm:` block and sbatch arguments, the
// parsing of squeue/sacct output, the batch script, and the verdict for each attempt of a
// finished array task from SLURM's state and the attempt's files. The executor against a
// real SLURM is tested by tests/slurm/executor_test.sh.
#include <gtest/gtest.h>

#include <fstream>

#include "orchestrator/slurm/batch_script.h"
#include "orchestrator/slurm/job_outcome.h"
#include "orchestrator/slurm/slurm_client.h"
#include "orchestrator/slurm/slurm_options.h"
#include "orchestrator/plan/spec.h"
#include "test_util.h"

namespace orch::slurm {
namespace {

using orch::testing::TempDir;

SpecParse Parse(const std::string& slurm_block) {
  return ParseSpec("s.yaml", "name: s\nstudies:\n  - id: A\n    matrix: {x_a: [1]}\n" + slurm_block);
}

TEST(SlurmOptions, TheSpecBlockSetsEveryOption) {
  auto p = Parse(
      "slurm:\n  partition: gpu\n  gpus: 2\n  cpus_per_task: 8\n  mem: 16G\n  account: lab\n"
      "  qos: high\n  constraint: a100\n  sbatch_args: [--exclusive, --mail-type=END]\n"
      "  array_throttle: 10\n  trials_per_task: 4\n  poll_interval: 1m\n  time_margin: 30s\n");
  ASSERT_TRUE(p.ok()) << p.errors[0].ToString();
  SlurmOptions o;
  ASSERT_TRUE(ApplySlurmBlock(p.spec, &o).empty());
  EXPECT_EQ(o.partition, "gpu");
  EXPECT_EQ(o.gpus, 2);
  EXPECT_EQ(o.trials_per_task, 4);
  EXPECT_EQ(o.poll_s, 60);
  auto args = SbatchArgs(o, 5, "orch-s-r1b1", "/o/%A_%a.out", TaskTimeLimit(o, {60, 60, 60, 60}));
  std::vector<std::string> want = {"--parsable", "--no-requeue", "--array=0-4%10",
                                   "--job-name=orch-s-r1b1", "--output=/o/%A_%a.out",
                                   "--time=0-00:05:00", "--partition=gpu", "--gres=gpu:2",
                                   "--cpus-per-task=8", "--mem=16G", "--account=lab", "--qos=high",
                                   "--constraint=a100", "--exclusive", "--mail-type=END"};
  EXPECT_EQ(args, want);
}

TEST(SlurmOptions, BadValuesNameFileLineColumnAndKey) {
  auto p = Parse("slurm:\n  partition: gpu\n  gpus: two\n  mem: lots\n  sbatch_args: --x\n  colour: red\n");
  ASSERT_TRUE(p.ok());
  SlurmOptions o;
  auto errors = ApplySlurmBlock(p.spec, &o);
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0].ToString().rfind("s.yaml:7:9: slurm.gpus:", 0), 0u) << errors[0].ToString();
  EXPECT_NE(errors[1].ToString().find("slurm.mem"), std::string::npos);
  EXPECT_NE(errors[2].ToString().find("must be a list"), std::string::npos);
  EXPECT_NE(errors[3].ToString().find("unknown key"), std::string::npos);
  auto nested = Parse("slurm:\n  partition: {a: 1}\n");
  EXPECT_FALSE(nested.ok());
  EXPECT_EQ(ApplySlurmOption("time", "1-02:00:00", &o), "");
  EXPECT_NE(ApplySlurmOption("time", "soon", &o), "");
}

TEST(SlurmOptions, TimeLimitIsTheTimeoutsPlusMarginInWholeMinutes) {
  SlurmOptions o;
  o.time_margin_s = 60;
  EXPECT_EQ(TaskTimeLimit(o, {3600}), "0-01:01:00");
  EXPECT_EQ(TaskTimeLimit(o, {1}), "0-00:02:00");  // 61 s -> 2 minutes
  EXPECT_EQ(TaskTimeLimit(o, {86400, 3540}), "1-01:00:00");
  o.time = "10";
  EXPECT_EQ(TaskTimeLimit(o, {3600}), "10");
}

TEST(SlurmClient, ParsesSqueueAndSacctRows) {
  auto q = ParseSqueue("12_0|RUNNING|None\n12_[1-2,5%2]|PENDING|Priority\n12_4|PENDING|Resources\n");
  ASSERT_EQ(q.size(), 5u);
  EXPECT_EQ(q["12_5"].reason, "Priority");
  EXPECT_EQ(q["12_0"].state, "RUNNING");
  EXPECT_EQ(q["12_4"].reason, "Resources");
  auto a = ParseSacct("12_0|COMPLETED|0:0\n12_1|CANCELLED by 0|0:0\n12_2|OUT_OF_MEMORY|0:125\n13|TIMEOUT|0:0\n");
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a["12_1"].state, "CANCELLED");
  EXPECT_EQ(a["12_2"].exit_code, "0:125");
  EXPECT_TRUE(IsFinalState("TIMEOUT"));
  EXPECT_TRUE(IsFinalState("NODE_FAIL"));
  EXPECT_FALSE(IsFinalState("PENDING"));
  EXPECT_FALSE(IsFinalState("COMPLETING"));
  EXPECT_EQ(ArrayJobOf("12_4"), "12");
  EXPECT_EQ(ArrayJobOf("12"), "12");
  // An array cancelled before any task started: sacct has one row for the whole array.
  PollResult p;
  p.jobs = ParseSacct("14|CANCELLED by 0|0:0\n");
  ASSERT_NE(StateOf(p, "14_3"), nullptr);
  EXPECT_EQ(StateOf(p, "14_3")->state, "CANCELLED");
  EXPECT_EQ(StateOf(p, "15_0"), nullptr);
}

TEST(BatchScript, RunsEachTasksTrialsAndQuotesPaths) {
  BatchScript b;
  b.attempt_dirs = {"/r/a'b", "/r/c"};
  b.workers = {"/opt/w", "/opt/ref worker"};
  b.trials_per_task = 2;
  std::string s = RenderBatchScript(b);
  EXPECT_NE(s.find("'/r/a'\\''b'"), std::string::npos);
  EXPECT_NE(s.find("K=2"), std::string::npos);
  EXPECT_NE(s.find("'/opt/ref worker'"), std::string::npos);  // each attempt its own worker
  EXPECT_NE(s.find("w=${WORKERS[i]}"), std::string::npos);
  EXPECT_NE(s.find("--trial \"$d/trial.json\""), std::string::npos);
  EXPECT_EQ(ShellQuote("x y"), "'x y'");
}

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(JobOutcome, EachSlurmStateInItsClass) {
  TempDir d;
  std::string dir = d.path();
  TaskEnd end;
  end.job_id = "7_0";
  end.slurm_output = dir + "/slurm.out";
  end.timeout_s = 30;
  // Not started: interrupted whatever the state.
  end.job.state = "TIMEOUT";
  EXPECT_TRUE(JudgeAttempt(dir, end).interrupt);
  Write(dir + "/slurm_started", "7 100\n");
  // Started, killed at the time limit.
  auto v = JudgeAttempt(dir, end);
  EXPECT_FALSE(v.interrupt);
  EXPECT_EQ(v.result.outcome, "timeout");
  EXPECT_EQ(v.killed_for, KillReason::kTimeout);
  end.job.state = "OUT_OF_MEMORY";
  EXPECT_EQ(JudgeAttempt(dir, end).result.outcome, "oom");
  for (const char* st : {"NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "CANCELLED"}) {
    end.job.state = st;
    EXPECT_TRUE(JudgeAttempt(dir, end).interrupt) << st;
  }
  // FAILED without cgroups: slurmstepd's own words in the job's output mean memory.
  end.job.state = "FAILED";
  Write(end.slurm_output, "slurmstepd: error: Exceeded job memory limit\n");
  EXPECT_EQ(JudgeAttempt(dir, end).result.outcome, "oom");
  Write(end.slurm_output, "");
  EXPECT_EQ(JudgeAttempt(dir, end).result.outcome, "error");
  // The worker's recorded exit is classified as locally: SIGSEGV is a crash...
  end.job.state = "COMPLETED";
  Write(dir + "/exit_status", "139\n");
  auto crash = JudgeAttempt(dir, end);
  EXPECT_EQ(crash.result.outcome, "crash");
  EXPECT_EQ(crash.result.signal, 11);
  // ... exit 3 with stderr an error ...
  Write(dir + "/exit_status", "3\n");
  Write(dir + "/worker.log", "fatal: bad things\n");
  auto err = JudgeAttempt(dir, end);
  EXPECT_EQ(err.result.outcome, "error");
  EXPECT_EQ(err.result.exit_code, 3);
  EXPECT_NE(err.result.reason.find("bad things"), std::string::npos);
  // ... and SIGKILL under OUT_OF_MEMORY is oom.
  Write(dir + "/exit_status", "137\n");
  end.job.state = "OUT_OF_MEMORY";
  EXPECT_EQ(JudgeAttempt(dir, end).result.outcome, "oom");
  // A failure event in events.jsonl decides like the local pipe does.
  end.job.state = "COMPLETED";
  Write(dir + "/exit_status", "1\n");
  Write(dir + "/events.jsonl", "{\"event\":\"failure\",\"outcome\":\"blocked\",\"message\":\"no\"}\n");
  EXPECT_EQ(JudgeAttempt(dir, end).result.outcome, "blocked");
}

}  // namespace
}  // namespace orch::slurm
