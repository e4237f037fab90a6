// ProgressPrinter: what `orch run` prints, never acted on by the terminal it prints to.
#include "orchestrator/progress_printer.h"

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
    p.OnFinish(claim, r);
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

}  // namespace
}  // namespace orch
