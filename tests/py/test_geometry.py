"""Chunk geometry and point filters against numpy / itertools.

Runs $SCOUT_BUILD_DIR/tools/geometry_tool on many random and edge-case grids
(1-D to 6-D) and compares every answer with what SCOUT's own formulas give
when computed with numpy and itertools.product.
"""
import itertools
import os
import subprocess
import sys

import numpy as np

TOOL = os.path.join(os.environ.get("SCOUT_BUILD_DIR", "build"), "tools", "geometry_tool")
SCOUT_EINVAL = -1
SCOUT_EBOUNDS = -8
SCOUT_EOVERFLOW = -9

rng = np.random.default_rng(20261124)
requests = []  # (request line, checker(answer tokens) -> None)
failures = []


def ints(v):
    return " ".join(str(int(x)) for x in v)


def add(line, check):
    requests.append((line, check))


# --- SCOUT's formulas, in numpy -------------------------------------------------
def np_chunk_dims(shape, chunks):
    return tuple(int(x) for x in np.ceil(np.asarray(shape, float) / np.asarray(chunks, float)))


def np_chunk_coordinates(shape, chunks):
    nb = np_chunk_dims(shape, chunks)
    starts = [
        tuple(i * c for i, c in zip(idx, chunks))
        for idx in itertools.product(*(range(n) for n in nb))
    ]
    return np.asarray(starts, dtype=np.int64).reshape(-1, len(shape))


def expect_ok(expected_fn):
    def check(tok, line):
        if tok[0] != "ok":
            failures.append(f"{line}: expected success, got {' '.join(tok)}")
            return
        got = [int(t) for t in tok[1:]]
        exp = [int(x) for x in expected_fn()]
        if got != exp:
            failures.append(f"{line}: got {got[:20]}..., expected {exp[:20]}...")

    return check


def expect_err(code, needle):
    def check(tok, line):
        if tok[0] != "err" or int(tok[1]) != code or needle not in " ".join(tok[2:]):
            failures.append(f"{line}: expected error {code} with {needle!r}, got {' '.join(tok)}")

    return check


def grid_cases():
    """Random grids 1-D..6-D: multiples, non-multiples, zero extents, chunk > shape."""
    cases = []
    for ndim in range(1, 7):
        for kind in range(8):
            chunks = rng.integers(1, 5, ndim)
            if kind == 0:  # exact multiples
                shape = chunks * rng.integers(1, 4, ndim)
            elif kind == 1:  # chunk larger than the shape
                shape = rng.integers(1, 4, ndim)
                chunks = shape + rng.integers(0, 5, ndim)
            elif kind == 2:  # one zero extent
                shape = rng.integers(1, 9, ndim)
                shape[rng.integers(0, ndim)] = 0
            else:  # anything
                shape = rng.integers(0, 10, ndim)
            cases.append((tuple(int(x) for x in shape), tuple(int(x) for x in chunks)))
    cases += [((10,), (3,)), ((9,), (3,)), ((1,), (1,)), ((0,), (1,)), ((7, 1), (7, 1))]
    return cases


for shape, chunks in grid_cases():
    nd = len(shape)
    body = f"{nd} {ints(shape)} {ints(chunks)}"
    add(f"dims {body}", expect_ok(lambda s=shape, c=chunks: np_chunk_dims(s, c)))
    add(f"count {body}", expect_ok(lambda s=shape, c=chunks: [int(np.prod(np_chunk_dims(s, c)))]))
    add(
        f"coords {body}",
        expect_ok(
            lambda s=shape, c=chunks: [len(np_chunk_coordinates(s, c))]
            + list(np_chunk_coordinates(s, c).ravel())
        ),
    )
    ref = np_chunk_coordinates(shape, chunks)
    for i in range(len(ref)):
        add(f"start {nd} {i} {body[len(str(nd)) + 1:]}", expect_ok(lambda r=ref[i]: r))
    add(
        f"start {nd} {len(ref)} {body[len(str(nd)) + 1:]}",
        expect_err(SCOUT_EBOUNDS, f"index {len(ref)}"),
    )

