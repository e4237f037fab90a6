#include "worker/weights/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace orch::worker {
namespace {

at::ScalarType ParseDtype(const std::string& s, const std::string& where) {
  if (s == "F32") return at::kFloat;
  if (s == "F16") return at::kHalf;
  if (s == "BF16") return at::kBFloat16;
  if (s == "F64") return at::kDouble;
  if (s == "I64") return at::kLong;
  if (s == "I32") return at::kInt;
  if (s == "I16") return at::kShort;
  if (s == "I8") return at::kChar;
  if (s == "U8") return at::kByte;
  if (s == "BOOL") return at::kBool;
  throw std::runtime_error(where + ": unsupported safetensors dtype " + s);
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size < 8) {
    ::close(fd);
    throw std::runtime_error(path + ": not a safetensors file (shorter than 8 bytes)");
  }
  map_size_ = static_cast<size_t>(st.st_size);
  map_ = ::mmap(nullptr, map_size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    throw std::runtime_error("cannot map " + path + ": " + std::strerror(errno));
  }
  const auto* bytes = static_cast<const uint8_t*>(map_);
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
  if (header_len > map_size_ - 8) {
    ::munmap(map_, map_size_);
    map_ = nullptr;
    throw std::runtime_error(path + ": header length exceeds the file size");
  }
  auto header = nlohmann::json::parse(bytes + 8, bytes + 8 + header_len, nullptr, false);
  if (header.is_discarded() || !header.is_object()) {
    ::munmap(map_, map_size_);
    map_ = nullptr;
    throw std::runtime_error(path + ": header is not a JSON object");
  }
  data_ = bytes + 8 + header_len;
  data_size_ = map_size_ - 8 - header_len;
  for (const auto& [name, v] : header.items()) {
    if (name == "__metadata__") {
      if (v.is_object())
        for (const auto& [k, m] : v.items())
          if (m.is_string()) metadata_[k] = m.get<std::string>();
      continue;
    }
    const std::string where = path + ": tensor " + name;
    Entry e;
    try {
      e.dtype = ParseDtype(v.at("dtype").get<std::string>(), where);
      e.shape = v.at("shape").get<std::vector<int64_t>>();
      auto off = v.at("data_offsets").get<std::vector<uint64_t>>();
      if (off.size() != 2) throw std::runtime_error(where + ": data_offsets needs 2 entries");
      e.begin = off[0];
      e.end = off[1];
    } catch (const nlohmann::json::exception& ex) {
      ::munmap(map_, map_size_);
      map_ = nullptr;
      throw std::runtime_error(where + ": malformed entry (" + ex.what() + ")");
    }
    uint64_t numel = 1;
    for (int64_t d : e.shape) numel *= static_cast<uint64_t>(d);
    if (e.end < e.begin || e.end > data_size_ ||
        e.end - e.begin != numel * c10::elementSize(e.dtype)) {
      ::munmap(map_, map_size_);
      map_ = nullptr;
      throw std::runtime_error(where + ": data_offsets inconsistent with shape/dtype or file size");
    }
    entries_.emplace(name, std::move(e));
  }
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(map_, map_size_);
  map_ = nullptr;
}

at::Tensor SafetensorsFile::View(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) throw std::runtime_error(path_ + ": no tensor named " + name);
  const Entry& e = it->second;
  // from_blob never writes; the const_cast only satisfies its signature.
  return at::from_blob(const_cast<uint8_t*>(data_ + e.begin), e.shape,
                       at::TensorOptions().dtype(e.dtype).device(at::kCPU));
}

at::Tensor SafetensorsFile::Load(const std::string& name, at::Device device,
                                 at::ScalarType dtype) const {
  return ToDeviceAndDtype(View(name), device, dtype);
}

SafetensorsWeights::SafetensorsWeights(const std::vector<std::string>& paths) {
  for (const auto& p : paths) {
    files_.push_back(std::make_unique<SafetensorsFile>(p));
    for (const auto& [name, e] : files_.back()->entries()) by_name_[name] = files_.back().get();
  }
}

bool SafetensorsWeights::Has(const std::string& name) const { return by_name_.count(name) != 0; }

std::vector<std::string> SafetensorsWeights::Names() const {
  std::vector<std::string> names;
  for (const auto& [n, f] : by_name_) names.push_back(n);
  return names;
}

at::Tensor SafetensorsWeights::Load(const std::string& name, at::Device device,
                                    at::ScalarType dtype) {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) throw std::runtime_error("checkpoint has no tensor named " + name);
  return it->second->Load(name, device, dtype);
}

int64_t SafetensorsWeights::StoredBytes() const {
  int64_t total = 0;
  for (const auto& f : files_)
    for (const auto& [n, e] : f->entries()) total += static_cast<int64_t>(e.end - e.begin);
  return total;
}

}  // namespace orch::worker
