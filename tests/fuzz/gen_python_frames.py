#!/usr/bin/env python3
"""Writes the python_frames fuzz target's seed: a CPython 3.12 memory image (mapped at
0x10000, thread state at +8) of a three-frame chain, laid out as
collectors/python/frame_reader.cpp's 3.12 table says. Usage: gen_python_frames.py OUT"""
import struct
import sys

BASE = 0x10000
image = bytearray(0x2000)


def put(offset, fmt, *values):
    struct.pack_into("<" + fmt, image, offset, *values)


def string(offset, text):  # compact ASCII str: length@16, state@32, data@40
    put(offset + 16, "q", len(text))
    put(offset + 32, "I", (1 << 2) | (1 << 5) | (1 << 6))
    image[offset + 40:offset + 40 + len(text)] = text.encode()
    return BASE + offset


image[0] = 1  # 11 + 1 % 3 = 3.12
TSTATE, CFRAME, CODE_TYPE = 8, 0x100, 0x180
put(CODE_TYPE + 24, "Q", BASE + 0x1f00)
image[0x1f00:0x1f05] = b"code\0"
put(TSTATE + 56, "Q", BASE + CFRAME)
frames = [0x200, 0x280, 0x300]
put(CFRAME, "Q", BASE + frames[0])
for i, (name, line) in enumerate([("inner", 10), ("middle", 20), ("<module>", 1)]):
    code = 0x400 + i * 0x300
    put(code + 8, "Q", BASE + CODE_TYPE)
    put(code + 68, "i", line)
    put(code + 112, "Q", string(code + 0x100, "/srv/app.py"))
    put(code + 128, "Q", string(code + 0x180, name))
    put(code + 120, "Q", BASE + code + 0x180)
    table = code + 0x200
    put(code + 136, "Q", BASE + table)
    put(table + 16, "q", 4)
    image[table + 32:table + 36] = bytes([0x80 | (13 << 3), 0, 0x80 | (13 << 3), 2])
    frame = frames[i]
    put(frame, "Q", BASE + code)
    put(frame + 8, "Q", BASE + frames[i + 1] if i + 1 < len(frames) else 0)
    put(frame + 56, "Q", BASE + code + 192 + 2)
with open(sys.argv[1], "wb") as out:
    out.write(image)
