#!/usr/bin/env python3
"""Draws Tutorchat's app icon (a speech bubble with a graduation-cap stripe on a rounded,
teal-to-indigo square) at every size the bundles need, with nothing but the standard library.

Writes: icon.png (512), 32x32.png, 64x64.png, 128x128.png, 128x128@2x.png (256), tray.png (32),
icon.ico (16–256, PNG-compressed) and icon.icns (PNG entries). Run: python3 icons/generate.py
"""

import math
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def lerp(a, b, t):
    return a + (b - a) * t


def pixel(x, y, n):
    """RGBA of the icon at pixel (x, y) of an n×n image, 2×2 supersampled."""
    acc = [0.0, 0.0, 0.0, 0.0]
    for sx in (0.25, 0.75):
        for sy in (0.25, 0.75):
            u, v = (x + sx) / n, (y + sy) / n
            r, g, b, a = sample(u, v)
            acc[0] += r * a
            acc[1] += g * a
            acc[2] += b * a
            acc[3] += a
    a = acc[3] / 4
    if a == 0:
        return (0, 0, 0, 0)
    return (round(acc[0] / acc[3]), round(acc[1] / acc[3]), round(acc[2] / acc[3]), round(a * 255))


def inside_rounded(u, v, x0, y0, x1, y1, r):
    cx = min(max(u, x0 + r), x1 - r)
    cy = min(max(v, y0 + r), y1 - r)
    return (u - cx) ** 2 + (v - cy) ** 2 <= r * r and x0 <= u <= x1 and y0 <= v <= y1


def sample(u, v):
    # Background: rounded square with a diagonal gradient.
    if not inside_rounded(u, v, 0.04, 0.04, 0.96, 0.96, 0.2):
        return (0, 0, 0, 0.0)
    t = (u + v) / 2
    bg = (lerp(20, 79, t), lerp(184, 70, t), lerp(166, 229, t))
    # Speech bubble: white rounded rectangle with a tail at the lower left.
    bubble = inside_rounded(u, v, 0.2, 0.24, 0.8, 0.68, 0.12)
    tail = (0.28 <= u <= 0.42) and (0.64 <= v <= 0.8) and (v - 0.64) <= (0.42 - u) * 1.1
    if bubble or tail:
        # Three dots, like someone typing.
        for cx in (0.37, 0.5, 0.63):
            if (u - cx) ** 2 + (v - 0.46) ** 2 <= 0.045 ** 2:
                return (*bg, 1.0)
        return (255, 255, 255, 1.0)
    return (*bg, 1.0)


def png(n):
    rows = []
    for y in range(n):
        row = bytearray([0])
        for x in range(n):
            row.extend(pixel(x, y, n))
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", n, n, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def ico(images):
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    entries, blobs = b"", b""
    for n, data in images:
        size = 0 if n >= 256 else n
        entries += struct.pack("<BBBBHHII", size, size, 0, 0, 1, 32, len(data), offset)
        blobs += data
        offset += len(data)
    return header + entries + blobs


def icns(images):
    kinds = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08", 512: b"ic09"}
    body = b"".join(kinds[n] + struct.pack(">I", 8 + len(d)) + d for n, d in images if n in kinds)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main():
    sizes = {}
    for n in (16, 32, 64, 128, 256, 512):
        sizes[n] = png(n)
    outputs = {
        "icon.png": sizes[512],
        "32x32.png": sizes[32],
        "64x64.png": sizes[64],
        "128x128.png": sizes[128],
        "128x128@2x.png": sizes[256],
        "tray.png": sizes[32],
        "icon.ico": ico([(n, sizes[n]) for n in (16, 32, 64, 128, 256)]),
        "icon.icns": icns([(n, sizes[n]) for n in (16, 32, 64, 128, 256, 512)]),
    }
    for name, data in outputs.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
        print(f"wrote icons/{name} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
