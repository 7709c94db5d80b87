"""A small tqdm-like progress bar (tqdm is not a Debian dependency here)."""
from __future__ import annotations

import sys
import time
from typing import Iterable, Iterator, Optional, TextIO, TypeVar

T = TypeVar("T")


def _fmt(seconds: float) -> str:
    seconds = int(seconds)
    m, s = divmod(seconds, 60)
    h, m = divmod(m, 60)
    return "%d:%02d:%02d" % (h, m, s) if h else "%02d:%02d" % (m, s)


def progress(it: Iterable[T], total: int, file: Optional[TextIO] = None,
             width: int = 30) -> Iterator[T]:
    """Yield from it, drawing ``pct|bar| n/total [elapsed<eta, rate it/s]`` on
    stderr at most 10 times a second, as tqdm does; a newline at the end."""
    out = file if file is not None else sys.stderr
    t0 = last = time.monotonic()
    n = 0

    def draw(now: float) -> None:
        el = now - t0
        rate = n / el if el > 0 else 0.0
        frac = n / total if total else 1.0
        fill = int(frac * width)
        eta = (total - n) / rate if rate > 0 else 0.0
        out.write("\r%3d%%|%s%s| %d/%d [%s<%s, %.2fit/s]" % (
            int(frac * 100), "#" * fill, " " * (width - fill), n, total, _fmt(el), _fmt(eta),
            rate))
        out.flush()

    draw(t0)
    try:
        for x in it:
            n += 1
            now = time.monotonic()
            if now - last >= 0.1 or n == total:
                draw(now)
                last = now
            yield x
    finally:
        draw(time.monotonic())
        out.write("\n")
        out.flush()
