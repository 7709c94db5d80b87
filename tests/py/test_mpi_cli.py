"""scout under mpirun (registered only when MPI is compiled in).

Each command run by `mpirun -n N scout ...` (N = 2, 3, 4, TCP transport forced,
the counter's window off shared memory) must give byte for byte what one
process gives: the stats text, the peaks CSV, every file of the convert and
blur outputs; the converted array must also equal the numpy data it was made
from (zarr-python reads it). Then the failure paths: a corrupt chunk exits 1
naming the chunk; a rank killed with SIGKILL ends the job within 10 s with a
non-zero exit, nothing at OUTPUT and no process of the job left, and
`--resume` completes the run into the same bytes as an uninterrupted one
without rewriting the blocks its journal lists; the same without MPI, for
convert and blur.
"""
import os
import signal
import subprocess
import sys
import time
import uuid

import numpy as np
import zarr

sys.path.insert(0, os.path.dirname(__file__))
from cli_common import SCOUT, TempDir, check, main, run, sanitized  # noqa: E402

MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--mca", "btl", "tcp,self",
          "--mca", "osc", "^sm"]


def mpirun(n, args, rc=0, timeout=300, env_tag=None):
    cmd = MPIRUN + ["-n", str(n)]
    if env_tag:
        cmd += ["-x", "SCOUT_TEST_TAG=" + env_tag]
    cmd += [SCOUT] + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if rc is not None and p.returncode != rc:
        raise AssertionError("%s: exit %d, expected %d\nstdout: %s\nstderr: %s"
                             % (" ".join(cmd), p.returncode, rc, p.stdout, p.stderr))
    return p


def files(path):
    """{relative name: bytes} of every file under path."""
    out = {}
    for root, _, names in os.walk(path):
        for n in names:
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, path)] = f.read()
    return out


def same_tree(a, b, what):
    fa, fb = files(a), files(b)
    check(sorted(fa) == sorted(fb), "%s: different files: %s" % (what, sorted(set(fa) ^ set(fb))))
    diff = [n for n in fa if fa[n] != fb[n]]
    check(not diff, "%s: different bytes in %s" % (what, diff[:5]))


def make_input(d, shape=(40, 50, 60), chunks=(16, 16, 16), seed=1):
    rng = np.random.default_rng(seed)
    a = (rng.random(shape) * 1000).astype("uint16")
    path = os.path.join(d, "in.zarr")
    z = zarr.open(path, mode="w", shape=a.shape, chunks=chunks, dtype=a.dtype,
                  dimension_separator="/")
    z[:] = a
    return path, a


def test_commands_match_one_process():
    with TempDir() as d:
        inp, a = make_input(d)
        ref = {}
        ref["stats"] = run(["stats", inp, "--histogram", "8"]).stdout
        ref["stats_json"] = run(["stats", inp, "--json"]).stdout
        run(["convert", inp, os.path.join(d, "c1.zarr"), "--chunks", "8,16,32", "-j", "2"])
        run(["blur", inp, os.path.join(d, "b1.zarr"), "--sigma", "1.5", "-j", "2"])
        run(["peaks", inp, os.path.join(d, "p1.csv"), "--sigma", "2", "-j", "2"])
        # the converted array is the data (independent reader)
        check(np.array_equal(zarr.open(os.path.join(d, "c1.zarr"), mode="r")[:], a),
              "convert: zarr-python reads the data back")
        for n in (2, 3, 4):
            for cmd, key in ((["stats", inp, "--histogram", "8"], "stats"),
                             (["stats", inp, "--json"], "stats_json")):
                p = mpirun(n, cmd + ["-j", "1"])
                check(p.stdout == ref[key], "%s on %d ranks: %r vs %r" % (key, n, p.stdout, ref[key]))
            c = os.path.join(d, "c%d.zarr" % n)
            b = os.path.join(d, "b%d.zarr" % n)
            pc = os.path.join(d, "p%d.csv" % n)
            mpirun(n, ["convert", inp, c, "--chunks", "8,16,32", "-j", "1"])
            same_tree(os.path.join(d, "c1.zarr"), c, "convert on %d ranks" % n)
            workers = ["--processes", "-j", "2"] if n == 2 else ["-j", "1"]
            mpirun(n, ["blur", inp, b, "--sigma", "1.5"] + workers)
            same_tree(os.path.join(d, "b1.zarr"), b, "blur on %d ranks" % n)
            p = mpirun(n, ["peaks", inp, pc, "--sigma", "2", "-j", "1"])
            check(open(pc).read() == open(os.path.join(d, "p1.csv")).read(),
                  "peaks CSV on %d ranks" % n)
            check(p.stdout.count("peaks written") == 1, "only rank 0 prints: %r" % p.stdout)
        left = [f for f in os.listdir(d) if ".tmp-" in f or ".partial" in f]
        check(not left, "temporaries left: %s" % left)


