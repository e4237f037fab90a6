#!/usr/bin/env bash
# Build here, run there (issue 7): builds the CUDA worker, its tests, the decode benchmark
# and orch (Release, sm_90) in build-gpu/, strips them and puts them, with every shared
# library they need that the GPU machine lacks, into .gpu/ (git-ignored), which travels to
# the GPU machine through the device tool's `carry` (tools/gpu/README.md).
#
#   tools/gpu/pack.sh                 build + pack
#   tools/gpu/pack.sh --classify      read `ldd` output on stdin, print "carry|glibc|torch PATH"
#
# What is carried: every library `ldd` resolves that is neither glibc's own (libc, libm,
# libpthread, libdl, librt, libresolv, ld-linux, vdso) nor torch's or CUDA's (found there
# through python3's torch/lib and the nvidia-* wheels beside it; tools/gpu/run.sh puts
# them on LD_LIBRARY_PATH). libstdc++ and libgcc_s are carried apart, in lib-compat/:
# run.sh adds them only if the GPU machine's own are older than the binaries need.
# The fixtures (tests/fixtures), the quickstart model (models/quickstart) and the GPU
# spec (experiments/gpu_check.yaml) are tracked files: they travel with the working tree
# and are not copied again.
#
# Environment: ORCH_GPU_BUILD_DIR (build-gpu), ORCH_GPU_JOBS (2), TORCH_CUDA_ARCH_LIST (9.0),
# ORCH_GPU_PYTHON (.venv/bin/python: the python whose torch we build against).
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"

