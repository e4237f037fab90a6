// stamp_worker: a protocol-1 worker that records when it was launched (CLOCK_REALTIME
// nanoseconds and the launching orch's pid, appended to $ORCH_BENCH_STAMP) and then
// writes an ok result. Measures how long `orch resume` takes from its start to its first
// worker launch; the pid keeps a straggler of an earlier run from being counted.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

int main(int argc, char** argv) {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (const char* stamp = std::getenv("ORCH_BENCH_STAMP")) {
    std::ofstream(stamp, std::ios::app)
        << ts.tv_sec * 1000000000LL + ts.tv_nsec << " " << getppid() << "\n";
  }
  if (argc != 3) return 2;
  std::ifstream in(argv[2]);
  auto trial = nlohmann::json::parse(in);
  std::string result = trial["result_path"];
  std::ofstream(result + ".tmp") << R"({"protocol":1,"outcome":"ok"})" << "\n";
  std::rename((result + ".tmp").c_str(), result.c_str());
  return 0;
}
