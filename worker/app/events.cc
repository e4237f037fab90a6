#include "worker/app/events.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace orch::worker {

EventSink::EventSink(const std::string& path) : path_(path) {
  if (path_.empty()) return;
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) error_ = "cannot open events_path " + path_ + ": " + std::strerror(errno);
}

EventSink::~EventSink() {
  if (fd_ >= 0) ::close(fd_);
}

double EventSink::Now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

void EventSink::Emit(nlohmann::json event) {
  if (fd_ < 0) return;
  event["t"] = Now();
  std::string line = event.dump() + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // A dead reader raises SIGPIPE; any other error: progress is best effort.
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void EventSink::Started(int64_t pid, int protocol) {
  Emit({{"event", "started"}, {"pid", pid}, {"protocol", protocol}});
}
void EventSink::Phase(const std::string& name) { Emit({{"event", "phase"}, {"name", name}}); }
void EventSink::Heartbeat(int64_t token, int64_t total) {
  nlohmann::json e = {{"event", "heartbeat"}, {"token", token}};
  if (total > 0) e["total"] = total;
  Emit(std::move(e));
}
void EventSink::Warning(const std::string& message) {
  Emit({{"event", "warning"}, {"message", message}});
}
void EventSink::Failure(const std::string& outcome, const std::string& message) {
  Emit({{"event", "failure"}, {"outcome", outcome}, {"message", message}});
}

HeartbeatTicker::HeartbeatTicker(EventSink* sink, int period_ms)
    : sink_(sink), period_ms_(period_ms) {
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(period_ms_), [this] { return stop_; })) {
      sink_->Heartbeat(token_.load(), total_.load());
    }
  });
}

HeartbeatTicker::~HeartbeatTicker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

}  // namespace orch::worker
