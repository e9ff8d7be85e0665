"""Label: cpu_parallel or cpu_saturated / processes or scale_out (grouping test).

A multiprocessing.Pool of N (default 2) worker processes doing pure-Python CPU work,
fed by the parent. The parent, its workers (and a resource tracker with spawn or
forkserver) must be one workload. Start method from argv[2] (default fork).
"""
import multiprocessing
import sys


def burn(n):
    x = 0
    for i in range(n):
        x = (x * 31 + i) % 1000003
    return x


def main():
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    method = sys.argv[2] if len(sys.argv) > 2 else "fork"
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(workers) as pool:
        while True:
            pool.map(burn, [200000] * (workers * 8))


if __name__ == "__main__":
    sys.exit(main())