# classify PATH: glibc | torch | carry. Torch's and CUDA's libraries are found on the GPU
# machine through python3's torch (torch/lib and site-packages/nvidia/*/lib).
classify() {
  local path="$1" base
  base="$(basename "$path")"
  case "$base" in
    linux-vdso.so*|ld-linux*.so*|libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|\
    libresolv.so*|libutil.so*|libmvec.so*|libanl.so*|libnss_*) echo glibc; return ;;
  esac
  case "$path" in
    */site-packages/torch/lib/*|*/site-packages/nvidia/*|*/site-packages/cusparselt/*) echo torch; return ;;
  esac
  case "$base" in
    libtorch*|libc10*|libshm*|libgomp*|libcuda.so*|libcudart.so*|libcublas*|libcufft*|libcurand*|\
    libcusparse*|libcusolver*|libcudnn*|libnccl*|libnvrtc*|libnvJitLink*|libnvToolsExt*|\
    libcupti*|libnvshmem*|libcufile*|libnvidia-*) echo torch; return ;;
  esac
  echo carry
}

if [[ "${1:-}" == "--classify" ]]; then
  # `ldd` lines: "libx.so.1 => /path/libx.so.1 (0x...)", "/lib64/ld-linux-x86-64.so.2 (0x...)",
  # "linux-vdso.so.1 (0x...)", "libx.so.1 => not found".
  while read -r line; do
    if [[ "$line" == *"=> not found"* ]]; then
      echo "missing ${line%% *}"
    elif [[ "$line" =~ =\>\ (/[^ ]+)\  ]]; then
      echo "$(classify "${BASH_REMATCH[1]}") ${BASH_REMATCH[1]}"
    elif [[ "$line" =~ ^(/[^ ]+)\  ]]; then
      echo "$(classify "${BASH_REMATCH[1]}") ${BASH_REMATCH[1]}"
    fi
  done
  exit 0
fi

build="${ORCH_GPU_BUILD_DIR:-$root/build-gpu}"
jobs="${ORCH_GPU_JOBS:-2}"
arch="${TORCH_CUDA_ARCH_LIST:-9.0}"
py="${ORCH_GPU_PYTHON:-$root/.venv/bin/python}"
dest="$root/.gpu"
limit=$((64 * 1024 * 1024))

command -v nvcc >/dev/null || { echo "pack.sh: nvcc not found: the packed worker must be a CUDA build" >&2; exit 1; }
prefix="$("$py" -c 'import torch; print(torch.utils.cmake_prefix_path)')"
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
fi
mkdir -p "$build"
echo "pack.sh: configuring $build (Release, TORCH_CUDA_ARCH_LIST=$arch)"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON \
  -DORCH_WITH_CUDA=ON -DTORCH_CUDA_ARCH_LIST="$arch" -DCMAKE_PREFIX_PATH="$prefix" \
  "${launcher[@]}" >"$build/pack-configure.log" 2>&1 || { cat "$build/pack-configure.log" >&2; exit 1; }
grep -q "orch-worker: CUDA" "$build/pack-configure.log" || {
  echo "pack.sh: the worker configured without CUDA (see $build/pack-configure.log); refusing to pack" >&2
  exit 1
}
echo "pack.sh: building orch-worker worker_tests bench_decode orch (-j $jobs)"
cmake --build "$build" -j "$jobs" --target orch-worker worker_tests bench_decode orch

bins=("$build/orch" "$build/orch-worker" "$build/tests/worker/worker_tests"
      "$build/bench/worker/bench_decode")
"$build/orch-worker" --version | grep -q "cuda=cuda" || {
  echo "pack.sh: $build/orch-worker --version does not say cuda=cuda" >&2; exit 1; }

rm -rf "$dest"
mkdir -p "$dest/bin" "$dest/lib"
manifest="$dest/manifest.txt"
{
  echo "# .gpu/ packed by tools/gpu/pack.sh on $(hostname) at $(date -u +%FT%TZ)"
  echo "git: $(git -C "$root" rev-parse HEAD)$(git -C "$root" diff --quiet HEAD -- . ':!.gpu' || echo -dirty)"
  echo "torch: $("$py" -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda)')"
  echo "nvcc: $(nvcc --version | tail -1)"
  echo "glibc here: $(ldd --version | head -1)"
  echo "build: $build (TORCH_CUDA_ARCH_LIST=$arch)"
  echo "compiled-in fixtures: $root/tests/fixtures (run.sh overrides with ORCH_TEST_FIXTURES)"
} >"$manifest"

declare -A carried=()
glibc_max="0"
for b in "${bins[@]}"; do
  [[ -x "$b" ]] || { echo "pack.sh: $b was not built" >&2; exit 1; }
  cp "$b" "$dest/bin/"
  strip --strip-unneeded "$dest/bin/$(basename "$b")"
  # Highest GLIBC_x.y symbol version the binary asks for: the GPU machine's glibc must be
  # at least this (run.sh compares).
  v="$(objdump -T "$b" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)"
  glibc_max="$(printf '%s\n%s\n' "$glibc_max" "$v" | sort -V | tail -1)"
  echo "binary: $(basename "$b") runpath=$(readelf -d "$b" | grep -E 'RUNPATH|RPATH' | sed 's/.*\[\(.*\)\]/\1/' | tr '\n' ' ')" >>"$manifest"
  while read -r kind path; do
    case "$kind" in
      missing) echo "pack.sh: $(basename "$b") needs $path, which ldd cannot find here" >&2; exit 1 ;;
      carry) carried["$path"]=1 ;;
    esac
  done < <(ldd "$b" | "$0" --classify)
done
echo "glibc needed: $glibc_max" >>"$manifest"
mkdir -p "$dest/lib-compat"
for path in "${!carried[@]}"; do
  # The soname the binaries ask for is the file name ldd printed; copy the target's bytes.
  # libstdc++ and libgcc_s go to lib-compat/: run.sh uses them only where the GPU machine's
  # own are too old for the binaries (a newer system libstdc++ must win: compute-sanitizer
  # and the system's tools run under the same LD_LIBRARY_PATH).
  sub=lib
  case "$(basename "$path")" in libstdc++.so*|libgcc_s.so*) sub=lib-compat ;; esac
  cp -L "$path" "$dest/$sub/$(basename "$path")"
  strip --strip-unneeded "$dest/$sub/$(basename "$path")" 2>/dev/null || true
  echo "carried: $sub/$(basename "$path") <- $path" >>"$manifest"
done
# The reference worker's TorchAO (issue 12, tools/gpu/reference_cells.sh): the GPU machine
# has transformers but no package registry, so the pinned wheel travels in .gpu/wheels/.
tao="$(sed -n 's/^TORCHAO_VERSION="\(.*\)"/\1/p' "$root/scripts/install-deps.sh")"
mkdir -p "$dest/wheels"
if "$py" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
    "torchao==$tao" -d "$dest/wheels"; then
  echo "carried: wheels/$(ls "$dest/wheels" | tr '\n' ' ')" >>"$manifest"
else
  echo "pack.sh: warning: could not download torchao==$tao; run.sh records reference:setup refused" >&2
fi
sort -o "$manifest.tmp" "$manifest" && mv "$manifest.tmp" "$manifest"

gpu_bytes="$(du -cb "$dest" | tail -1 | cut -f1)"
tree_bytes="$(cd "$root" && git ls-files -z | xargs -0 du -cb 2>/dev/null | awk '$2=="total"{s+=$1} END{print s+0}')"
total=$((gpu_bytes + tree_bytes))
printf 'pack.sh: .gpu/ is %.1f MiB (%d libraries carried); tracked tree %.1f MiB; together %.1f of 64 MiB\n' \
  "$(echo "$gpu_bytes/1048576" | bc -l)" "${#carried[@]}" "$(echo "$tree_bytes/1048576" | bc -l)" \
  "$(echo "$total/1048576" | bc -l)" | tee -a "$manifest"
if ((total >= limit)); then
  echo "pack.sh: over the 64 MiB that travels" >&2
  exit 1
fi
echo "pack.sh: done; next: the run call in tools/gpu/README.md"
