// RunTeam: one function run by a team of threads at once, with a barrier between dependent
// phases -- the fused CPU decode step's threading (worker/model/cpu_decode_step.cc): one
// parallel region per decode step instead of one ATen parallel region per GEMV (~25 per step
// for Pythia-70M), whose fork/join cost at 512-wide layers ate the whole gain of a second
// thread (issue 20).
//
// The team is ATen's own intra-op pool (one at::parallel_for over the members, grain 1), not
// threads of ours: LibTorch's OpenMP threads spin for a while after every ATen parallel op
// (the decode loop's logsumexp over the logits, for one), and a second pool of ours would
// fight them for the cores. The barrier spins for up to kTeamSpinMicros, then blocks on a
// futex (std::atomic::wait).
#pragma once

#include <cstdint>
#include <functional>
#include <utility>

namespace orch::worker {

inline constexpr int64_t kTeamSpinMicros = 50;

struct TeamState;

// One member's view of a RunTeam.
class TeamMember {
 public:
  TeamMember(TeamState* state, int id, int size) : state_(state), id_(id), size_(size) {}
  int id() const { return id_; }
  int size() const { return size_; }
  // Returns when every member has called it (the k-th calls of all members pair up). When
  // another member has failed it throws an internal exception, which RunTeam absorbs.
  void Barrier() const;
  // This member's share [begin, end) of n items, in whole chunks of `align` items (the last
  // share takes the remainder): the shares of all members cover [0, n) once, in order.
  std::pair<int64_t, int64_t> Share(int64_t n, int64_t align = 1) const;

 private:
  TeamState* state_;
  int id_, size_;
};

// Runs fn(member) on `size` members at once (ATen intra-op threads, the caller among them) and
// returns when all have returned; every member must call Barrier equally often. The first
// exception a member throws is rethrown here (the others leave at their next Barrier). With
// size 1, inside an ATen parallel region, or when ATen hands out fewer than `size` threads,
// fn runs once on the calling thread as a team of one.
void RunTeam(int size, const std::function<void(const TeamMember&)>& fn);

}  // namespace orch::worker
