#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>

#include "base/os_error.h"
#include "orchestrator/local/subprocess.h"

extern char** environ;

namespace orch {
namespace {

// The SIGCHLD self-pipe of the fallback: the handler writes a byte, the poll loop wakes.
int g_sigchld_pipe[2] = {-1, -1};

void OnSigchld(int) {
  int saved = errno;
  char c = 0;
  ssize_t ignored = ::write(g_sigchld_pipe[1], &c, 1);  // full pipe: a wakeup is pending
  (void)ignored;
  errno = saved;
}

Status InstallSigchldPipe() {
  if (g_sigchld_pipe[0] >= 0) return Status::Ok();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return OsError(errno, "SIGCHLD pipe");
  g_sigchld_pipe[0] = fds[0];
  g_sigchld_pipe[1] = fds[1];
  struct sigaction sa {};
  sa.sa_handler = OnSigchld;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  ::sigaction(SIGCHLD, &sa, nullptr);
  return Status::Ok();
}

void DrainSigchldPipe() {
  char buf[64];
  while (g_sigchld_pipe[0] >= 0 && ::read(g_sigchld_pipe[0], buf, sizeof(buf)) > 0) {
  }
}

int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

// pidfd_open exists from Linux 5.3; seccomp profiles of older container runtimes answer
// EPERM for syscalls they do not know. ORCH_NO_PIDFD=1 forces the fallback (tests).
bool PidfdAvailable() {
  const char* force = std::getenv("ORCH_NO_PIDFD");
  if (force && *force && std::string(force) != "0") return false;
  static const bool available = [] {
    int fd = PidfdOpen(::getpid());
    if (fd >= 0) {
      ::close(fd);
      return true;
    }
    return errno != ENOSYS && errno != EPERM;
  }();
  return available;
}

std::vector<std::string> BuildEnv(const std::vector<std::pair<std::string, std::string>>& extra) {
  std::map<std::string, std::string> env;
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

// Closes the descriptors it holds unless released: no leak on an early return.
class FdCloser {
 public:
  explicit FdCloser(std::initializer_list<int*> fds) : fds_(fds) {}
  ~FdCloser() {
    for (int* fd : fds_) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
    }
  }

 private:
  std::vector<int*> fds_;
};

// A pipe whose write end is not `avoid` (dup2(fd, fd) would keep FD_CLOEXEC set).
Status MakePipe(int fds[2], int avoid, const char* what) {
  if (::pipe2(fds, O_CLOEXEC) != 0) return OsError(errno, std::string("spawn: ") + what + " pipe");
  if (fds[1] <= avoid) {
    int moved = ::fcntl(fds[1], F_DUPFD_CLOEXEC, 10);
    int err = errno;
    ::close(fds[1]);
    fds[1] = moved;
    if (moved < 0) return OsError(err, std::string("spawn: ") + what + " pipe");
  }
  return Status::Ok();
}

}  // namespace

int Subprocess::SigchldFd() { return g_sigchld_pipe[0]; }

StatusOr<Subprocess> Subprocess::Spawn(const SpawnOptions& opts) {
  if (opts.argv.empty()) return Status::Error("spawn: empty argv");
  const bool use_pidfd = PidfdAvailable();
  if (!use_pidfd) {
    if (Status s = InstallSigchldPipe(); !s.ok()) return s;
  }
  int events[2] = {-1, -1}, output[2] = {-1, -1};
  FdCloser closer({&events[0], &events[1], &output[0], &output[1]});
  if (opts.event_pipe) {
    if (Status s = MakePipe(events, 3, "event"); !s.ok()) return s;
  }
  if (Status s = MakePipe(output, 3, "output"); !s.ok()) return s;
  // A larger pipe lets a chatty worker run ahead of the poll loop; failure is harmless.
  ::fcntl(output[0], F_SETPIPE_SZ, 1 << 20);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, output[1], 1);
  posix_spawn_file_actions_adddup2(&fa, output[1], 2);
  if (opts.event_pipe) posix_spawn_file_actions_adddup2(&fa, events[1], 3);
  if (!opts.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, opts.cwd.c_str());
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  // Descriptors orch itself inherited without close-on-exec (a shell's, a job runner's)
  // are not the worker's either: it gets 0-3 and nothing else.
  posix_spawn_file_actions_addclosefrom_np(&fa, 4);
#endif

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
  if (rc != 0) {
    // A machine fault pauses the sweep; a worker that cannot run is that trial's error.
    if (IsResourceErrno(rc)) return OsError(rc, "cannot start " + argv[0]);
    return Status::Error("cannot start " + argv[0] + ": " + std::strerror(rc) +
                         " (check the spec's `worker:`: it must be an executable file, and "
                         "a script's #! interpreter must exist)");
  }
  Subprocess p;  // from here on its destructor kills and reaps the child on error
  p.pid_ = pid;
  p.event_fd_ = events[0];
  p.output_fd_ = output[0];
  events[0] = output[0] = -1;
  if (p.event_fd_ >= 0) ::fcntl(p.event_fd_, F_SETFL, O_NONBLOCK);
  ::fcntl(p.output_fd_, F_SETFL, O_NONBLOCK);
  if (use_pidfd) {
    p.pidfd_ = PidfdOpen(pid);
    if (p.pidfd_ < 0) return OsError(errno, "pidfd_open for " + argv[0]);
  }
  return p;
}

