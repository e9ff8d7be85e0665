"""Label: gil_contended / processes as threads; cpu_parallel (or cpu_saturated) as
processes.

The same pure-Python work run two ways, for before/after comparisons:
`pure_job.py threads N` runs N threads in one interpreter (one GIL: about one core in
all); `pure_job.py processes N` runs N forked processes (one GIL each: as many cores as
are free).
"""
import os
import signal
import sys
import threading

from gil_threads import spin  # the same pure-Python loop (this folder is on sys.path)


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "threads"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    if mode == "threads":
        for _ in range(n):
            threading.Thread(target=spin, daemon=True).start()
        threading.Event().wait()
    elif mode == "processes":
        children = []
        for _ in range(n):
            pid = os.fork()
            if pid == 0:
                spin()
            children.append(pid)

        def stop(signum, frame):
            for pid in children:
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:  # already gone (the group was signalled)
                    pass
            sys.exit(0)

        signal.signal(signal.SIGTERM, stop)
        for _ in children:
            os.wait()
    else:
        sys.exit(f"usage: pure_job.py threads|processes N (got {mode!r})")


if __name__ == "__main__":
    sys.exit(main())
