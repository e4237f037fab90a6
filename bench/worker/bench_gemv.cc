// GEMV kernels alone (docs/benchmarks.md, "CPU GEMV kernels"): for each Pythia-70M linear
// shape (and the 50304 x 512 head), M = 1, the median time of our kernels at every ISA level
// this CPU runs and of the ATen call the worker used before (at::linear for fp32/bf16,
// at::_weight_int8pack_mm, at::_weight_int4pack_mm_for_cpu), as GB/s of weight bytes read.
// Weights are random; a shape that fits in the cache reads from it, so the head (103 MB
// fp32, 26 MB int8, 13 MB int4) is the row that shows DRAM bandwidth. GB/s counts the
// weights' own bytes (int4: half a byte each); MB is what the kernel reads (int8 and int4
// with their scales, int4 also zeros).
// Usage: bench_gemv [THREADS=1] [REPS=21] [INT4_GROUPS=128] [SHAPES=all], e.g.
// `bench_gemv 1 21 32,128 head` (lists comma-separated).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "worker/quant/cpu_gemv.h"
#include "worker/quant/quantized_linear.h"

namespace {

using namespace orch::worker;

double MedianMs(const std::function<void()>& f, int reps) {
  f();  // warm
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                    .count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 21;
  auto list = [](const char* arg) {
    std::vector<std::string> out;
    std::string item;
    for (const char* c = arg;; ++c) {
      if (*c == ',' || *c == '\0') {
        if (!item.empty()) out.push_back(item);
        item.clear();
        if (*c == '\0') break;
      } else {
        item += *c;
      }
    }
    return out;
  };
  std::vector<int64_t> groups;
  for (const std::string& g : list(argc > 3 ? argv[3] : "128")) groups.push_back(std::stoll(g));
  const std::vector<std::string> only =
      list(argc > 4 && std::string(argv[4]) != "all" ? argv[4] : "");
  at::set_num_threads(threads);
  struct Shape {
    const char* name;
    int64_t n, k;
  };
  const std::vector<Shape> shapes = {{"qkv", 1536, 512},  {"dense", 512, 512},
                                     {"fc_in", 2048, 512}, {"fc_out", 512, 2048},
                                     {"head", 50304, 512}};
  std::printf("threads %d, reps %d, M = 1; GB/s of weight bytes (median time)\n", threads, reps);
  std::printf("%-7s %-10s %-10s %10s %9s %8s\n", "shape", "weights", "kernel", "ms", "GB/s", "MB");
  for (const Shape& s : shapes) {
    if (!only.empty() && std::find(only.begin(), only.end(), s.name) == only.end()) continue;
    at::manual_seed(1);
    const at::Tensor w = at::randn({s.n, s.k}) * 0.05, x = at::randn({1, s.k});
    const at::Tensor wb = w.to(at::kBFloat16), xb = x.to(at::kBFloat16);
    Int8Weights q8 = QuantizeInt8PerChannel(w);
    struct Int4Case {
      int64_t group;
      Int4Weights q;
      CpuInt4Weights packed;
      at::Tensor aten, sz;
    };
    std::vector<Int4Case> q4;
    for (int64_t g : groups) {
      Int4Case c{g, QuantizeInt4Grouped(w, g), {}, {}, {}};
      c.packed = PackInt4ForCpu(c.q.q, c.q.scale, c.q.zero, g);
      c.aten = at::_convert_weight_to_int4pack_for_cpu(c.q.q.contiguous(), 8);
      c.sz = at::stack({c.q.scale.t(), c.q.zero.t()}, 2).contiguous();
      q4.push_back(std::move(c));
    }
    const double n = static_cast<double>(s.n * s.k);
    auto bytes_of = [](const at::Tensor& t) {
      return static_cast<double>(t.numel() * t.element_size());
    };
    auto row = [&](const std::string& weights, const std::string& kernel, double bytes, double read,
                   const std::function<void()>& f) {
      const double ms = MedianMs(f, reps);
      std::printf("%-7s %-10s %-10s %10.3f %9.2f %8.2f\n", s.name, weights.c_str(), kernel.c_str(),
                  ms, bytes / (ms * 1e-3) / 1e9, read / 1e6);
    };
    const double read8 = n + bytes_of(q8.scale);
    row("fp32", "aten", n * 4, n * 4, [&] { (void)at::linear(x, w); });
    row("bf16", "aten", n * 2, n * 2, [&] { (void)at::linear(xb, wb); });
    row("int8", "aten", n, read8, [&] { (void)at::_weight_int8pack_mm(x, q8.q, q8.scale); });
    for (const Int4Case& c : q4)
      row("int4-g" + std::to_string(c.group), "aten", n / 2, bytes_of(c.aten) + bytes_of(c.sz),
          [&] { (void)at::_weight_int4pack_mm_for_cpu(x, c.aten, c.group, c.sz); });
    for (IsaLevel l : SupportedIsaLevels()) {
      const std::string k = IsaLevelName(l);
      row("fp32", k, n * 4, n * 4, [&] { (void)CpuDenseGemv(x, w, at::Tensor(), l); });
      row("bf16", k, n * 2, n * 2, [&] { (void)CpuDenseGemv(xb, wb, at::Tensor(), l); });
      row("int8", k, n, read8, [&] { (void)CpuInt8Gemv(x, q8.q, q8.scale, at::Tensor(), l); });
      for (const Int4Case& c : q4)
        row("int4-g" + std::to_string(c.group), k, n / 2,
            bytes_of(c.packed.packed) + bytes_of(c.packed.scale_zero),
            [&] { (void)CpuInt4Gemv(x, c.packed, at::Tensor(), l); });
    }
  }
  return 0;
}
