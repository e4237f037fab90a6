// bare_spawn: runs `argv...` N times in a row with posix_spawn + waitpid and prints the
// total seconds: the floor that any job runner's per-job cost is measured against.
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

extern char** environ;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bare_spawn N PROGRAM [ARGS...]\n");
    return 2;
  }
  int n = std::atoi(argv[1]);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    pid_t pid;
    if (posix_spawn(&pid, argv[2], nullptr, nullptr, argv + 2, environ) != 0) return 1;
    int status;
    waitpid(pid, &status, 0);
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%.6f\n", s);
  return 0;
}
