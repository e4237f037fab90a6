// OneMallocArena: makes every thread of the process allocate from one heap (glibc's
// M_ARENA_MAX = 1; a no-op elsewhere). `orch report` frees the snapshot's ~100 MB of
// latencies while its cells are built on two threads, then renders on two: with an arena
// per thread, memory freed in one heap is not reused by the other, which cost ~50 MB of
// its 100,000-trial peak (issue 18). Call before the threads start; process-wide.
#pragma once

namespace orch::report {

void OneMallocArena();

}  // namespace orch::report
