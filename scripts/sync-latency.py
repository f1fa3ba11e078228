#!/usr/bin/env python3
"""How long a durable sync takes on this machine's disk, with nothing of Tutorchat running.

Every message the server acknowledges waited for one (SQLite's WAL fdatasync), so the tail of
this distribution is a floor under the tail of ack latency. Writes 64 KiB and fdatasyncs it,
over and over, for SECONDS (default 8) in a temporary file beside DIR (default: the system's
temporary directory), then prints how many syncs ran and their p50 / p99 / max.

    python3 scripts/sync-latency.py [SECONDS] [DIR]
"""
import os
import sys
import tempfile
import time

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 8.0
folder = sys.argv[2] if len(sys.argv) > 2 else None
block = os.urandom(64 * 1024)
waits = []
with tempfile.NamedTemporaryFile(dir=folder) as f:
    fd = f.fileno()
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        os.pwrite(fd, block, (n % 256) * len(block))
        n += 1
        started = time.perf_counter()
        os.fdatasync(fd)
        waits.append(time.perf_counter() - started)
waits.sort()
ms = lambda q: waits[min(len(waits) - 1, int(len(waits) * q))] * 1e3
print(f"{len(waits)} syncs in {seconds:.0f} s: p50 {ms(0.5):.2f} ms · p99 {ms(0.99):.2f} ms · "
      f"max {waits[-1] * 1e3:.2f} ms")
