// html_sweep_builder DB N: writes a sweep of N trials (N a multiple of 5) into DB through
// the Store's write API (sweep_builder.h), for the report.html browser test and the
// report benchmark: one study, quant x x_i, with ok cells whose TPOT depends on the quant,
// every int4wo-g32 cell out of memory, every tenth int8wo-dequant cell a crash (signal 11)
// and, in each crash, a worker reason holding markup. orch run would take 10,000 worker
// processes (tens of minutes on a shared machine); the store's write path is the same.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sweep_builder.h"

int main(int argc, char** argv) {
  using namespace orch::report::testing;
  if (argc != 3 || std::atoi(argv[2]) < 5 || std::atoi(argv[2]) % 5 != 0) {
    std::fprintf(stderr, "usage: html_sweep_builder DB N (N a multiple of 5)\n");
    return 2;
  }
  const int n = std::atoi(argv[2]);
  const char* quants[] = {"none", "int8wo", "int8wo-dequant", "int4wo-g128", "int4wo-g32"};
  std::vector<CellSpec> cells;
  for (int i = 0; i < n / 5; ++i) {
    for (int q = 0; q < 5; ++q) {
      CellSpec c;
      c.study = "G";
      c.config = Config({{"quant", quants[q]}, {"x_i", i}});
      AttemptSpec a = OkAttempt(10.0 + q + (i % 7) * 0.1, 20.0 + q);
      a.replicates = 1;
      a.tokens = 4;
      if (q == 4) {
        a.outcome = "oom";
        a.reason = "CUDA out of memory";
        a.exit_code = 1;
        a.stderr_tail = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n";
      } else if (q == 2 && i % 10 == 0) {
        a.outcome = "crash";
        a.reason = "</script><img src=x onerror=window.__pwned=1>";
        a.exit_code = std::nullopt;
        a.signal = 11;
        a.stderr_tail = "about to crash <script>window.__pwned=2</script>\n";
      }
      c.attempts = {a};
      cells.push_back(c);
    }
  }
  auto db = orch::store::Store::Open(argv[1]);
  if (!db.ok()) {
    std::fprintf(stderr, "%s\n", db.status().message().c_str());
    return 1;
  }
  orch::Status s = BuildSweep(**db, "big", cells);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  return 0;
}
