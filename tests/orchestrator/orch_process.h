// Helpers for tests that start, kill and resume `orch run` as a process: spawning it
// with extra environment, waiting for it, and finding workers left alive. Test-only.
#pragma once

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

namespace orch::testing {

struct SpawnExtras {
  std::vector<std::pair<std::string, std::string>> env;
  bool ignore_sighup = false;  // as `nohup` does
  int max_open_files = 0;      // > 0: RLIMIT_NOFILE of orch (as `ulimit -n` does)
  bool ignore_sigchld = false;  // a parent that left SIGCHLD ignored (kept across exec)
};

// Starts `orch ARGS` in `dir`, stdout and stderr to `dir`/orch-PID.log.
inline pid_t SpawnOrchWith(const std::string& dir, std::vector<std::string> args,
                           const SpawnExtras& extras = {}) {
  pid_t pid = fork();
  if (pid == 0) {
    if (chdir(dir.c_str()) != 0) _exit(99);
    std::string log = dir + "/orch-" + std::to_string(getpid()) + ".log";
    // Both in append mode: stdout's buffered writes must not overwrite stderr's lines.
    if (!freopen(log.c_str(), "a", stdout) || !freopen(log.c_str(), "a", stderr)) _exit(97);
    for (const auto& [k, v] : extras.env) setenv(k.c_str(), v.c_str(), 1);
    if (extras.ignore_sighup) signal(SIGHUP, SIG_IGN);
    if (extras.ignore_sigchld) signal(SIGCHLD, SIG_IGN);
    if (extras.max_open_files > 0) {
      rlimit lim{static_cast<rlim_t>(extras.max_open_files),
                 static_cast<rlim_t>(extras.max_open_files)};
      if (setrlimit(RLIMIT_NOFILE, &lim) != 0) _exit(96);
    }
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

inline std::string OrchLog(const std::string& dir, pid_t pid) {
  std::ifstream in(dir + "/orch-" + std::to_string(pid) + ".log");
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Exit code, or 128 + signal.
inline int WaitOrch(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Processes still alive (not zombies) running `binary` with `dir` in their command line.
inline int LiveProcesses(const std::string& binary, const std::string& dir) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::ifstream in(e.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.rfind(binary, 0) == 0 && cmdline.find(dir) != std::string::npos) ++n;
  }
  return n;
}

}  // namespace orch::testing
