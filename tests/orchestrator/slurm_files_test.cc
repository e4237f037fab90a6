// What the SLURM executor reads from an attempt directory (issue 17): the wait status the
// task's perl parent records (L5: exit 130 is an exit code), a job SLURM lost judged from
// its files (F5), and the batch script's use of the attempt files' names.
#include <gtest/gtest.h>

#include <fstream>

#include "orchestrator/attempt/attempt_files.h"
#include "orchestrator/slurm/batch_script.h"
#include "orchestrator/slurm/job_outcome.h"
#include "test_util.h"

namespace orch::slurm {
namespace {

using orch::testing::TempDir;

void Put(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(RecordedExit, TheWaitStatusDecidesWhatIsASignal) {
  TempDir d;
  Put(ExitStatusFilePath(d.path()), "exit 130\n");
  auto e = RecordedExit(d.path());
  ASSERT_TRUE(e.has_value());
  EXPECT_FALSE(e->signaled);
  EXPECT_EQ(e->code, 130);
  Put(ExitStatusFilePath(d.path()), "signal 9\n");
  e = RecordedExit(d.path());
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(e->signaled);
  EXPECT_EQ(e->code, 9);
  // A task without perl records the shell's $?: 128+N still reads as signal N.
  Put(ExitStatusFilePath(d.path()), "139\n");
  EXPECT_TRUE(RecordedExit(d.path())->signaled);
  for (const char* bad : {"exit\n", "exit 300\n", "signal -1\n", "nonsense\n", ""}) {
    Put(ExitStatusFilePath(d.path()), bad);
    EXPECT_FALSE(RecordedExit(d.path()).has_value()) << bad;
  }
}

TEST(RecordedExit, AnExitCodeOf130IsAnErrorNotACrash) {
  TempDir d;
  Put(StartedFilePath(d.path()), "7 100\n");
  Put(ExitStatusFilePath(d.path()), "exit 130\n");
  TaskEnd end;
  end.job_id = "7_0";
  end.job.state = "COMPLETED";
  auto v = JudgeAttempt(d.path(), end);
  EXPECT_EQ(v.result.outcome, "error");
  EXPECT_EQ(v.result.exit_code, 130);
  EXPECT_FALSE(v.result.signal.has_value());
}

// events.jsonl past the 64 MiB orch reads (a worker that ran where no perl capped it):
// the failure event at its end still decides the class, as when the local executor reads
// the events last.
TEST(RecordedExit, TheLastFailureEventOfAHugeEventsFileCounts) {
  TempDir d;
  Put(StartedFilePath(d.path()), "7 100\n");
  Put(ExitStatusFilePath(d.path()), "exit 1\n");
  {
    std::ofstream ev(EventsFilePath(d.path()));
    std::string beat = R"({"event": "heartbeat", "t": 1})" "\n";
    for (size_t n = 0; n < (size_t{65} << 20); n += beat.size()) ev << beat;
    ev << R"({"event": "failure", "outcome": "oom", "message": "CUDA out of memory", "t": 2})" << "\n";
  }
  TaskEnd end;
  end.job_id = "7_0";
  end.job.state = "FAILED";
  auto v = JudgeAttempt(d.path(), end);
  EXPECT_EQ(v.result.outcome, "oom") << v.result.reason;
}

TEST(JudgeFromFiles, ALostJobsFilesSayWhatHappened) {
  TempDir d;
  EXPECT_FALSE(JudgeFromFiles(d.path(), "7_0").has_value());  // nothing: runs again
  Put(ResultFilePath(d.path()), R"({"protocol": 1, "outcome": "ok", "metrics": {"ppl": 3}})");
  auto v = JudgeFromFiles(d.path(), "7_0");  // a result, no exit status (node went down)
  ASSERT_TRUE(v.has_value());
  EXPECT_FALSE(v->interrupt);
  EXPECT_EQ(v->result.outcome, "ok");
  EXPECT_EQ(v->result.metrics.at("ppl"), 3);
  Put(ExitStatusFilePath(d.path()), "exit 0\n");
  v = JudgeFromFiles(d.path(), "7_0");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->result.outcome, "ok");
  EXPECT_EQ(v->result.exit_code, 0);
}

TEST(BatchScript, RecordsTheWaitStatusAndCapsTheLogAndEvents) {
  BatchScript b;
  b.attempt_dirs = {"/r/a"};
  b.workers = {"/opt/w"};
  std::string s = RenderBatchScript(b);
  EXPECT_NE(s.find("[ -e abandoned ] && continue"), std::string::npos);
  EXPECT_NE(s.find("> slurm_started"), std::string::npos);
  EXPECT_NE(s.find("\"$PERL\" -e \"$RUN_WORKER\" worker.log exit_status events.jsonl"),
            std::string::npos);
  EXPECT_NE(s.find("\"signal \""), std::string::npos);
  EXPECT_NE(s.find("bytes of worker output dropped here"), std::string::npos);
  // events.jsonl is capped too (L4; tests/slurm/fake_slurm_test.sh, case events_cap).
  EXPECT_NE(s.find("bytes of worker events dropped here"), std::string::npos);
}

}  // namespace
}  // namespace orch::slurm
