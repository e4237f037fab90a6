// SampleBlob: an attempt's per-token samples as one little-endian blob (schema 6), in
// place of one row per token. Float64 values, so every recorded latency and NLL comes
// back bit for bit (older databases' rows are converted exactly; float32 would round
// them). Layout, version 1:
//   u8 version (1) | u32 run count R | R runs of {i32 repeat, i32 first index,
//   u32 length, u8 warm-up} | n f64 latency_ms | n f64 nll      (n = sum of lengths)
// A run is a stretch of samples with one repeat, one warm-up flag and consecutive
// indices, so a worker's usual result (warm-up steps, then tokens, per repeat) is a few
// runs and 16 bytes per token; any order or gap round-trips (at worst a run per sample).
// Non-finite values are stored as NaN (rows stored NULL for them: read back as NaN
// either way). Internal to store/, but for DecodeLatencyRepeats: the report decodes the
// blobs Store::ForEachSampleBlobInRange hands it (on a thread of its own). Pure functions: any
// thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/records.h"

namespace orch::store {

// Samples in (repeat, index) order (the order the rows were read in); an error names
// the first (repeat, index) given twice.
StatusOr<std::string> EncodeSamples(std::vector<Sample> samples);
// A Corruption error when the bytes are not a version-1 blob.
StatusOr<std::vector<Sample>> DecodeSamples(std::string_view blob);
// What the report keeps of a blob (report/snapshot.h): the finite latencies of its
// non-warm-up samples, one list per repeat that has any, repeats ascending, each list in
// the blob's sample order. The same as LatencyRepeats(DecodeSamples(blob)) (NaN and
// warm-up dropped) without a Sample per token; the same Corruption errors.
StatusOr<std::vector<std::vector<double>>> DecodeLatencyRepeats(std::string_view blob);

}  // namespace orch::store