def test_corrupt_chunk():
    with TempDir() as d:
        inp, _ = make_input(d)
        with open(os.path.join(inp, "1", "2", "0"), "wb") as f:
            f.write(b"garbage")
        out = os.path.join(d, "out.zarr")
        for cmd in (["blur", inp, out, "--sigma", "1"], ["convert", inp, out],
                    ["stats", inp]):
            p = mpirun(3, cmd + ["-j", "1"], rc=None)
            check(p.returncode != 0, "%s: exit %d" % (cmd[0], p.returncode))
            check("scout: error:" in p.stderr and "1/2/0" in p.stderr,
                  "%s: the message names the chunk: %s" % (cmd[0], p.stderr))
            check(p.stderr.count("scout: error:") == 1, "one report: %s" % p.stderr)
            check(sorted(os.listdir(d)) == ["in.zarr"], "left: %s" % os.listdir(d))


def job_processes(tag):
    """pids whose environment has SCOUT_TEST_TAG=tag (the job's ranks)."""
    out = []
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % e, "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if ("SCOUT_TEST_TAG=" + tag).encode() in env:
            out.append((int(e), env))
    return out


def children(pid):
    out = []
    if not os.path.isdir("/proc/%d/task" % pid):
        return out
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def journal_lines(partial):
    jd = os.path.join(partial, ".scout-journal")
    n = 0
    if os.path.isdir(jd):
        for f in os.listdir(jd):
            if f.startswith("log-"):
                with open(os.path.join(jd, f)) as fh:
                    n += fh.read().count("\n")
    return n


def chunk_mtimes(path):
    out = {}
    for root, _, names in os.walk(path):
        if ".scout-journal" in root:
            continue
        for n in names:
            p = os.path.join(root, n)
            out[os.path.relpath(p, path)] = os.stat(p).st_mtime_ns
    return out


