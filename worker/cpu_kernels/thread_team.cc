#include "worker/cpu_kernels/thread_team.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>

namespace orch::worker {
namespace {

// Thrown by Barrier in the members that did not fail, so they unwind and RunTeam can return.
struct TeamAborted {};

void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Waits until `word` differs from `old` or `stop(value)` holds: spins for up to
// kTeamSpinMicros (reading the clock every 32 pauses), then blocks on the futex. Returns the
// value seen.
template <class Stop>
uint32_t WaitWhileEqual(const std::atomic<uint32_t>& word, uint32_t old, const Stop& stop) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::microseconds(kTeamSpinMicros);
  do {
    for (int i = 0; i < 32; ++i) {
      const uint32_t v = word.load(std::memory_order_acquire);
      if (v != old || stop(v)) return v;
      CpuRelax();
    }
  } while (std::chrono::steady_clock::now() < deadline);
  for (;;) {
    const uint32_t v = word.load(std::memory_order_acquire);
    if (v != old || stop(v)) return v;
    word.wait(old, std::memory_order_acquire);
  }
}

enum : uint32_t { kModeUnknown = 0, kModeFull = 1, kModeSolo = 2 };

}  // namespace

struct TeamState {
  explicit TeamState(int n) : size(n) {}
  const int size;
  std::atomic<uint32_t> mode{kModeUnknown};  // set by member 0: whole team or a team of one
  std::atomic<uint32_t> arrived{0};          // members waiting at the current barrier
  std::atomic<uint32_t> gen{0};              // +2 per barrier; bit 0: a member failed
  std::mutex error_mutex;
  std::exception_ptr error;

  void Barrier() {
    const uint32_t g = gen.load(std::memory_order_acquire);
    if (g & 1u) throw TeamAborted{};
    if (arrived.fetch_add(1, std::memory_order_acq_rel) + 1 == static_cast<uint32_t>(size)) {
      arrived.store(0, std::memory_order_relaxed);
      gen.fetch_add(2, std::memory_order_release);
      gen.notify_all();
      return;
    }
    const uint32_t v = WaitWhileEqual(gen, g, [](uint32_t w) { return (w & 1u) != 0; });
    if (v & 1u) throw TeamAborted{};
  }

  void Fail(std::exception_ptr e) {
    {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::move(e);
    }
    gen.fetch_or(1u, std::memory_order_acq_rel);
    gen.notify_all();
  }
};

void TeamMember::Barrier() const {
  if (size_ > 1) state_->Barrier();
}

std::pair<int64_t, int64_t> TeamMember::Share(int64_t n, int64_t align) const {
  if (n <= 0) return {0, 0};
  align = std::max<int64_t>(1, align);
  const int64_t units = (n + align - 1) / align, per = units / size_, rem = units % size_;
  const int64_t first = id_ * per + std::min<int64_t>(id_, rem);
  const int64_t count = per + (id_ < rem ? 1 : 0);
  return {std::min(n, first * align), std::min(n, (first + count) * align)};
}

void RunTeam(int size, const std::function<void(const TeamMember&)>& fn) {
  if (size <= 1 || at::in_parallel_region()) {
    fn(TeamMember(nullptr, 0, 1));
    return;
  }
  TeamState st(size);
  // Grain 1 over `size` items: with at least `size` threads each member gets exactly one
  // item; otherwise member 0's range is longer than one and it runs fn alone.
  at::parallel_for(0, size, 1, [&](int64_t begin, int64_t end) {
    if (begin == 0) {
      st.mode.store(end == 1 ? kModeFull : kModeSolo, std::memory_order_release);
      st.mode.notify_all();
    }
    const uint32_t mode = WaitWhileEqual(st.mode, kModeUnknown, [](uint32_t) { return false; });
    if (mode == kModeSolo) {
      if (begin == 0) fn(TeamMember(nullptr, 0, 1));  // exceptions: through at::parallel_for
      return;
    }
    try {
      fn(TeamMember(&st, static_cast<int>(begin), size));
    } catch (const TeamAborted&) {
    } catch (...) {
      st.Fail(std::current_exception());
    }
  });
  if (st.error) std::rethrow_exception(st.error);
}

}  // namespace orch::worker
