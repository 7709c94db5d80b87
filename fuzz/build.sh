#!/bin/sh
# Build the libFuzzer targets: fuzz/build.sh [BUILD_DIR] (default: build-fuzz).
# libscout is compiled by clang with ASan + UBSan and libFuzzer's coverage
# instrumentation (CMake, scout_static only); each target links driver.c and
# fuzz_<name>.c against it as BUILD_DIR/fuzz_<name>.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-$SRC/build-fuzz}
CC=${FUZZ_CC:-clang}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake -S "$SRC" -B "$B" -DCMAKE_C_COMPILER="$CC" -DCMAKE_BUILD_TYPE=Debug -DSCOUT_TESTS=OFF \
	-DCMAKE_C_FLAGS="-O1 -g $SAN -fsanitize=fuzzer-no-link" >/dev/null
cmake --build "$B" -j 2 --target scout_static
LIBS="$(pkg-config --libs blosc libzstd liblz4 zlib liblzma jansson libtiff-4) -lbz2 -lpthread -lm -lrt"
for t in $(cat "$SRC/fuzz/targets"); do
	echo "fuzz/build.sh: $B/fuzz_$t"
	# shellcheck disable=SC2086
	$CC -std=gnu11 -O1 -g $SAN -fsanitize=fuzzer -Wall -Wextra -D_GNU_SOURCE \
		-I"$SRC/include" -I"$SRC/src" -I"$SRC/fuzz" -DSCOUT_FUZZ_ENTRY="scout_fuzz_$t" \
		"$SRC/fuzz/driver.c" "$SRC/fuzz/fuzz_$t.c" "$B/libscout.a" $LIBS -o "$B/fuzz_$t"
done
