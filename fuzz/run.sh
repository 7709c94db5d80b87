#!/bin/sh
# Run every fuzz target in turn: fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
# Corpus: fuzz/corpus/<target> (made by make_corpus.py when missing; new
# inputs are added to it) plus the committed seeds and regressions. Crashes go
# to BUILD_DIR/artifacts/<target>/; logs to BUILD_DIR/fuzz-<target>.log.
# Exits 1 when a target found a crash.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=$1
SECS=$2
shift 2
TARGETS=${*:-$(cat "$SRC/fuzz/targets")}
if [ ! -d "$SRC/fuzz/corpus" ]; then
	/usr/bin/python3 "$SRC/fuzz/make_corpus.py" "$SRC/fuzz/corpus" || exit 1
fi
status=0
for t in $TARGETS; do
	mkdir -p "$SRC/fuzz/corpus/$t" "$B/artifacts/$t"
	extra=""
	for d in "$SRC/fuzz/seeds/$t" "$SRC/fuzz/regressions/$t"; do
		[ -d "$d" ] && extra="$extra $d"
	done
	case $t in
	tiff) maxlen=65536 ;;
	codec | v3_chunk) maxlen=16384 ;;
	*) maxlen=4096 ;;
	esac
	echo "fuzz/run.sh: $t for ${SECS}s (log: $B/fuzz-$t.log)"
	# shellcheck disable=SC2086
	"$B/fuzz_$t" -max_total_time="$SECS" -print_final_stats=1 -timeout=20 \
		-rss_limit_mb=2560 -max_len=$maxlen -artifact_prefix="$B/artifacts/$t/" \
		"$SRC/fuzz/corpus/$t" $extra >"$B/fuzz-$t.log" 2>&1
	rc=$?
	grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' \
		"$B/fuzz-$t.log" | sed "s/^/  $t /"
	if [ $rc -ne 0 ]; then
		echo "fuzz/run.sh: $t FAILED (exit $rc): see $B/fuzz-$t.log and $B/artifacts/$t/"
		grep -E 'ERROR|SUMMARY|property failed' "$B/fuzz-$t.log" | head -5
		status=1
	fi
done
exit $status
