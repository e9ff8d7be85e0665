"""Label: cpu_bound / processes.

One thread running pure-Python arithmetic forever: one core's worth of CPU, no
waits, no GIL contention (nobody else wants it). More threads cannot help under the
GIL; processes can.
"""
import sys


def main():
    x = 0
    while True:
        for i in range(100000):
            x = (x * 31 + i) % 1000003


if __name__ == "__main__":
    sys.exit(main())
