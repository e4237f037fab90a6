// ProgressPrinter: what `orch run` prints, never acted on by the terminal it prints to.
#include "orchestrator/cli/progress_printer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

namespace orch {
namespace {

std::string Printed(bool smart, const std::string& label, const std::string& reason) {
  char* buf = nullptr;
  size_t size = 0;
  std::FILE* out = ::open_memstream(&buf, &size);
  {
    store::Claim claim;
    claim.trial_key = "0123456789abcdef";
    ProgressPrinter p(out, smart, 2, 0, {{claim.trial_key, label}}, std::nullopt);
    store::AttemptResult r;
    r.outcome = "error";
    r.reason = reason;
    r.terminal = true;
    p.OnFinish(claim, "cpu:0", r);
    p.Finish();
  }
  std::fclose(out);
  std::string text(buf, size);
  std::free(buf);
  return text;
}

TEST(ProgressPrinter, WorkerAndSpecTextIsEscaped) {
  std::string plain = Printed(false, "A x_name=\x1b[31mred", "line one\nline two\r\x1b[2J\xff");
  EXPECT_EQ(plain,
            "[1/2] error 0123456789ab A x_name=\\x1b[31mred (0.0s): "
            "line one\\nline two\\r\\x1b[2J\xEF\xBF\xBD\n");
  // On a smart terminal only orch's own \r and erase-line sequences remain raw.
  std::string smart = Printed(true, "A", "evil\x1b[2J");
  EXPECT_EQ(smart.find("\x1b[2J"), std::string::npos) << smart;
  EXPECT_NE(smart.find("evil\\x1b[2J"), std::string::npos) << smart;
}

// `orch run` holds no label map: a trial's label is looked up once, when it starts, and
// a trial not seen starting is looked up when it finishes; an unknown one has none.
TEST(ProgressPrinter, LooksEachLabelUpOnce) {
  char* buf = nullptr;
  size_t size = 0;
  std::FILE* out = ::open_memstream(&buf, &size);
  int lookups = 0;
  {
    auto label_of = [&lookups](const std::string& key) {
      ++lookups;
      return key == "aaaa" ? std::string("A x=1") : std::string();
    };
    ProgressPrinter p(out, false, 2, 0, {}, std::nullopt);
    p.SetLabelLookup(label_of);
    store::Claim a, b;
    a.trial_key = "aaaa";
    b.trial_key = "bbbb";
    store::AttemptResult r;
    r.outcome = "ok";
    p.OnStart(a, "cpu:0");
    p.OnFinish(a, "cpu:0", r);
    p.OnFinish(b, "cpu:0", r);
    p.Finish();
  }
  std::fclose(out);
  EXPECT_EQ(std::string(buf, size), "[1/2] ok aaaa A x=1 (0.0s)\n[2/2] ok bbbb (0.0s)\n");
  std::free(buf);
  EXPECT_EQ(lookups, 2);
}

// With replicates the ETA counts worker processes, not trials: 2 trials x 3 replicates at
// 10 s each, one slot, is a minute, not 20 s; an ok replicate takes one process off, a
// terminal failure of replicate 1 of 3 takes the trial's three.
TEST(ProgressPrinter, EtaCountsReplicateProcesses) {
  char* buf = nullptr;
  size_t size = 0;
  std::FILE* out = ::open_memstream(&buf, &size);
  {
    ProgressPrinter p(out, true, 2, 0, {}, 10.0);
    p.SetProcessesLeft(6);
    p.OnTick({});
    std::fflush(out);
    EXPECT_NE(std::string(buf, size).find("ETA 1m00s"), std::string::npos)
        << std::string(buf, size);
    store::Claim c;
    c.trial_key = "aaaa";
    c.replicate = 1;
    c.replicates = 3;
    store::AttemptResult ok;
    ok.outcome = "ok";
    ok.duration_s = 10;
    p.OnFinish(c, "cpu:0", ok);  // 5 left
    store::AttemptResult failed;
    failed.outcome = "crash";
    failed.duration_s = 10;
    c.trial_key = "bbbb";
    p.OnFinish(c, "cpu:0", failed);  // its 3 replicates gone: 2 left
    p.OnTick({});
    std::fflush(out);
    std::string text(buf, size);
    EXPECT_NE(text.rfind("ETA 20.0s"), std::string::npos) << text;
    p.Finish();
  }
  std::fclose(out);
  std::free(buf);
}

}  // namespace
}  // namespace orch
