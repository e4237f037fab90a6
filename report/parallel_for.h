// ParallelFor and Beside: the report's work on several cores.
//
// ParallelFor calls fn(i) for every i in [0, n) on up to one thread per core (the caller's
// thread is one of them), each index exactly once, and returns once every call has. Indexes
// are handed out in increasing order from one counter, so uneven items balance. An
// exception thrown by a call stops the other threads at their next index and is rethrown
// here after the joins, as if one thread had made the calls: leaving a std::thread's
// function, it would std::terminate orch. The calls must touch disjoint data (each its own
// slot of an output); fn is called from several threads at once.
#pragma once

#include <cstddef>
#include <functional>

namespace orch::report {

void ParallelFor(size_t n, const std::function<void(size_t)>& fn);

// Runs `side` on a new thread while `main` runs on the caller's, and returns true once
// both have. An exception from either is rethrown here after the join (main's first).
// Returns false, having run neither, when no thread can be started: the caller then runs
// them its own way (one after the other will not do when one waits for the other).
[[nodiscard]] bool Beside(const std::function<void()>& side, const std::function<void()>& main);

}  // namespace orch::report
