# orch: `make demo` and `make test` work on a fresh Debian/Ubuntu machine: both install
# what is missing (scripts/install-deps.sh, idempotent), configure and build first.
BUILD ?= build
VENV ?= .venv
JOBS ?= 2
CMAKE_FLAGS ?=
PYTHON := $(VENV)/bin/python

.PHONY: all deps configure build test demo bench clean
all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@prefix=$$($(PYTHON) -c 'import torch; print(torch.utils.cmake_prefix_path)'); \
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_PREFIX_PATH="$$prefix" $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)

bench: build
	@scripts/bench.sh $(BUILD)

clean:
	rm -rf $(BUILD)
