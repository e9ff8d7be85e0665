"""Label: io_disk / threads.

Writes 4 KiB and fsyncs, in a loop, to a file in the directory argv[1]: the thread
spends its time in fsync (block I/O).
"""
import os
import sys


def main():
    path = os.path.join(sys.argv[1], "fsync_writer.dat")
    block = b"y" * 4096
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    n = 0
    while True:
        os.write(fd, block)
        os.fsync(fd)
        n += 1
        if n % 1024 == 0:
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)


if __name__ == "__main__":
    sys.exit(main())
