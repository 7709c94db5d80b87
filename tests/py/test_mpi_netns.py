"""Two hosts without a cluster: two ranks in two network namespaces joined only by
a veth pair (registered only when MPI is compiled in; needs root for `ip netns`,
else exits 77, which ctest reports as skipped).

mpirun and rank 0 run in namespace A, rank 1 in namespace B: they share no
loopback, so PMIx (remote connections on A's veth address), Open MPI's
out-of-band channel, the TCP BTL and the one-sided counter (osc pt2pt) all go
over the veth, as between two machines. Checked: test_pmap_mpi's whole suite,
and `scout stats` and `scout blur` across the two "hosts" against one process,
byte for byte.
"""
import os
import subprocess
import sys

import numpy as np
import zarr

sys.path.insert(0, os.path.dirname(__file__))
from cli_common import BUILD, SCOUT, TempDir, check, main, run  # noqa: E402

TAG = "sc%d" % (os.getpid() % 100000)
NA, NB = TAG + "a", TAG + "b"
IPA, IPB = "10.213.%d.1" % (os.getpid() % 250), "10.213.%d.2" % (os.getpid() % 250)
NET = IPA.rsplit(".", 1)[0] + ".0/24"


def sh(*args):
    subprocess.run(list(args), check=True, capture_output=True, text=True)


def setup():
    sh("ip", "netns", "add", NA)
    sh("ip", "netns", "add", NB)
    sh("ip", "link", "add", NA + "v", "type", "veth", "peer", "name", NB + "v")
    sh("ip", "link", "set", NA + "v", "netns", NA)
    sh("ip", "link", "set", NB + "v", "netns", NB)
    sh("ip", "-n", NA, "addr", "add", IPA + "/24", "dev", NA + "v")
    sh("ip", "-n", NB, "addr", "add", IPB + "/24", "dev", NB + "v")
    for ns, dev in ((NA, NA + "v"), (NB, NB + "v")):
        sh("ip", "-n", ns, "link", "set", dev, "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")


def teardown():
    for ns in (NA, NB):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def two_hosts(prog_args, timeout=300):
    """mpirun in namespace A: rank 0 there, rank 1 in namespace B."""
    env = dict(os.environ, PMIX_MCA_ptl_tcp_remote_connections="1",
               PMIX_MCA_ptl_tcp_if_include=NA + "v")
    cmd = ["ip", "netns", "exec", NA, "mpirun", "--allow-run-as-root", "--oversubscribe",
           "--mca", "btl", "tcp,self", "--mca", "osc", "pt2pt",
           "--mca", "btl_tcp_if_include", NET, "--mca", "oob_tcp_if_include", NET,
           "-n", "1"] + prog_args + [":", "-n", "1", "ip", "netns", "exec", NB] + prog_args
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if p.returncode != 0:
        raise AssertionError("%s: exit %d\n%s\n%s" % (" ".join(cmd), p.returncode, p.stdout,
                                                      p.stderr))
    return p


def test_pmap_mpi_two_hosts():
    p = two_hosts([os.path.join(BUILD, "tests", "test_pmap_mpi")])
    check("rank 0:" in p.stderr and "rank 1:" in p.stderr and " 0 failed" in p.stderr,
          "both ranks ran their checks: %s" % p.stderr[-500:])


def test_cli_two_hosts():
    with TempDir() as d:
        rng = np.random.default_rng(5)
        a = (rng.random((48, 40, 40)) * 1000).astype("uint16")
        inp = os.path.join(d, "in.zarr")
        z = zarr.open(inp, mode="w", shape=a.shape, chunks=(8, 20, 20), dtype=a.dtype,
                      dimension_separator="/")
        z[:] = a
        ref = run(["stats", inp, "--histogram", "8"]).stdout
        p = two_hosts([SCOUT, "stats", inp, "--histogram", "8", "-j", "1"])
        check(p.stdout == ref, "stats across two namespaces: %r vs %r" % (p.stdout, ref))
        run(["blur", inp, os.path.join(d, "b1.zarr"), "--sigma", "1.5", "-j", "1"])
        two_hosts([SCOUT, "blur", inp, os.path.join(d, "b2.zarr"), "--sigma", "1.5", "-j", "1"])
        for root, _, names in os.walk(os.path.join(d, "b1.zarr")):
            for n in names:
                p1 = os.path.join(root, n)
                p2 = p1.replace("b1.zarr", "b2.zarr")
                check(open(p1, "rb").read() == open(p2, "rb").read(), "blur: %s" % n)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("skipped: ip netns needs root")
        sys.exit(77)
    try:
        setup()
    except (subprocess.CalledProcessError, FileNotFoundError) as e:
        teardown()
        print("cannot create the network namespaces: %s %s" % (e, getattr(e, "stderr", "")))
        sys.exit(1)
    try:
        main([test_pmap_mpi_two_hosts, test_cli_two_hosts])
    finally:
        teardown()
