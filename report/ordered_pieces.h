// RenderPiecesInOrder: a text made of numbered pieces, rendered on the calling thread and
// one more, handed on in order from the calling thread alone. report.html's data (45 MB
// at 100,000 trials) is the last file `orch report` writes, while the other stream's core
// has nothing left to do (issue 18). At most kPiecesInFlight rendered pieces are held at
// once, never the whole text. `render` is called from both threads at once, for
// different pieces: it may only read what it shares. An exception from `render` (either
// thread) or `emit` stops both threads and is rethrown to the caller once the second
// thread is joined; no piece after the failed one has been emitted.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace orch::report {

inline constexpr size_t kPiecesInFlight = 4;

// Calls render(i, text) for i in [0, count) with `text` empty, on either thread, and
// emit(text of i) for i = 0, 1, ... on this thread. With count < 2, one thread.
void RenderPiecesInOrder(size_t count,
                         const std::function<void(size_t piece, std::string& text)>& render,
                         const std::function<void(std::string_view text)>& emit);

}  // namespace orch::report