def kill_and_resume(d, inp, cmd, out, ref, nranks):
    """Start cmd with --resume (under mpirun when nranks), SIGKILL a rank (or the
    process) once the journal lists 2 blocks; check the end of the job; resume."""
    tag = uuid.uuid4().hex
    args = [str(a) for a in cmd] + ["--resume", "-j", "1"]
    # the job at the lowest priority: this script must see it mid-run and kill it
    # even on a machine busy with other work
    if nranks:
        full = ["nice", "-n", "19"] + MPIRUN + ["-n", str(nranks), "-x", "SCOUT_TEST_TAG=" + tag,
                                                SCOUT] + args
        env = None
    else:
        full = ["nice", "-n", "19", SCOUT] + args
        env = dict(os.environ, SCOUT_TEST_TAG=tag)
    p = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    partial = out + ".partial"
    t0 = time.time()
    while journal_lines(partial) < 2 and p.poll() is None and time.time() - t0 < 120:
        time.sleep(0.005)
    if p.poll() is not None:
        raise AssertionError("the run ended before the kill: %s" % (p.communicate(),))
    victim = None
    if nranks:  # rank 1 among mpirun's children
        for pid in children(p.pid):
            try:
                with open("/proc/%d/environ" % pid, "rb") as f:
                    if b"OMPI_COMM_WORLD_RANK=1" in f.read().split(b"\0"):
                        victim = pid
            except OSError:
                pass
    else:
        victim = p.pid
    check(victim, "found the process to kill")
    os.kill(victim, signal.SIGKILL)
    # from now on the job runs at this script's priority: its end is what is timed
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    for pid in [p.pid] + children(p.pid):
        try:
            os.setpriority(os.PRIO_PROCESS, pid, mine)
            for t in os.listdir("/proc/%d/task" % pid):
                os.setpriority(os.PRIO_PROCESS, int(t), mine)
        except OSError:
            pass
    tk = time.time()
    try:
        _, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        raise AssertionError("the job did not end within 10 s of the kill")
    took = time.time() - tk
    check(p.returncode != 0, "killed job: exit %d" % p.returncode)
    time.sleep(0.5)
    check(not job_processes(tag), "processes left: %s" % [x[0] for x in job_processes(tag)])
    check(not os.path.exists(out), "nothing at OUTPUT after the kill")
    check(os.path.isdir(partial), "the partial output is kept")
    done = journal_lines(partial)
    before = chunk_mtimes(partial)
    # resume: under MPI again (3 ranks) or in one process
    if nranks:
        mpirun(3, args)
    else:
        run(args)
    same_tree(ref, out, "resumed %s" % cmd[0])
    check(not os.path.exists(partial), "OUTPUT.partial renamed")
    check(not os.path.exists(os.path.join(out, ".scout-journal")), "journal removed")
    after = chunk_mtimes(out)
    kept = [n for n in before if n in after and before[n] == after[n] and "/" in n]
    check(len(kept) > 0, "blocks in the journal (%d) were not rewritten" % done)
    return took


def test_kill_and_resume():
    with TempDir() as d:
        # 24 blocks of 16 x 256 x 256: seconds of work for 2 ranks x 1 worker
        # (under ASan, 4x slower: 8 blocks, blur only)
        depth = 128 if sanitized() else 384
        inp, _ = make_input(d, shape=(depth, 256, 256), chunks=(16, 64, 64), seed=3)
        blur = ["blur", inp, None, "--sigma", "4", "--block", "16,256,256"]
        conv = ["convert", inp, None, "--chunks", "16,64,64", "--codec", "zstd:9"]
        cases = (("blur", blur),) if sanitized() else (("blur", blur), ("convert", conv))
        for name, cmd in cases:
            ref = os.path.join(d, name + "-ref.zarr")
            run([a if a else ref for a in cmd] + ["-j", "1"])
            for nranks in (2, 0):
                out = os.path.join(d, "%s-%d.zarr" % (name, nranks))
                took = kill_and_resume(d, inp, [a if a else out for a in cmd], out, ref, nranks)
                print("  %s, %s: the job ended %.1f s after the kill" %
                      (name, "%d ranks" % nranks if nranks else "one process", took))
        # without --resume nothing changes: a partial output is not reused
        out = os.path.join(d, "fresh.zarr")
        run(["blur", inp, out, "--sigma", "4", "--block", "16,256,256", "-j", "1"])
        check(not os.path.exists(out + ".partial"), "no partial without --resume")


def test_not_mpi_without_mpirun():
    # scout without mpirun must not initialise MPI: no OpenMPI session directory
    # and no MPI thread; the ranks' variables alone (no launcher) would abort.
    with TempDir() as d:
        inp, _ = make_input(d, shape=(8, 8, 8), chunks=(4, 4, 4))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_", "PMIX_", "PMI_"))}
        p = subprocess.run(["strace", "-f", "-e", "trace=openat", "-o", os.path.join(d, "tr"),
                            SCOUT, "stats", inp], capture_output=True, text=True, env=env)
        if p.returncode == 0 and os.path.exists(os.path.join(d, "tr")):
            tr = open(os.path.join(d, "tr")).read()
            check("mca_" not in tr, "MPI components loaded without mpirun")
        else:
            # no strace: at least the command works without a launcher
            run(["stats", inp], env=env)


if __name__ == "__main__":
    main([test_commands_match_one_process, test_corrupt_chunk, test_kill_and_resume,
          test_not_mpi_without_mpirun])
