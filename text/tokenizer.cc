#include "text/tokenizer.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>
#include <utility>

#include "base/atomic_file.h"
#include "text/added_vocabulary.h"
#include "text/bpe.h"
#include "text/byte_level.h"
#include "text/nfc_normalizer.h"
#include "text/utf8.h"

namespace orch::text {
namespace {

using Json = nlohmann::json;

// Reading tokenizer.json: every helper returns an error naming the JSON path of the
// field ("model.merges[3]") so the caller can prefix the file name.
Status FieldError(const std::string& field, const std::string& problem) {
  return Status::Error("field \"" + field + "\": " + problem);
}

// A field that is absent or null reads as `fallback`; any other non-boolean is an error.
StatusOr<bool> OptionalBool(const Json& object, const std::string& key, const std::string& path,
                            bool fallback) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) return FieldError(path + "." + key, "expected true or false");
  return it->get<bool>();
}

bool IsAbsentOrNull(const Json& object, const std::string& key) {
  auto it = object.find(key);
  return it == object.end() || it->is_null();
}

std::string TypeOf(const Json& component) {
  auto it = component.find("type");
  return it != component.end() && it->is_string() ? it->get<std::string>() : "";
}

// Only NFC (alone or in a Sequence) is implemented; it is idempotent, so a Sequence of
// several NFC steps is one NFC.
StatusOr<bool> ParseNormalizer(const Json& root) {
  if (IsAbsentOrNull(root, "normalizer")) return false;
  const Json& normalizer = root["normalizer"];
  if (!normalizer.is_object()) return FieldError("normalizer", "expected an object or null");
  const std::string type = TypeOf(normalizer);
  if (type == "NFC") return true;
  if (type == "Sequence") {
    auto it = normalizer.find("normalizers");
    if (it == normalizer.end() || !it->is_array()) {
      return FieldError("normalizer.normalizers", "expected an array");
    }
    bool nfc = false;
    for (size_t i = 0; i < it->size(); ++i) {
      if (!(*it)[i].is_object() || TypeOf((*it)[i]) != "NFC") {
        return FieldError("normalizer.normalizers[" + std::to_string(i) + "].type",
                          "only NFC is supported");
      }
      nfc = true;
    }
    return nfc;
  }
  return FieldError("normalizer.type", "\"" + type + "\" is not supported (only NFC)");
}

struct PreTokenizerConfig {
  bool add_prefix_space;
  bool use_regex;
};

StatusOr<PreTokenizerConfig> ParsePreTokenizer(const Json& root) {
  if (IsAbsentOrNull(root, "pre_tokenizer")) {
    return FieldError("pre_tokenizer", "missing; only the ByteLevel pre-tokenizer is supported");
  }
  const Json& pre = root["pre_tokenizer"];
  if (!pre.is_object() || TypeOf(pre) != "ByteLevel") {
    return FieldError("pre_tokenizer.type", "\"" + (pre.is_object() ? TypeOf(pre) : std::string()) +
                                                "\" is not supported (only ByteLevel)");
  }
  // Defaults are those of tokenizers' ByteLevel (add_prefix_space true, use_regex true).
  auto add_prefix_space = OptionalBool(pre, "add_prefix_space", "pre_tokenizer", true);
  if (!add_prefix_space.ok()) return add_prefix_space.status();
  auto use_regex = OptionalBool(pre, "use_regex", "pre_tokenizer", true);
  if (!use_regex.ok()) return use_regex.status();
  return PreTokenizerConfig{*add_prefix_space, *use_regex};
}

// The post-processor runs on encode(); only those that add no tokens are accepted.
Status CheckPostProcessor(const Json& root) {
  if (IsAbsentOrNull(root, "post_processor")) return Status::Ok();
  const Json& post = root["post_processor"];
  const std::string type = post.is_object() ? TypeOf(post) : "";
  if (type == "ByteLevel") return Status::Ok();  // only adjusts offsets
  return FieldError("post_processor.type",
                    "\"" + type + "\" is not supported (it may add tokens; only ByteLevel)");
}

