# scout — top-level wrapper around CMake.
#   make deps     install the Debian packages the build and tests need (when missing);
#                 Debian's nodejs and npm when no `node` is on PATH (the v3 tests run
#                 zarrita.js, which they npm-install into the build tree)
#   make build    release build with warnings as errors, in build/
#   make test     build + run every test, then again under ASan+UBSan (build-asan/),
#                 then the C tests and the CLI tests under valgrind (build-valgrind/)
#   make test-valgrind  only the valgrind run (memcheck + leak check, Debug build)
#   make demo     build and run the main job on a built-in synthetic volume
#   make bench    release build + benchmarks against the peers (never part of test)
#   make install  PREFIX=/usr/local (headers, libscout, scout.pc, CMake package, scout)

PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
ASAN_BUILD ?= build-asan
VALGRIND_BUILD ?= build-valgrind
CMAKE ?= cmake
CTEST ?= ctest

DEB_PACKAGES := build-essential cmake pkg-config git \
	libblosc-dev libzstd-dev liblz4-dev zlib1g-dev libbz2-dev liblzma-dev \
	libjansson-dev libtiff-dev libpng-dev libopenmpi-dev openmpi-bin \
	zstd valgrind python3 python3-dev python3-numpy python3-pytest python3-zarr python3-numcodecs python3-scipy python3-tifffile python3-pil \
	python3-crc32c python3-gdal iproute2

.PHONY: all deps build build-asan build-valgrind test test-valgrind test-fast demo bench bench-box-io fuzz install clean format

all: build

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	if ! command -v node >/dev/null 2>&1; then missing="$$missing nodejs npm"; fi; \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing" $$missing; \
		if [ "$$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BUILD)/CMakeCache.txt:
	$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSCOUT_WERROR=ON \
		-DCMAKE_INSTALL_PREFIX=$(PREFIX)

build: deps $(BUILD)/CMakeCache.txt
	$(CMAKE) --build $(BUILD) -j $(JOBS)

$(ASAN_BUILD)/CMakeCache.txt:
	$(CMAKE) -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSCOUT_WERROR=ON -DSCOUT_SANITIZE=ON

build-asan: deps $(ASAN_BUILD)/CMakeCache.txt
	$(CMAKE) --build $(ASAN_BUILD) -j $(JOBS)

$(VALGRIND_BUILD)/CMakeCache.txt:
	$(CMAKE) -S . -B $(VALGRIND_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSCOUT_WERROR=ON -DSCOUT_VALGRIND=ON

build-valgrind: deps $(VALGRIND_BUILD)/CMakeCache.txt
	$(CMAKE) --build $(VALGRIND_BUILD) -j $(JOBS)

# Run the suite on the release build, then on the sanitizer build, then the
# C tests and the CLI tests under valgrind (tests/CMakeLists.txt, SCOUT_VALGRIND).
test: build build-asan build-valgrind
	cd $(BUILD) && $(CTEST) --output-on-failure -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(CTEST) --output-on-failure -j $(JOBS)
	cd $(VALGRIND_BUILD) && $(CTEST) --output-on-failure -j $(JOBS)

# Only the valgrind run: memcheck with the leak check on a Debug build.
test-valgrind: build-valgrind
	cd $(VALGRIND_BUILD) && $(CTEST) --output-on-failure -j $(JOBS)

# Only the release build's tests.
test-fast: build
	cd $(BUILD) && $(CTEST) --output-on-failure -j $(JOBS)

demo: build
	@if [ -x $(BUILD)/scout ]; then $(BUILD)/scout demo; else $(BUILD)/example_demo; fi

bench: deps
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="python3-dask time"
	$(CMAKE) -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DSCOUT_TESTS=OFF
	$(CMAKE) --build build-release -j $(JOBS)
	@if [ -x bench/run ]; then bench/run build-release; else \
		for b in build-release/bench_*; do [ -x $$b ] && $$b; done; fi

# One box, the whole array: scout vs the codec floors, GDAL's Zarr driver, zarr-python.
bench-box-io: deps
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="python3-gdal"
	$(CMAKE) -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DSCOUT_TESTS=OFF
	$(CMAKE) --build build-release -j $(JOBS) --target bench_box_io codec_floor
	bench/box_io.py build-release

# libFuzzer targets (clang, ASan + UBSan), each run for SECONDS (fuzz/README.md).
fuzz: deps
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="clang libclang-rt-14-dev"
	fuzz/build.sh $(or $(FUZZ_BUILD),build-fuzz)
	fuzz/run.sh $(or $(FUZZ_BUILD),build-fuzz) $(or $(SECONDS),60) $(FUZZ_TARGETS)

install: build
	$(CMAKE) --install $(BUILD) --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(VALGRIND_BUILD) build-release
