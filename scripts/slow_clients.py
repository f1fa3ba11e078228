#!/usr/bin/env python3
"""Slow clients against a fresh demo server: how many idle or half-sent connections one
address can hold, and for how long.

    python3 scripts/slow_clients.py target/release/tutorchat-server [COUNT]

Starts the server on 127.0.0.1 (a free port, a temporary data directory, default settings),
opens COUNT (300) connections from 127.0.0.1 — half send nothing, half a partial request
line — and reports how many are still open after 1 s and after 12 s. Stops by itself.
"""

import re
import socket
import subprocess
import sys
import tempfile
import time


def still_open(socks):
    alive = 0
    for s in socks:
        try:
            if s.recv(100) != b"":
                alive += 1
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    return alive


def main():
    server_bin = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    with tempfile.TemporaryDirectory() as data:
        server = subprocess.Popen(
            [server_bin, "--listen", "127.0.0.1:0", "--data-dir", data, "--demo", "--log", "error"],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            port = None
            for line in server.stdout:
                found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
                if found:
                    port = int(found.group(1))
                    break
            if port is None:
                sys.exit("the server did not report its address")
            socks = []
            for i in range(count):
                s = socket.create_connection(("127.0.0.1", port))
                s.setblocking(False)
                if i % 2:
                    s.send(b"GET /healthz HTTP/1.1\r\nHo")
                socks.append(s)
            time.sleep(1)
            print(f"after 1 s: {still_open(socks)} of {count} slow connections from one address still open")
            time.sleep(11)
            print(f"after 12 s: {still_open(socks)} of {count} still open")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
