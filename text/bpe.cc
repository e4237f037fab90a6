#include "text/bpe.h"

#include <queue>

#include "text/byte_level.h"

namespace orch::text {
namespace {

uint64_t PairKey(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

// A symbol of the word being merged: a doubly linked list over a vector, as in
// tokenizers' Word, so merging is O(1) and stale queue entries can be detected.
struct Symbol {
  int32_t id;
  int32_t prev;
  int32_t next;
  bool alive;
};

struct QueuedMerge {
  int32_t rank;
  int32_t pos;
  int32_t new_id;
};

// Min-heap on (rank, pos): the lowest rank first and, among equal ranks, the leftmost.
struct LaterMerge {
  bool operator()(const QueuedMerge& a, const QueuedMerge& b) const {
    if (a.rank != b.rank) return a.rank > b.rank;
    return a.pos > b.pos;
  }
};

}  // namespace

StatusOr<BpeModel> BpeModel::Create(BpeConfig config) {
  BpeModel model;
  for (auto& [token, id] : config.vocab) {
    if (id < 0) return Status::Error("vocab: token has a negative id " + std::to_string(id));
    model.vocab_.emplace(token, id);
  }
  const auto& alphabet = ByteLevelAlphabet();
  for (int b = 0; b < 256; ++b) {
    auto it = model.vocab_.find(alphabet[b]);
    model.byte_ids_[b] = it == model.vocab_.end() ? -1 : it->second;
  }
  auto lookup = [&](const std::string& token, size_t rank) -> StatusOr<int32_t> {
    auto it = model.vocab_.find(token);
    if (it == model.vocab_.end()) {
      return Status::Error("merges[" + std::to_string(rank) + "]: token \"" + token +
                           "\" is not in the vocabulary");
    }
    return it->second;
  };
  model.merges_.reserve(config.merges.size());
  for (size_t rank = 0; rank < config.merges.size(); ++rank) {
    const auto& [left, right] = config.merges[rank];
    auto left_id = lookup(left, rank);
    if (!left_id.ok()) return left_id.status();
    auto right_id = lookup(right, rank);
    if (!right_id.ok()) return right_id.status();
    auto new_id = lookup(left + right, rank);
    if (!new_id.ok()) return new_id.status();
    // A repeated pair keeps its last rank, as collecting into a HashMap does in tokenizers.
    model.merges_[PairKey(*left_id, *right_id)] = Merge{static_cast<int32_t>(rank), *new_id};
  }
  if (config.unk_token) {
    auto it = model.vocab_.find(*config.unk_token);
    if (it == model.vocab_.end()) {
      return Status::Error("unk_token \"" + *config.unk_token + "\" is not in the vocabulary");
    }
    model.unk_id_ = it->second;
  }
  model.fuse_unk_ = config.fuse_unk;
  model.ignore_merges_ = config.ignore_merges;
  return model;
}

std::optional<int32_t> BpeModel::TokenToId(std::string_view token) const {
  auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const BpeModel::Merge* BpeModel::FindMerge(int32_t left, int32_t right) const {
  auto it = merges_.find(PairKey(left, right));
  return it == merges_.end() ? nullptr : &it->second;
}

void BpeModel::EncodeWord(std::string_view word, std::vector<int32_t>* ids) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    std::string spelled;
    for (unsigned char b : word) spelled += ByteLevelAlphabet()[b];
    if (auto id = TokenToId(spelled)) {
      ids->push_back(*id);
      return;
    }
  }

  // Initial symbols: one per byte (one per character of the byte-level spelling).
  // Bytes missing from the vocabulary become the unk token, or vanish without one,
  // which is what tokenizers does.
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  auto add = [&symbols](int32_t id) {
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back(Symbol{id, index - 1, -1, true});
    if (index > 0) symbols[index - 1].next = index;
  };
  bool pending_unk = false;
  for (unsigned char b : word) {
    const int32_t id = byte_ids_[b];
    if (id >= 0) {
      if (pending_unk) add(*unk_id_);
      pending_unk = false;
      add(id);
    } else if (unk_id_) {
      if (pending_unk && !fuse_unk_) add(*unk_id_);
      pending_unk = true;
    }
  }
  if (pending_unk) add(*unk_id_);
  if (symbols.empty()) return;

  std::priority_queue<QueuedMerge, std::vector<QueuedMerge>, LaterMerge> queue;
  for (size_t i = 0; i + 1 < symbols.size(); ++i) {
    if (const Merge* m = FindMerge(symbols[i].id, symbols[i + 1].id)) {
      queue.push(QueuedMerge{m->rank, static_cast<int32_t>(i), m->new_id});
    }
  }
  while (!queue.empty()) {
    const QueuedMerge top = queue.top();
    queue.pop();
    Symbol& current = symbols[top.pos];
    if (!current.alive || current.next < 0) continue;
    const int32_t next_pos = current.next;
    const Symbol right = symbols[next_pos];
    // Skip entries made stale by an earlier merge: the pair at `pos` must still be one
    // whose merge produces `new_id`.
    const Merge* m = FindMerge(current.id, right.id);
    if (m == nullptr || m->new_id != top.new_id) continue;

    current.id = top.new_id;
    current.next = right.next;
    symbols[next_pos].alive = false;
    if (right.next >= 0) symbols[right.next].prev = top.pos;

    if (current.prev >= 0) {
      if (const Merge* left = FindMerge(symbols[current.prev].id, current.id)) {
        queue.push(QueuedMerge{left->rank, current.prev, left->new_id});
      }
    }
    if (current.next >= 0) {
      if (const Merge* after = FindMerge(current.id, symbols[current.next].id)) {
        queue.push(QueuedMerge{after->rank, top.pos, after->new_id});
      }
    }
  }
  for (const Symbol& s : symbols) {
    if (s.alive) ids->push_back(s.id);
  }
}

}  // namespace orch::text
