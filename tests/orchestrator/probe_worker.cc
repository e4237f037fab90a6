// probe_worker: a protocol-1 worker (docs/protocol.md) that reports on the process orch
// gave it, for the machine-fault tests. `x_probe` in the trial's config says what to do:
//   fds    write the open descriptors ("0 1 2 3") to fds.txt, then ok
//   env    write CUDA_VISIBLE_DEVICES, CUDA_DEVICE_ORDER, ORCH_WORKER_THREADS to env.txt
//   beat   heartbeat every 50 ms for x_sleep seconds, then ok
//   spew   write x_mb MiB to stdout ("FIRST LINE" first, a heartbeat per 64 KiB), then
//          "fatal: spewed" on stderr and exit 3
#include <dirent.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

namespace {

FILE* g_events = nullptr;

void Emit(nlohmann::json ev) {
  ev["t"] =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::fprintf(g_events, "%s\n", ev.dump().c_str());
  std::fflush(g_events);
}

double Number(const nlohmann::json& config, const char* key, double fallback) {
  if (!config.contains(key)) return fallback;
  const auto& v = config[key];
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) return std::atof(v.get<std::string>().c_str());
  return fallback;
}

std::string OpenFds() {
  std::string out;
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return "?";
  int self = ::dirfd(d);
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    if (std::atoi(e->d_name) == self) continue;
    out += (out.empty() ? "" : " ") + std::string(e->d_name);
  }
  ::closedir(d);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || std::string(argv[1]) != "--trial") return 2;
  // Before anything else opens a descriptor.
  std::string fds = OpenFds();
  std::ifstream in(argv[2]);
  nlohmann::json trial = nlohmann::json::parse(in);
  const auto& config = trial["config"];
  std::string probe = config.value("x_probe", "beat");
  g_events = ::fdopen(3, "w");
  if (!g_events) return 4;
  Emit({{"event", "started"}, {"pid", getpid()}, {"protocol", 1}});
  if (probe == "fds") {
    std::ofstream("fds.txt") << fds << "\n";
  } else if (probe == "env") {
    std::ofstream out("env.txt");
    for (const char* name : {"CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER", "ORCH_WORKER_THREADS"}) {
      const char* v = std::getenv(name);
      out << name << "=" << (v ? v : "<unset>") << "\n";
    }
  } else if (probe == "beat") {
    double s = Number(config, "x_sleep", 1);
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(long(s * 1000));
    for (int i = 0; std::chrono::steady_clock::now() < end; ++i) {
      Emit({{"event", "heartbeat"}, {"token", i}});
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  } else if (probe == "spew") {
    long long chunks = static_cast<long long>(Number(config, "x_mb", 1) * 16);
    std::string line(1023, 'x');
    line += '\n';
    std::string chunk;
    for (int i = 0; i < 64; ++i) chunk += line;
    std::fputs("FIRST LINE\n", stdout);
    for (long long i = 0; i < chunks; ++i) {
      std::fwrite(chunk.data(), 1, chunk.size(), stdout);
      std::fflush(stdout);
      Emit({{"event", "heartbeat"}, {"token", i}});
    }
    std::fprintf(stderr, "fatal: spewed\n");
    return 3;
  }
  std::string result_path = trial["result_path"];
  {
    std::ofstream out(result_path + ".tmp");
    out << nlohmann::json{{"protocol", 1},
                          {"outcome", "ok"},
                          {"metrics", {{"x", 1}}},
                          {"samples", nlohmann::json::array()}}
               .dump()
        << "\n";
  }
  std::rename((result_path + ".tmp").c_str(), result_path.c_str());
  return 0;
}