StatusOr<std::vector<AddedToken>> ParseAddedTokens(const Json& root) {
  std::vector<AddedToken> tokens;
  if (IsAbsentOrNull(root, "added_tokens")) return tokens;
  const Json& array = root["added_tokens"];
  if (!array.is_array()) return FieldError("added_tokens", "expected an array");
  for (size_t i = 0; i < array.size(); ++i) {
    const std::string path = "added_tokens[" + std::to_string(i) + "]";
    const Json& entry = array[i];
    if (!entry.is_object()) return FieldError(path, "expected an object");
    AddedToken token;
    auto content = entry.find("content");
    if (content == entry.end() || !content->is_string()) {
      return FieldError(path + ".content", "expected a string");
    }
    token.content = content->get<std::string>();
    auto id = entry.find("id");
    if (id == entry.end() || !id->is_number_unsigned() || id->get<uint64_t>() > INT32_MAX) {
      return FieldError(path + ".id", "expected an id between 0 and 2^31-1");
    }
    token.id = static_cast<int32_t>(id->get<uint64_t>());
    // Defaults are those of tokenizers' AddedToken::default().
    struct Flag {
      const char* key;
      bool* value;
      bool fallback;
    };
    for (const Flag& flag :
         {Flag{"single_word", &token.single_word, false}, Flag{"lstrip", &token.lstrip, false},
          Flag{"rstrip", &token.rstrip, false}, Flag{"normalized", &token.normalized, true},
          Flag{"special", &token.special, false}}) {
      auto value = OptionalBool(entry, flag.key, path, flag.fallback);
      if (!value.ok()) return value.status();
      *flag.value = *value;
    }
    tokens.push_back(std::move(token));
  }
  return tokens;
}

// A string option that must be absent, null or empty (no effect) because orch does not
// implement it.
Status RequireUnsetString(const Json& model, const std::string& key) {
  if (IsAbsentOrNull(model, key)) return Status::Ok();
  const Json& value = model[key];
  if (value.is_string() && value.get<std::string>().empty()) return Status::Ok();
  return FieldError("model." + key, "is set; not supported");
}

StatusOr<BpeConfig> ParseModel(const Json& root) {
  if (IsAbsentOrNull(root, "model") || !root["model"].is_object()) {
    return FieldError("model", "expected an object");
  }
  const Json& model = root["model"];
  if (auto type = model.find("type"); type != model.end() && *type != "BPE") {
    return FieldError("model.type", type->dump() + " is not supported (only BPE)");
  }
  BpeConfig config;
  if (!IsAbsentOrNull(model, "dropout")) {
    const Json& dropout = model["dropout"];
    if (!dropout.is_number() || dropout.get<double>() != 0.0) {
      return FieldError("model.dropout", "BPE dropout is random; only null or 0 is supported");
    }
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (Status s = RequireUnsetString(model, key); !s.ok()) return s;
  }
  auto byte_fallback = OptionalBool(model, "byte_fallback", "model", false);
  if (!byte_fallback.ok()) return byte_fallback.status();
  if (*byte_fallback) return FieldError("model.byte_fallback", "true is not supported");
  auto fuse_unk = OptionalBool(model, "fuse_unk", "model", false);
  if (!fuse_unk.ok()) return fuse_unk.status();
  config.fuse_unk = *fuse_unk;
  auto ignore_merges = OptionalBool(model, "ignore_merges", "model", false);
  if (!ignore_merges.ok()) return ignore_merges.status();
  config.ignore_merges = *ignore_merges;
  if (!IsAbsentOrNull(model, "unk_token")) {
    if (!model["unk_token"].is_string()) return FieldError("model.unk_token", "expected a string");
    config.unk_token = model["unk_token"].get<std::string>();
  }

  auto vocab = model.find("vocab");
  if (vocab == model.end() || !vocab->is_object()) {
    return FieldError("model.vocab", "expected an object of token -> id");
  }
  config.vocab.reserve(vocab->size());
  for (auto it = vocab->begin(); it != vocab->end(); ++it) {
    if (!it->is_number_unsigned() || it->get<uint64_t>() > INT32_MAX) {
      return FieldError("model.vocab[\"" + it.key() + "\"]", "expected an id between 0 and 2^31-1");
    }
    config.vocab.emplace(it.key(), static_cast<int32_t>(it->get<uint64_t>()));
  }

  auto merges = model.find("merges");
  if (merges == model.end() || !merges->is_array()) {
    return FieldError("model.merges", "expected an array");
  }
  config.merges.reserve(merges->size());
  for (size_t i = 0; i < merges->size(); ++i) {
    const Json& merge = (*merges)[i];
    const std::string path = "model.merges[" + std::to_string(i) + "]";
    if (merge.is_string()) {
      // The legacy "a b" form; tokenizers skips "#version" lines and requires exactly one
      // space (so tokens themselves never contain one).
      const std::string line = merge.get<std::string>();
      if (line.rfind("#version", 0) == 0) continue;
      const size_t space = line.find(' ');
      if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
        return FieldError(path, "expected two tokens separated by one space");
      }
      config.merges.emplace_back(line.substr(0, space), line.substr(space + 1));
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() &&
               merge[1].is_string()) {
      config.merges.emplace_back(merge[0].get<std::string>(), merge[1].get<std::string>());
    } else {
      return FieldError(path, "expected \"a b\" or [\"a\", \"b\"]");
    }
  }
  return config;
}

}  // namespace

