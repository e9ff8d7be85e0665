#!/usr/bin/env python3
"""Writes a seed of the python_frames fuzz target: a CPython memory image (mapped at
0x10000, the version byte at +0, the thread state at +8) of a three-frame chain, laid out
as collectors/python/frame_reader.cpp's table for that version says: 3.12
(_PyInterpreterFrames, the default) or 3.10 (PyFrameObjects).
Usage: gen_python_frames.py OUT [3.12|3.10]"""
import struct
import sys

BASE = 0x10000
image = bytearray(0x2000)
version = sys.argv[2] if len(sys.argv) > 2 else "3.12"
if version not in ("3.12", "3.10"):
    sys.exit(f"gen_python_frames.py: version {version}: 3.12 or 3.10")
old = version == "3.10"


def put(offset, fmt, *values):
    struct.pack_into("<" + fmt, image, offset, *values)


def string(offset, text):
    """A compact ASCII str: length@16, state@32, data after the PyASCIIObject (48 bytes
    on 3.10, which keeps wstr; 40 on 3.12)."""
    put(offset + 16, "q", len(text))
    put(offset + 32, "I", (1 << 2) | (1 << 5) | (1 << 6))
    data = offset + (48 if old else 40)
    image[data:data + len(text)] = text.encode()
    return BASE + offset


# The fuzz target reads the image as 3.(9 + image[0] % 5).
image[0] = 1 if old else 3
TSTATE, CFRAME, CODE_TYPE = 8, 0x100, 0x180
put(CODE_TYPE + 24, "Q", BASE + 0x1f00)
image[0x1f00:0x1f05] = b"code\0"
frames = [0x200, 0x280, 0x300] if not old else [0x1a00, 0x1b00, 0x1c00]
if old:
    put(TSTATE + 24, "Q", BASE + frames[0])  # tstate->frame
else:
    put(TSTATE + 56, "Q", BASE + CFRAME)  # tstate->cframe->current_frame
    put(CFRAME, "Q", BASE + frames[0])
for i, (name, line) in enumerate([("inner", 10), ("middle", 20), ("<module>", 1)]):
    code = 0x400 + i * 0x300
    previous = BASE + frames[i + 1] if i + 1 < len(frames) else 0
    put(code + 8, "Q", BASE + CODE_TYPE)
    table = code + 0x200
    put(table + 16, "q", 4)
    frame = frames[i]
    if old:
        put(code + 40, "i", line)                                # co_firstlineno
        put(code + 104, "Q", string(code + 0x100, "/srv/app.py"))  # co_filename
        put(code + 112, "Q", string(code + 0x180, name))           # co_name
        put(code + 120, "Q", BASE + table)                         # co_linetable
        image[table + 32:table + 36] = bytes([2, 0, 2, 1])         # +0 then +1 line
        put(frame + 24, "Q", previous)                             # f_back
        put(frame + 32, "Q", BASE + code)                          # f_code
        put(frame + 96, "i", 1)                                    # f_lasti: unit 1
    else:
        put(code + 68, "i", line)
        put(code + 112, "Q", string(code + 0x100, "/srv/app.py"))
        put(code + 128, "Q", string(code + 0x180, name))
        put(code + 120, "Q", BASE + code + 0x180)
        put(code + 136, "Q", BASE + table)
        image[table + 32:table + 36] = bytes([0x80 | (13 << 3), 0, 0x80 | (13 << 3), 2])
        put(frame, "Q", BASE + code)
        put(frame + 8, "Q", previous)
        put(frame + 56, "Q", BASE + code + 192 + 2)
with open(sys.argv[1], "wb") as out:
    out.write(image)
