// Safetensors reader: an 8-byte little-endian header length, a JSON header (dtype, shape,
// data_offsets per tensor, optional __metadata__) and the raw little-endian data. The file
// is memory-mapped read-only; tensors are copied out one at a time, validated against the
// file size, so a truncated or inconsistent file is an error and never a crash.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "worker/weights/weight_source.h"

namespace orch::worker {

class SafetensorsFile {
 public:
  // Throws std::runtime_error (naming the path) when the file is unreadable or malformed.
  explicit SafetensorsFile(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  struct Entry {
    at::ScalarType dtype;
    std::vector<int64_t> shape;
    uint64_t begin = 0;  // offsets into the data section
    uint64_t end = 0;
  };

  const std::string& path() const { return path_; }
  bool Has(const std::string& name) const { return entries_.count(name) != 0; }
  const std::map<std::string, Entry>& entries() const { return entries_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // A CPU tensor aliasing the mapping: valid only while this object lives.
  at::Tensor View(const std::string& name) const;
  // A copy on device/dtype, independent of the mapping.
  at::Tensor Load(const std::string& name, at::Device device, at::ScalarType dtype) const;

 private:
  std::string path_;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  const uint8_t* data_ = nullptr;
  uint64_t data_size_ = 0;
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

// All shards of a checkpoint as one WeightSource.
class SafetensorsWeights : public WeightSource {
 public:
  explicit SafetensorsWeights(const std::vector<std::string>& paths);
  bool Has(const std::string& name) const override;
  std::vector<std::string> Names() const override;
  at::Tensor Load(const std::string& name, at::Device device, at::ScalarType dtype) override;
  int64_t StoredBytes() const override;

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, SafetensorsFile*> by_name_;
};

}  // namespace orch::worker
