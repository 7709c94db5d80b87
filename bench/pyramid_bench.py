#!/usr/bin/python3
"""OME-Zarr pyramids: what the levels cost next to converting and reading.

usage: bench/pyramid_bench.py BUILD_DIR [--quick] [--reps N] [--workers N]

Two comparisons, each run N times (default 3) interleaved, medians printed:
  A. `scout convert --ome` of W5's TIFF slices (512 x 1024 x 1024 uint16; --quick:
     256^3) as the issue states it (no voxel size: isotropic levels, each
     halving every axis), and with voxel size 2.0 x 0.65 x 0.65 um (levels 1-2
     halve y and x only: a third more voxels to write instead of a seventh),
     against plain `scout convert` of the same slices (target: --ome <= 1.3x).
  B. `scout pyramid` of W1's 1024^3 Zarr volume (--quick: 256^3), next to
     reading that volume once (bench_reduce: every chunk decoded and reduced).
Also prints the levels and factors chosen for the anisotropic example (from the
pyramid written in A). Datasets come from bench/gen_data.py (cached in
bench/data/, shared with bench/run). Timings never fail the run; exit 1 only
when a command fails.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

PY = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
OUT = os.path.join(HERE, "out")


def dataset(name):
    path = os.path.join(DATA, name)
    if not os.path.exists(path):
        print("generating %s (once, cached in bench/data/)" % name, file=sys.stderr)
        subprocess.run([PY, os.path.join(HERE, "gen_data.py"), DATA, name], check=True)
    return path


def timed(cmd):
    """(wall seconds, cpu seconds of the child: user + system, stdout)"""
    # write back what earlier runs left dirty (not timed): each command starts
    # from a clean page cache instead of being throttled for its predecessors'
    # gigabytes (balance_dirty_pages made wall times swing by 1.6x here)
    os.sync()
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), p.stderr))
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return dt, cpu, p.stdout


def internal_seconds(out):
    """bench_reduce prints 'seconds S open_seconds ...': the map's own time."""
    for line in out.splitlines():
        w = line.split()
        if len(w) >= 2 and w[0] == "seconds":
            return float(w[1])
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    a = ap.parse_args()
    scout = os.path.join(a.build, "scout")
    reduce_ = os.path.join(a.build, "bench_reduce")
    tif = dataset("tif256x256x256" if a.quick else "tif512x1024x1024")
    vol = dataset("vol256" if a.quick else "vol1024")
    os.makedirs(OUT, exist_ok=True)
    pid = os.getpid()
    # every repetition writes new outputs, all removed at the end: with
    # --overwrite each command also deleted its predecessor's tree (timed, and
    # the --ome tree has a third more files), and ext4 then skips the inodes
    # freed in the last 30 s when it creates files (recently_deleted())
    work = os.path.join(OUT, "pyr-%d" % pid)
    os.makedirs(work, exist_ok=True)
    j = ["-j", str(a.workers), "--no-progress"]

    def cmds_of(r):
        o_plain = os.path.join(work, "plain-%d.zarr" % r)
        o_ome = os.path.join(work, "ome-%d.ome.zarr" % r)
        o_pyr = os.path.join(work, "vol-%d.ome.zarr" % r)
        return {
            "convert": [scout, "convert"] + j + [tif, o_plain],
            "convert --ome": [scout, "convert", "--ome"] + j + [tif, o_ome + ".iso"],
            "--ome, aniso": [scout, "convert", "--ome", "--voxel-size", "2.0,0.65,0.65"] +
                            j + [tif, o_ome],
            "read once": [reduce_, vol, "--workers", str(a.workers)],
            "pyramid": [scout, "pyramid"] + j + [vol, o_pyr],
        }, o_ome, o_pyr

    cmds = cmds_of(0)[0]
    times = {k: [] for k in cmds}
    cpus = {k: [] for k in cmds}
    for r in range(a.reps):
        cmds, o_ome, o_pyr = cmds_of(r)
        for k, cmd in cmds.items():
            dt, cpu, out = timed(cmd)
            if k == "read once":
                dt = internal_seconds(out) or dt
            times[k].append(dt)
            cpus[k].append(cpu)
    med = {k: statistics.median(v) for k, v in times.items()}
    cpu = {k: statistics.median(v) for k, v in cpus.items()}
    info = json.loads(timed([scout, "info", "--json", o_ome])[2])
    iinfo = json.loads(timed([scout, "info", "--json", o_ome + ".iso"])[2])
    pinfo = json.loads(timed([scout, "info", "--json", o_pyr])[2])
    print("workers %d, %d repetitions (medians; cpu = user + system of all workers)"
          % (a.workers, a.reps))
    print("%-16s %8s %8s  %s" % ("command", "wall s", "cpu s", "note"))
    print("%-16s %8.2f %8.2f  %s" % ("convert", med["convert"], cpu["convert"],
                                      os.path.basename(tif)))
    print("%-16s %8.2f %8.2f  %.2fx plain convert (cpu %.2fx; target <= 1.3x), %d levels" %
          ("convert --ome", med["convert --ome"], cpu["convert --ome"],
           med["convert --ome"] / med["convert"], cpu["convert --ome"] / cpu["convert"],
           len(iinfo["levels"])))
    print("%-16s %8.2f %8.2f  %.2fx plain convert (cpu %.2fx), %d levels, 2.0 x 0.65 x 0.65 um" %
          ("--ome, aniso", med["--ome, aniso"], cpu["--ome, aniso"],
           med["--ome, aniso"] / med["convert"], cpu["--ome, aniso"] / cpu["convert"],
           len(info["levels"])))
    print("%-16s %8.2f %8.2f  %s, every chunk decoded once (wall: the map's own time)" %
          ("read once", med["read once"], cpu["read once"], os.path.basename(vol)))
    print("%-16s %8.2f %8.2f  %.2fx reading it once (cpu %.2fx), %d levels" %
          ("pyramid", med["pyramid"], cpu["pyramid"], med["pyramid"] / med["read once"],
           cpu["pyramid"] / cpu["read once"], len(pinfo["levels"])))
    print("\nlevels of %s with voxel 2.0 x 0.65 x 0.65 um:" % os.path.basename(tif))
    prev = None
    for lv in info["levels"]:
        f = [round(s / p) for s, p in zip(lv["scale"], prev)] if prev else [1, 1, 1]
        print("  %s  shape %-18s factor %-10s scale %s um" %
              (lv["path"], "x".join(map(str, lv["shape"])), "x".join(map(str, f)),
               " x ".join("%g" % s for s in lv["scale"])))
        prev = lv["scale"]
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
