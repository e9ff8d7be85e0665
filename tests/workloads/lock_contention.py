"""Label: lock_contended / none.

N (default 6) threads take one threading.Lock and, inside it, wait on a pipe read
with a timeout (select + read on a pipe nobody writes to: off CPU and outside the
GIL). The holder is in select; every other thread waits in futex on the lock, not on
the GIL: the critical section is the bottleneck, and more workers only add waiters.
"""
import os
import select
import sys
import threading


def worker(lock, fd):
    while True:
        with lock:
            select.select([fd], [], [], 0.05)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    lock = threading.Lock()
    r, _w = os.pipe()
    for _ in range(n):
        threading.Thread(target=worker, args=(lock, r), daemon=True).start()
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
