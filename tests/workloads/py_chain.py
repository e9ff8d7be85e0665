"""Label: gil_contended with 2+ threads (cpu_bound with 1).

A known chain of three Python functions that spins: outer_step -> middle_step ->
inner_spin, in N threads (argv[1], default 1; the main thread is one of them). The
stacks tests look for the chain, in this order and with this file's name, in Python
frames read from memory, and for inner_spin as the GIL holder.
"""
import sys
import threading


def inner_spin():
    x = 0
    while True:
        x = (x * 31 + 7) % 1000003  # the spinning line


def middle_step():
    inner_spin()


def outer_step():
    middle_step()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    for _ in range(n - 1):
        threading.Thread(target=outer_step, daemon=True).start()
    outer_step()


if __name__ == "__main__":
    sys.exit(main())
