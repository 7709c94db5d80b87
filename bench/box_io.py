#!/usr/bin/python3
"""Box I/O benchmark (issue 18): one scout_extract_box / scout_insert_box of a
whole array, against the codec floors, GDAL's Zarr driver and zarr-python.

usage: bench/box_io.py BUILD_DIR [--sizes 512,1024] [--threads T] [--reps N]
                       [--out PATH]

For each volume vol<N> (bench/gen_data.py; N^3 uint16, 64^3 chunks, blosc
zstd 1 bitshuffle, generated once into bench/data/):
  floor          bench/codec_floor: the chunks' bytes in memory, T threads only
                 decode them (c-blosc)
  scout read     bench/bench_box_io: open + one scout_extract_box of the whole
                 array into a fresh malloc'd destination, T I/O threads
  (no prefault)  the same with SCOUT_PREFAULT=0: the destination's first
                 touch taken by the decoding threads
  (warm dest.)   the same into a destination already touched; its note gives
                 how much longer the read into a fresh destination took
  first touch    faulting a fresh destination of that size in on T threads
                 (MADV_POPULATE_WRITE) alone
  GDAL           bench/peers/box_read.py gdal (GDAL_NUM_THREADS=T): open + read
  zarr-python    bench/peers/box_read.py zarr: zarr.open(...)[:]
  encode floor   bench/codec_floor --encode: T threads only compress the
                 decoded chunks (same settings)
  scout write    bench_box_io --write: one scout_insert_box of the whole array
                 into a new Zarr array (same chunks and codec) on disk
The floors and scout run in N rounds (3), each round the decode floor, scout
(read, then write) and the encode floor, one measure each, so that a floor and
the scout measure it is compared with are taken within seconds of each other:
on a shared VM the speed of the same code drifts by 10-30% over minutes. The
table gives medians over the rounds of wall and CPU seconds (all threads);
"x floor" is the median over the rounds of each round's own ratio. The other
rows (no prefault, GDAL, zarr-python) repeat N times in one process each, and
peer / scout is their median against scout's (above 1: scout is faster). The
sums of the arrays read must all agree, and with them the sum of the array
scout wrote, read back by zarr-python (the exit status is 1 otherwise);
timings never fail the run. The table is printed and written to
bench/out/box_io.md (or --out). The written arrays are deleted when the run
ends, and a run starts at least 370 s after the last one's deletes (ext4
without a journal slows every create for up to 360 s after a big delete);
other big deletes on the same file system just before a run slow its writes
the same way. Where the kernel reports free memory back to a hypervisor (free
page reporting, /sys/module/page_reporting), the header says how much it
reported during the run: memory freed and then taken again (a fresh
destination after the last one was freed) is then faulted in on the host too,
which is most of what a fresh read costs over a warm one on such a VM.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

PY = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(HERE, "data")
OUT = os.path.join(HERE, "out")
commands = []
REPORTING = "/sys/module/page_reporting/parameters"


def reported_kib():
    """KiB of free memory reported to the hypervisor so far (None: not known)."""
    try:
        with open(os.path.join(REPORTING, "reported_kib")) as fh:
            return int(fh.read())
    except (OSError, ValueError):
        return None


def reporting_note(kib0, kib1):
    """A sentence on free page reporting during the run, or ""."""
    try:
        with open(os.path.join(REPORTING, "page_reporting_order")) as fh:
            order = int(fh.read())
    except (OSError, ValueError):
        return ""
    done = ("; %.1f GiB reported during the run" % ((kib1 - kib0) / 2**20)
            if kib0 is not None and kib1 is not None else "")
    return (" The kernel reports free blocks of %d KiB and more back to the hypervisor "
            "(free page reporting)%s: memory freed and taken again is faulted in on "
            "the host as well." % (4 << order, done))


def run(cmd, env=None):
    e = dict(os.environ)
    e.update(env or {})
    shown = " ".join(["%s=%s" % kv for kv in (env or {}).items()] +
                     [os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in cmd])
    commands.append(shown)
    print("box_io: " + shown, file=sys.stderr, flush=True)
    r = subprocess.run(cmd, capture_output=True, text=True, env=e, cwd=ROOT)
    if r.returncode != 0:
        print(r.stderr, file=sys.stderr)
        raise SystemExit("box_io: failed: " + shown)
    return r.stdout


def field(text, name):
    m = re.search(r"(?:^|\s)%s (\S+)" % re.escape(name), text)
    return float(m.group(1)) if m else None


def line(text, prefix):
    for ln in text.splitlines():
        if ln.startswith(prefix):
            return ln
    return ""


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    return xs[len(xs) // 2] if xs else None


def rounds_of(outs, prefix, name):
    """One value per round: field `name` of the line starting with prefix."""
    return [field(line(o, prefix), name) for o in outs]


def main():
    ap = argparse.ArgumentParser(usage=__doc__.split("\n\n")[1].split("\n")[0])
    ap.add_argument("build_dir")
    ap.add_argument("--sizes", default="512,1024")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(OUT, "box_io.md"))
    a = ap.parse_args()
    b = os.path.abspath(a.build_dir)
    T, R = str(a.threads), str(a.reps)
    for prog in ("codec_floor", "bench_box_io"):
        subprocess.run(["cmake", "--build", b, "--target", prog], check=True,
                       capture_output=True)
    rows, bad, wouts = [], 0, []
    # ext4 without a journal (this VM's) will not reuse an inode freed in the
    # last 60 s, or 360 s while its inode-table block is dirty (as the first
    # new file in the block makes it), and checks each such inode at every
    # create (fs/ext4/ialloc.c, recently_deleted): a write timed within minutes
    # of deleting thousands of files (the last run's outputs) had 0.4-0.7 s
    # more system time. Outputs are deleted at the end of a run, and a run
    # starts 370 s after.
    marker = os.path.join(OUT, ".box_io_deleted")
    if os.path.exists(marker):
        wait = 370 - (time.time() - os.path.getmtime(marker))
        if wait > 0:
            print("box_io: waiting %.0f s after the last run's deletes" % wait,
                  file=sys.stderr, flush=True)
            time.sleep(wait)
    load0 = os.getloadavg()
    kib0 = reported_kib()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    for n in [int(s) for s in a.sizes.split(",")]:
        name = "vol%d" % n
        path = os.path.join(DATA, name)
        if not os.path.isdir(path):
            run([PY, os.path.join(HERE, "gen_data.py"), DATA, name])
        rel = os.path.relpath(path, ROOT)
        wout = os.path.join(OUT, "box_io_write_%s.zarr" % name)
        wouts.append(wout)
        os.makedirs(OUT, exist_ok=True)
        shutil.rmtree(wout, ignore_errors=True)
        os.makedirs(wout)
        fls, scs, encs = [], [], []
        for r in range(a.reps):
            # one round: each floor next to the scout measure it is the floor of
            fls.append(run([os.path.join(b, "codec_floor"), rel, T, "1"]))
            scs.append(run([os.path.join(b, "bench_box_io"), rel, T, "1", "--warmup",
                            "--write", os.path.join(wout, "r%d" % r)]))
            encs.append(run([os.path.join(b, "codec_floor"), "--encode", rel, T, "1"]))
        sc = scs[-1]
        # what scout wrote, read back by zarr-python (its sum must match the input's)
        zw = run([PY, os.path.join(HERE, "peers", "box_read.py"), "zarr",
                  os.path.relpath(os.path.join(wout, "r0", "0"), ROOT), "1", "1"])
        nopf = run([os.path.join(b, "bench_box_io"), rel, T, R], {"SCOUT_PREFAULT": "0"})
        gd = run([PY, os.path.join(HERE, "peers", "box_read.py"), "gdal", rel, T, R])
        zp = run([PY, os.path.join(HERE, "peers", "box_read.py"), "zarr", rel, T, R])
        f_r = rounds_of(fls, "floor_seconds", "floor_seconds")
        fc_r = rounds_of(fls, "floor_seconds", "cpu_seconds")
        e_r = rounds_of(encs, "encode_floor_seconds", "encode_floor_seconds")
        ec_r = rounds_of(encs, "encode_floor_seconds", "cpu_seconds")
        floor, floor_cpu = median(f_r), median(fc_r)
        efloor, efloor_cpu = median(e_r), median(ec_r)
        s_sec = median(rounds_of(scs, "read_seconds", "read_seconds"))
        sums = {"scout": field(sc, "sum"), "GDAL": field(gd, "sum"),
                "zarr-python": field(zp, "sum"), "scout write": field(zw, "sum")}
        same = len(set(sums.values())) == 1 and None not in sums.values()
        bad += not same
        check = "sums agree (%d)" % sums["scout"] if same else "MISMATCH %r" % sums

        def row(impl, sec, cpu, fsec, fcpu, peer=False, note=""):
            rows.append([name, impl, "%.3f" % sec, "%.3f" % cpu if cpu else "",
                         "%.2f" % (sec / fsec) if fsec else "",
                         "%.2f" % (cpu / fcpu) if fcpu and cpu else "",
                         "%.2f" % (sec / s_sec) if peer else "", note])

        def paired(impl, prefix, key, base, base_cpu, note=""):
            """A scout measure of every round, each against the same round's floor."""
            secs = rounds_of(scs, prefix, key)
            cpus = rounds_of(scs, prefix, "cpu_seconds")
            rat = [s / f for s, f in zip(secs, base)]
            rows.append([name, impl, "%.3f" % median(secs), "%.3f" % median(cpus),
                         "%.2f" % median(rat),
                         "%.2f" % median([c / f for c, f in zip(cpus, base_cpu)]), "",
                         (note + "; " if note else "") + "rounds: " +
                         ", ".join("%.2f" % x for x in rat)])

        row("codec floor (decode)", floor, floor_cpu, floor, floor_cpu,
            note="rounds: " + ", ".join("%.3f" % x for x in f_r))
        paired("scout read", "read_seconds", "read_seconds", f_r, fc_r, note=check)
        ln = line(nopf, "read_seconds")
        row("scout read, no prefault", field(ln, "read_seconds"), field(ln, "cpu_seconds"),
            floor, floor_cpu)
        warm = median(rounds_of(scs, "read_warm_seconds", "read_warm_seconds"))
        paired("scout read, warm destination", "read_warm_seconds", "read_warm_seconds",
               f_r, fc_r, note="a fresh one: %+.3f s" % (s_sec - warm))
        row("first touch of the destination",
            median(rounds_of(scs, "prefault_seconds", "prefault_seconds")), None, floor,
            None, note="fault-in alone, %s threads" % T)
        row("GDAL Zarr driver", field(gd, "seconds"), field(gd, "cpu_seconds"), floor,
            floor_cpu, peer=True, note="GDAL_NUM_THREADS=%s" % T)
        row("zarr-python", field(zp, "seconds"), field(zp, "cpu_seconds"), floor, floor_cpu,
            peer=True)
        row("encode floor", efloor, efloor_cpu, efloor, efloor_cpu,
            note="rounds: " + ", ".join("%.3f" % x for x in e_r))
        sys_r = rounds_of(scs, "write_seconds", "sys_seconds")
        paired("scout write", "write_seconds", "write_seconds", e_r, ec_r,
               note="x floor: vs the encode floor; system CPU s: " +
               ", ".join("%.2f" % x for x in sys_r))
    load1 = os.getloadavg()
    kib1 = reported_kib()
    for w in wouts:
        shutil.rmtree(w, ignore_errors=True)
    os.sync()
    with open(marker, "w"):
        pass
    head = ["array", "impl", "median s", "CPU s", "x floor", "CPU x floor", "peer/scout",
            "check / note"]
    table = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    table += ["| " + " | ".join(r) + " |" for r in rows]
    doc = ["# Box I/O: one box, the whole array (issue 18)", "",
           "Run %s, %s threads, %s repetitions (medians); 1-minute load average %.1f at the "
           "start, %.1f at the end (2 cores: above ~1, other work shared them).%s"
           % (started, T, R, load0[0], load1[0], reporting_note(kib0, kib1)), ""] + table + [
           "", "Commands (from the source tree):", "", "```"] + commands + ["```", ""]
    print("\n".join(table))
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as fh:
        fh.write("\n".join(doc))
    print("box_io: wrote %s" % os.path.relpath(a.out, ROOT), file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
