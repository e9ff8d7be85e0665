"""Label: cpu_parallel / threads.

N (default 2) threads hashing a 16 MiB buffer with hashlib.sha256, which releases the
GIL for buffers over 2 KiB: the threads run in parallel on all cores, so threads are
the right model.
"""
import hashlib
import sys
import threading


def hash_forever(buf):
    while True:
        hashlib.sha256(buf).digest()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    buf = b"x" * (16 << 20)
    for _ in range(n):
        threading.Thread(target=hash_forever, args=(buf,), daemon=True).start()
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
