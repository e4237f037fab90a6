#include "report/ordered_pieces.h"

#include <array>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

namespace orch::report {

void RenderPiecesInOrder(size_t count,
                         const std::function<void(size_t piece, std::string& text)>& render,
                         const std::function<void(std::string_view text)>& emit) {
  if (count < 2) {
    std::string text;
    for (size_t i = 0; i < count; ++i) {
      text.clear();
      render(i, text);
      emit(text);
    }
    return;
  }
  // Piece i lives in slot i % kPiecesInFlight from its claim until it is emitted; a
  // piece is claimed only while fewer than kPiecesInFlight wait to be emitted, so a
  // slot is never claimed twice. Either thread claims the next piece; only this one
  // emits, and while the piece it must emit next is being rendered by the other thread,
  // it renders the one after.
  struct Slot {
    std::string text;
    bool ready = false;
  };
  std::array<Slot, kPiecesInFlight> slots;
  std::mutex mu;
  std::condition_variable changed;
  size_t next = 0;            // the next piece to claim
  size_t emitted = 0;         // pieces handed to emit
  bool stop = false;          // set by this thread when it leaves, or by the helper on failure
  std::exception_ptr failed;  // the helper's exception
  auto can_claim = [&] { return next < count && next < emitted + kPiecesInFlight; };
  // Renders a claimed piece outside the lock (its slot belongs to the claimer until it
  // is marked ready); called and returns with `lock` held.
  auto render_claimed = [&](size_t i, std::unique_lock<std::mutex>& lock) {
    lock.unlock();
    Slot& slot = slots[i % kPiecesInFlight];
    slot.text.clear();
    render(i, slot.text);
    lock.lock();
    slot.ready = true;
    changed.notify_all();
  };

  std::thread helper([&] {
    std::unique_lock<std::mutex> lock(mu);
    try {
      while (true) {
        changed.wait(lock, [&] { return stop || next >= count || can_claim(); });
        if (stop || next >= count) return;
        render_claimed(next++, lock);
      }
    } catch (...) {
      if (!lock.owns_lock()) lock.lock();
      failed = std::current_exception();
      stop = true;
      changed.notify_all();
    }
  });
  // Whatever way this thread leaves (done, or an exception from render or emit), the
  // helper stops after its current piece and is joined.
  struct Joiner {
    std::thread& helper;
    std::mutex& mu;
    std::condition_variable& changed;
    bool& stop;
    ~Joiner() {
      {
        std::lock_guard<std::mutex> lock(mu);
        stop = true;
      }
      changed.notify_all();
      helper.join();
    }
  } joiner{helper, mu, changed, stop};

  std::unique_lock<std::mutex> lock(mu);
  while (emitted < count && !failed) {
    Slot& slot = slots[emitted % kPiecesInFlight];
    if (slot.ready) {
      lock.unlock();
      emit(slot.text);
      lock.lock();
      slot.ready = false;
      ++emitted;
      changed.notify_all();
    } else if (can_claim()) {
      render_claimed(next++, lock);
    } else {
      // The piece to emit is the helper's: wait for it (or for the helper's failure).
      changed.wait(lock, [&] { return failed || slots[emitted % kPiecesInFlight].ready; });
    }
  }
  // The helper's exception (written under the lock, after which it returns): rethrown
  // here; the Joiner joins the helper as the exception leaves.
  if (failed) {
    const std::exception_ptr e = failed;
    lock.unlock();
    std::rethrow_exception(e);
  }
}

}  // namespace orch::report