Subprocess::Subprocess(Subprocess&& o) noexcept { *this = std::move(o); }

Subprocess& Subprocess::operator=(Subprocess&& o) noexcept {
  std::swap(pid_, o.pid_);
  std::swap(pidfd_, o.pidfd_);
  std::swap(event_fd_, o.event_fd_);
  std::swap(output_fd_, o.output_fd_);
  std::swap(reaped_, o.reaped_);
  return *this;
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !reaped_) {
    SignalGroup(SIGKILL);
    ExitInfo info;
    while (!TryReap(&info)) {
      pollfd p{pidfd(), POLLIN, 0};
      ::poll(&p, 1, 100);
    }
  }
  if (pidfd_ >= 0) ::close(pidfd_);
  CloseEventFd();
  CloseOutputFd();
}

void Subprocess::SignalGroup(int sig) {
  if (pid_ > 0 && !reaped_) ::kill(-pid_, sig);
}

bool Subprocess::TryReap(ExitInfo* info) {
  if (reaped_) return true;
  // Fallback: empty the shared self-pipe before looking, so an exit after this look
  // leaves a byte that wakes the next poll.
  if (pidfd_ < 0) DrainSigchldPipe();
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

void Subprocess::CloseOutputFd() {
  if (output_fd_ >= 0) ::close(output_fd_);
  output_fd_ = -1;
}

StatusOr<std::string> CaptureOutput(const std::vector<std::string>& argv, double timeout_s) {
  if (argv.empty()) return Status::Error("CaptureOutput: empty argv");
  int fds[2] = {-1, -1};
  if (::pipe2(fds, O_CLOEXEC) != 0) return OsError(errno, argv[0] + ": pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);  // on timeout the whole group dies, `sleep` included
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  std::vector<std::string> args = argv;
  auto cargv = CStrings(args);
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0].c_str(), &fa, &attr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return Status::Error(args[0] + ": " + std::strerror(rc));
  }
  constexpr size_t kMaxOutput = 1 << 20;
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<long long>(timeout_s * 1000));
  std::string out;
  bool timed_out = false;
  char buf[4096];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int prc = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (prc < 0 && errno != EINTR) break;
    if (prc <= 0) continue;
    ssize_t n = ::read(fds[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the program (and all it started) closed stdout
    if (out.size() < kMaxOutput) out.append(buf, std::min<size_t>(n, kMaxOutput - out.size()));
  }
  ::close(fds[0]);
  if (timed_out) ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    char secs[32];
    std::snprintf(secs, sizeof(secs), "%g", timeout_s);
    return Status::Error(args[0] + ": no answer within " + secs + " s; killed");
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