struct Tokenizer::Impl {
  Impl(std::optional<NfcNormalizer> normalizer, AddedVocabulary added,
       ByteLevelPreTokenizer pre_tokenizer, BpeModel model)
      : normalizer(std::move(normalizer)),
        added(std::move(added)),
        pre_tokenizer(std::move(pre_tokenizer)),
        model(std::move(model)) {}

  std::optional<NfcNormalizer> normalizer;
  AddedVocabulary added;
  ByteLevelPreTokenizer pre_tokenizer;
  BpeModel model;
};

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

StatusOr<Tokenizer> Tokenizer::FromFile(const std::string& path) {
  auto json = ReadFile(path);
  if (!json.ok()) return json.status();
  return FromJson(*json, path);
}

StatusOr<Tokenizer> Tokenizer::FromJson(std::string_view json_text, const std::string& source) {
  const std::string context = "tokenizer " + source;
  Json root;
  try {
    root = Json::parse(json_text);
  } catch (const Json::exception& e) {
    return Status::Error(context + ": not valid JSON: " + e.what());
  }
  if (!root.is_object()) return Status::Error(context + ": expected a JSON object");
  for (const char* key : {"truncation", "padding"}) {
    if (!IsAbsentOrNull(root, key)) {
      return FieldError(key, "is set; not supported (it changes encode() ids)")
          .WithContext(context);
    }
  }
  auto nfc = ParseNormalizer(root);
  if (!nfc.ok()) return nfc.status().WithContext(context);
  auto pre = ParsePreTokenizer(root);
  if (!pre.ok()) return pre.status().WithContext(context);
  if (Status s = CheckPostProcessor(root); !s.ok()) return s.WithContext(context);
  auto added_tokens = ParseAddedTokens(root);
  if (!added_tokens.ok()) return added_tokens.status().WithContext(context);
  auto bpe_config = ParseModel(root);
  if (!bpe_config.ok()) return bpe_config.status().WithContext(context);

  // tokenizers ignores the "id" of an added token: it takes the vocabulary's id of the
  // content or else the next free id after the model's vocabulary. Recompute that and
  // refuse a file whose ids disagree, so the ids orch emits are those tokenizers emits.
  std::unordered_map<std::string, int32_t> assigned;
  int64_t next_id = static_cast<int64_t>(bpe_config->vocab.size());
  for (size_t i = 0; i < added_tokens->size(); ++i) {
    const AddedToken& token = (*added_tokens)[i];
    if (token.content.empty()) continue;
    int64_t id;
    if (auto it = assigned.find(token.content); it != assigned.end()) {
      id = it->second;
    } else if (auto v = bpe_config->vocab.find(token.content); v != bpe_config->vocab.end()) {
      id = v->second;
    } else {
      id = next_id++;
    }
    assigned.emplace(token.content, static_cast<int32_t>(id));
    if (id != token.id) {
      return FieldError("added_tokens[" + std::to_string(i) + "].id",
                        "is " + std::to_string(token.id) +
                            " but Hugging Face tokenizers would use " + std::to_string(id) +
                            "; not supported")
          .WithContext(context);
    }
  }

  std::optional<NfcNormalizer> normalizer;
  if (*nfc) {
    auto created = NfcNormalizer::Create();
    if (!created.ok()) return created.status().WithContext(context);
    normalizer.emplace(std::move(created).value());
  }
  auto added =
      AddedVocabulary::Create(std::move(added_tokens).value(), normalizer ? &*normalizer : nullptr);
  if (!added.ok()) return added.status().WithContext(context + ": field \"added_tokens\"");
  auto pre_tokenizer = ByteLevelPreTokenizer::Create(pre->add_prefix_space, pre->use_regex);
  if (!pre_tokenizer.ok()) return pre_tokenizer.status().WithContext(context);
  auto model = BpeModel::Create(std::move(bpe_config).value());
  if (!model.ok()) return model.status().WithContext(context + ": field \"model\"");
  return Tokenizer(std::make_unique<Impl>(std::move(normalizer), std::move(added).value(),
                                          std::move(pre_tokenizer).value(),
                                          std::move(model).value()));
}

