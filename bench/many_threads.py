"""Benchmark target: N threads, most blocked, a few busy — the shape of a thread-pool
service. Of every 10 threads: 7 wait on a condition that is signalled every 100 ms
(a work queue), 2 sleep in 50 ms naps (timers, polling), 1 spins for 1 ms every
100 ms (request work).

usage: many_threads.py N
"""
import sys
import threading
import time


def queue_waiter(cond):
    while True:
        with cond:
            cond.wait()


def napper():
    while True:
        time.sleep(0.05)


def worker():
    while True:
        end = time.perf_counter() + 0.001
        while time.perf_counter() < end:
            pass
        time.sleep(0.099)


def main():
    n = int(sys.argv[1])
    cond = threading.Condition()
    kinds = [queue_waiter] * 7 + [napper] * 2 + [worker]
    for i in range(n - 1):
        kind = kinds[i % 10]
        args = (cond,) if kind is queue_waiter else ()
        threading.Thread(target=kind, args=args, daemon=True).start()
    while True:
        time.sleep(0.1)
        with cond:
            cond.notify()


if __name__ == "__main__":
    sys.exit(main())
