#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include "orchestrator/subprocess.h"

extern char** environ;

namespace orch {
namespace {

int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

std::vector<std::string> BuildEnv(const std::vector<std::pair<std::string, std::string>>& extra) {
  std::map<std::string, std::string> env;
  std::vector<std::string> order;
  for (char** e = environ; *e; ++e) {
    std::string s(*e);
    auto eq = s.find('=');
    if (eq == std::string::npos) continue;
    env[s.substr(0, eq)] = s.substr(eq + 1);
  }
  for (const auto& [k, v] : extra) env[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> CStrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

StatusOr<Subprocess> Subprocess::Spawn(const SpawnOptions& opts) {
  if (opts.argv.empty()) return Status::Error("spawn: empty argv");
  int pipefd[2] = {-1, -1};
  if (opts.event_pipe) {
    if (::pipe2(pipefd, O_CLOEXEC) != 0) {
      return Status::Error(std::string("spawn: pipe: ") + std::strerror(errno));
    }
    // dup2(3, 3) would keep FD_CLOEXEC: move the write end away from 3 first.
    if (pipefd[1] == 3) {
      int moved = ::fcntl(pipefd[1], F_DUPFD_CLOEXEC, 10);
      ::close(pipefd[1]);
      pipefd[1] = moved;
    }
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, opts.log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  if (opts.event_pipe) posix_spawn_file_actions_adddup2(&fa, pipefd[1], 3);
  if (!opts.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, opts.cwd.c_str());

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  for (int s : {SIGINT, SIGTERM, SIGPIPE, SIGCHLD, SIGHUP, SIGQUIT}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);  // own process group: signals reach the whole tree
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> argv = opts.argv;
  std::vector<std::string> envs = BuildEnv(opts.env);
  auto cargv = CStrings(argv);
  auto cenv = CStrings(envs);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0].c_str(), &fa, &attr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (opts.event_pipe) ::close(pipefd[1]);
  if (rc != 0) {
    if (opts.event_pipe) ::close(pipefd[0]);
    return Status::Error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  Subprocess p;
  p.pid_ = pid;
  p.pidfd_ = PidfdOpen(pid);
  p.event_fd_ = opts.event_pipe ? pipefd[0] : -1;
  if (p.event_fd_ >= 0) ::fcntl(p.event_fd_, F_SETFL, O_NONBLOCK);
  if (p.pidfd_ < 0) {
    p.SignalGroup(SIGKILL);
    return Status::Error(std::string("pidfd_open: ") + std::strerror(errno));
  }
  return p;
}

Subprocess::Subprocess(Subprocess&& o) noexcept { *this = std::move(o); }

Subprocess& Subprocess::operator=(Subprocess&& o) noexcept {
  std::swap(pid_, o.pid_);
  std::swap(pidfd_, o.pidfd_);
  std::swap(event_fd_, o.event_fd_);
  std::swap(reaped_, o.reaped_);
  return *this;
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !reaped_) {
    SignalGroup(SIGKILL);
    ExitInfo info;
    while (!TryReap(&info)) {
      pollfd p{pidfd_, POLLIN, 0};
      ::poll(&p, 1, 100);
    }
  }
  if (pidfd_ >= 0) ::close(pidfd_);
  CloseEventFd();
}

void Subprocess::SignalGroup(int sig) {
  if (pid_ > 0 && !reaped_) ::kill(-pid_, sig);
}

bool Subprocess::TryReap(ExitInfo* info) {
  if (reaped_) return true;
  siginfo_t si{};
  // WNOWAIT: look without reaping, so the group id cannot be reused before we kill
  // the leftovers of the group.
  if (::waitid(P_PID, pid_, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0) {
    return false;
  }
  ::kill(-pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  if (WIFSIGNALED(status)) {
    info->signaled = true;
    info->code = WTERMSIG(status);
  } else {
    info->signaled = false;
    info->code = WEXITSTATUS(status);
  }
  return true;
}

void Subprocess::CloseEventFd() {
  if (event_fd_ >= 0) ::close(event_fd_);
  event_fd_ = -1;
}

StatusOr<std::string> CaptureOutput(const std::vector<std::string>& argv) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Status::Error("pipe failed");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  std::vector<std::string> args = argv;
  auto cargv = CStrings(args);
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0].c_str(), &fa, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return Status::Error(args[0] + ": " + std::strerror(rc));
  }
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) out.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::Error(args[0] + " failed");
  }
  return out;
}

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

}  // namespace orch