# big grids (no listing): counts and dims vs exact integer arithmetic
for shape, chunks in [((2**40, 3), (7, 2)), ((2**62,), (1,)), ((2**31 - 1, 2**31 + 5), (2, 3))]:
    nd = len(shape)
    body = f"{nd} {ints(shape)} {ints(chunks)}"
    dims = [-(-s // c) for s, c in zip(shape, chunks)]
    add(f"dims {body}", expect_ok(lambda d=dims: d))
    add(f"count {body}", expect_ok(lambda d=dims: [int(np.prod(d, dtype=object))]))
    last = int(np.prod(dims, dtype=object)) - 1
    exp_last = list(np.unravel_index(last, dims)) if last < 2**62 else None
    if exp_last is not None:
        add(
            f"start {nd} {last} {ints(shape)} {ints(chunks)}",
            expect_ok(lambda e=exp_last, c=chunks: [int(i) * k for i, k in zip(e, c)]),
        )

# errors
add("dims 2 4 -1 2 2", expect_err(SCOUT_EINVAL, "axis 1"))
add("dims 3 4 4 4 2 0 2", expect_err(SCOUT_EINVAL, "axis 1"))
add("coords 2 5 -5 3 1", expect_err(SCOUT_EINVAL, "extent -5 of axis 1"))
add(f"count 2 {2**62} {2**62} 1 1", expect_err(SCOUT_EOVERFLOW, "axis 1"))
add(f"coords 1 {2**62} 1", expect_err(SCOUT_EOVERFLOW, "chunk_coordinates"))

# ghosted bounds: SCOUT's extract_ghosted_chunk formulas
for ndim in range(1, 6):
    for _ in range(12):
        shape = rng.integers(1, 20, ndim)
        chunks = rng.integers(1, 8, ndim)
        overlap = rng.integers(0, 5, ndim)
        starts = np_chunk_coordinates(shape, chunks)
        start = starts[rng.integers(0, len(starts))]
        end = np.minimum(shape, start + chunks)
        sg = np.maximum(np.zeros(ndim, int), start - overlap)
        eg = np.minimum(shape, end + overlap)
        add(
            f"bounds {ndim} {ints(shape)} {ints(start)} {ints(chunks)} {ints(overlap)}",
            expect_ok(lambda a=sg, b=eg: list(a) + list(b)),
        )
add("bounds 2 5 5 0 0 2 2 1 -1", expect_err(SCOUT_EINVAL, "axis 1"))


# filter_points_in_box and filter_ghosted_points
def np_filter(coords, start, stop):
    mask = np.all((coords >= start) & (coords < stop), axis=1)
    return np.where(mask)[0], coords[mask]


for ndim in range(1, 6):
    for count in (0, 1, 7, 60):
        start = rng.integers(0, 6, ndim)
        stop = start + rng.integers(0, 8, ndim)
        # points around the box, many on its faces
        pts = rng.integers(start - 2, stop + 3, (count, ndim))
        idx, kept = np_filter(pts, start, stop)
        add(
            f"filter {ndim} {count} {ints(start)} {ints(stop)} {ints(pts.ravel())}",
            expect_ok(lambda i=idx, k=kept: [len(i)] + list(i) + list(k.ravel())),
        )
        start_ghosted = rng.integers(0, 10, ndim)
        start_coord = start_ghosted + rng.integers(0, 4, ndim)
        chunks = rng.integers(1, 6, ndim)
        # global points around the chunk, given relative to start_ghosted
        glob = rng.integers(start_coord - 2, start_coord + chunks + 3, (count, ndim))
        centers = glob - start_ghosted
        _, kept = np_filter(glob, start_coord, start_coord + chunks)
        add(
            f"gfilter {ndim} {count} {ints(start_ghosted)} {ints(start_coord)} {ints(chunks)} "
            f"{ints(centers.ravel())}",
            expect_ok(lambda k=kept: [len(k)] + list(k.ravel())),
        )

text = "".join(line + "\n" for line, _ in requests)
proc = subprocess.run([TOOL], input=text, capture_output=True, text=True, timeout=120)
if proc.returncode != 0:
    print(f"geometry_tool exited with {proc.returncode}: {proc.stderr}")
    sys.exit(1)
answers = proc.stdout.splitlines()
if len(answers) != len(requests):
    print(f"{len(answers)} answers for {len(requests)} requests")
    sys.exit(1)
for (line, check), answer in zip(requests, answers):
    check(answer.split(), line[:120])

for f in failures[:30]:
    print(f)
print(f"{len(requests)} requests, {len(failures)} failed")
sys.exit(1 if failures else 0)
