#!/usr/bin/env python3
"""How long the first start after an upgrade takes on a large SQLite installation.

Builds a database at schema VERSION (default 4: the one before migration 5 rebuilt the
messages table) from the files in server/migrations, fills it with MESSAGES messages (default
1,000,000) over 1,000 chats, then starts the release server on it twice, each time until it
reports its address: the first start applies the newer migrations, the second shows a start
with nothing to apply. Prints both times and the files' sizes after the upgrade. Everything
lives in a temporary directory, removed at the end; the server listens on 127.0.0.1 only.

    python3 scripts/upgrade-time.py [MESSAGES] [VERSION]   # builds the release server first

Figures vary between machines and disks.
"""
import glob
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
messages = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
version = int(sys.argv[2]) if len(sys.argv) > 2 else 4
chats = 1000
# The build cache the other scripts and CI use, unless told otherwise.
target = os.environ.setdefault(
    "CARGO_TARGET_DIR", os.path.expanduser("~/.cache/tutorchat/target"))
server = os.path.join(target, "release", "tutorchat-server")
subprocess.run(["cargo", "build", "--release", "--locked", "-p", "tutorchat-server"],
               cwd=root, check=True)


def build(path):
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("PRAGMA synchronous=OFF")
    files = sorted(glob.glob(os.path.join(root, "server", "migrations", "0*.sql")))
    for f in files[:version]:
        with open(f) as sql:
            c.executescript(sql.read())
    c.execute(f"PRAGMA user_version={version}")
    c.execute("BEGIN")
    for u in range(2 * chats):
        role = "student" if u % 2 == 0 else "tutor"
        c.execute(
            "INSERT INTO users (id, email, name, role, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, 0, 0)",
            (f"u{u}", f"u{u}@upgrade.test", f"User {u}", role),
        )
    c.execute("INSERT INTO courses (id, title, created_at, updated_at) VALUES ('c', 'C', 0, 0)")
    per_chat = messages // chats
    for chat in range(chats):
        c.execute(
            "INSERT INTO chats (course_id, student_id, tutor_id, last_seq, created_at,"
            " last_activity_at) VALUES ('c', ?, ?, ?, 0, 0)",
            (f"u{2 * chat}", f"u{2 * chat + 1}", per_chat),
        )
        c.execute(
            "INSERT INTO chat_members (chat_id, user_id) VALUES (?, ?), (?, ?)",
            (chat + 1, f"u{2 * chat}", chat + 1, f"u{2 * chat + 1}"),
        )
    rows = (
        (chat + 1, seq, f"u{2 * chat + seq % 2}", f"{chat:08x}-0000-4000-8000-{seq:012d}",
         "text", "a message of a usual length, about sixty characters long", seq)
        for seq in range(1, per_chat + 1)
        for chat in range(chats)
    )
    c.executemany(
        "INSERT INTO messages (chat_id, seq, sender_id, client_id, kind, content, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    c.execute("COMMIT")
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    return per_chat * chats


def start(data):
    """Seconds until the server reports its address; the server is stopped after."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [server, "--listen", "127.0.0.1:0", "--data-dir", data, "--jwt-secret", "upgrade-time",
         "--admin-token", "upgrade-time", "--log", "warn"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        for line in proc.stdout:
            if line.startswith("Tutorchat server listening on "):
                return time.monotonic() - started
        raise SystemExit("the server ended before it listened")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def sizes(data):
    return ", ".join(
        f"{name} {os.path.getsize(os.path.join(data, name)) / 2**20:.0f} MiB"
        for name in sorted(os.listdir(data))
        if name.startswith("tutorchat.db")
    )


with tempfile.TemporaryDirectory() as data:
    db = os.path.join(data, "tutorchat.db")
    count = build(db)
    print(f"schema {version}, {count} messages: {sizes(data)}")
    first = start(data)
    c = sqlite3.connect(db)
    now = c.execute("PRAGMA user_version").fetchone()[0]
    free = c.execute("PRAGMA freelist_count").fetchone()[0] * c.execute(
        "PRAGMA page_size").fetchone()[0]
    c.close()
    print(f"first start (migrations {version + 1} to {now}): {first:.2f} s; {sizes(data)}"
          f" ({free / 2**20:.0f} MiB of the database free pages, reused by later writes)")
    print(f"second start (nothing to apply): {start(data):.2f} s")