StatusOr<std::vector<int32_t>> Tokenizer::Encode(std::string_view text) const {
  if (Status s = ValidateUtf8(text); !s.ok()) return s;
  const Impl& impl = *impl_;
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 4);

  // Per-call cache of BPE results by word: natural text repeats a small set of words,
  // so most words are looked up instead of merged.
  struct WordHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, std::vector<int32_t>, WordHash, std::equal_to<>> cache;

  std::vector<TextSplit> raw_splits;
  std::vector<TextSplit> normalized_splits;
  std::vector<std::string_view> words;
  std::string normalized;
  std::string scratch;
  // 1. Tokens with normalized=false are found in the raw text; 2. every other piece is
  // normalized on its own and searched for normalized tokens; 3. what remains is split
  // into words by the pre-tokenizer and each word goes through BPE. Empty pieces are
  // dropped, as tokenizers' PreTokenizedString::split does.
  impl.added.Split(text, AddedVocabulary::Pass::kRaw, &raw_splits);
  for (const TextSplit& raw : raw_splits) {
    if (raw.end == raw.begin) continue;
    if (raw.id >= 0) {
      ids.push_back(raw.id);
      continue;
    }
    std::string_view piece = text.substr(raw.begin, raw.end - raw.begin);
    if (impl.normalizer) {
      if (Status s = impl.normalizer->Normalize(piece, &normalized); !s.ok()) return s;
      piece = normalized;
    }
    normalized_splits.clear();
    impl.added.Split(piece, AddedVocabulary::Pass::kNormalized, &normalized_splits);
    for (const TextSplit& split : normalized_splits) {
      if (split.end == split.begin) continue;
      if (split.id >= 0) {
        ids.push_back(split.id);
        continue;
      }
      words.clear();
      if (Status s = impl.pre_tokenizer.Split(piece.substr(split.begin, split.end - split.begin),
                                              &scratch, &words);
          !s.ok()) {
        return s;
      }
      for (std::string_view word : words) {
        auto hit = cache.find(word);
        if (hit == cache.end()) {
          std::vector<int32_t> word_ids;
          impl.model.EncodeWord(word, &word_ids);
          hit = cache.emplace(std::string(word), std::move(word_ids)).first;
        }
        ids.insert(ids.end(), hit->second.begin(), hit->second.end());
      }
    }
  }
  return ids;
}

StatusOr<std::vector<int32_t>> TokenizeFile(const std::string& tokenizer_path,
                                            const std::string& text_path) {
  auto tokenizer = Tokenizer::FromFile(tokenizer_path);
  if (!tokenizer.ok()) return tokenizer.status();
  auto text = ReadFile(text_path);
  if (!text.ok()) return text.status();
  auto ids = tokenizer->Encode(*text);
  if (!ids.ok()) return ids.status().WithContext(text_path);
  return ids;
}

}  // namespace orch::text
