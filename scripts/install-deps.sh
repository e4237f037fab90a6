#!/usr/bin/env bash
# Installs everything orch needs on Debian 12 / Ubuntu: the Debian packages for the
# orchestrator, its tests, the LaTeX report check and the report.html browser test
# (Debian's chromium, driven with Python's standard library), and LibTorch (PyPI's torch wheel,
# pinned) in a project-local virtualenv for the worker. Idempotent: it installs only what
# is missing, so Makefile targets call it freely.
#
#   scripts/install-deps.sh            # everything
#   scripts/install-deps.sh --system   # Debian packages only
#   scripts/install-deps.sh --torch    # the LibTorch virtualenv only
#   scripts/install-deps.sh --reference  # the venv with the reference worker's stack only
#   scripts/install-deps.sh --tools    # + transformers/tokenizers for tools/ fixture scripts
# "Everything" includes the reference worker's stack (worker/reference: transformers and
# TorchAO, pinned, no extras), whose tests run in `make test`.
set -euo pipefail

TORCH_VERSION="2.11.0"
# The newest releases that install and run with torch 2.11.0 (checked 2026-12): transformers
# 5.25 needs `kernels>=0.19.1`, which PyPI does not have; TorchAO 0.18.0 runs int8wo/int8da
# on CPU and reports int4's missing kernel package (mslk) as an ImportError.
TRANSFORMERS_VERSION="5.24.0"
TORCHAO_VERSION="0.18.0"
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${ORCH_VENV:-$root/.venv}"

apt_packages=(
  build-essential cmake pkg-config ninja-build
  libyaml-cpp-dev libcli11-dev libsqlite3-dev sqlite3 libboost-dev libboost-filesystem-dev
  nlohmann-json3-dev libfmt-dev libssl-dev libgtest-dev libgmock-dev libicu-dev libpcre2-dev
  python3 python3-venv
  manpages manpages-dev
  texlive-latex-recommended lmodern chktex
  chromium
)

want_system=1 want_torch=1 want_tools=0 want_reference=1
case "${1:-}" in
  --system) want_torch=0 want_reference=0 ;;
  --torch) want_system=0 want_reference=0 ;;
  --reference) want_system=0 ;;
  --tools) want_tools=1 ;;
  "") ;;
  *) echo "usage: $0 [--system|--torch|--reference|--tools]" >&2; exit 2 ;;
esac

sudo_() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if [ "$want_system" = 1 ]; then
  missing=()
  for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "install-deps: installing Debian packages: ${missing[*]}"
    sudo_ apt-get update -qq
    DEBIAN_FRONTEND=noninteractive sudo_ apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

py() { "$venv/bin/python" "$@"; }
if [ "$want_torch" = 1 ] || [ "$want_tools" = 1 ]; then
  if [ ! -x "$venv/bin/python" ]; then
    echo "install-deps: creating virtualenv $venv"
    python3 -m venv "$venv"
  fi
  have=$(py -c 'import torch; print(torch.__version__.split("+")[0])' 2>/dev/null || true)
  if [ "$have" != "$TORCH_VERSION" ]; then
    echo "install-deps: installing torch==$TORCH_VERSION into $venv (LibTorch for orch-worker; large download)"
    py -m pip install -q --disable-pip-version-check "torch==$TORCH_VERSION"
  fi
fi
if [ "$want_reference" = 1 ]; then
  have=$(py -c 'import importlib.metadata as m; print(m.version("transformers"), m.version("torchao"))' 2>/dev/null || true)
  if [ "$have" != "$TRANSFORMERS_VERSION $TORCHAO_VERSION" ]; then
    echo "install-deps: installing transformers==$TRANSFORMERS_VERSION torchao==$TORCHAO_VERSION into $venv (reference worker)"
    py -m pip install -q --disable-pip-version-check \
      "transformers==$TRANSFORMERS_VERSION" "torchao==$TORCHAO_VERSION" "torch==$TORCH_VERSION"
  fi
fi
if [ "$want_tools" = 1 ]; then
  py -c 'import transformers, tokenizers, safetensors' 2>/dev/null || {
    echo "install-deps: installing transformers, tokenizers, safetensors (fixture scripts in tools/)"
    py -m pip install -q --disable-pip-version-check transformers tokenizers safetensors numpy
  }
fi
exit 0
