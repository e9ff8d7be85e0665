"""Label: gil_contended / processes.

N (default 4) threads of pure-Python arithmetic. They share one GIL, so together they
use about one core and each waits for the GIL most of the time (futex on the GIL's
address, see docs/PYTHON_INTERNALS.md).
"""
import sys
import threading


def spin():
    x = 0
    while True:
        for i in range(10000):
            x = (x * 31 + i) % 1000003


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    for _ in range(n):
        threading.Thread(target=spin, daemon=True).start()
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
