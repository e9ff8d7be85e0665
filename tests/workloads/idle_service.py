"""Label: idle / none.

A TCP server on 127.0.0.1 (any free port) with an accept thread and a few worker
threads blocked on an empty queue: no traffic, nothing to do.
"""
import queue
import socket
import sys
import threading


def main():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    jobs = queue.Queue()
    for _ in range(4):
        threading.Thread(target=jobs.get, daemon=True).start()
    while True:
        conn, _ = srv.accept()
        conn.close()


if __name__ == "__main__":
    sys.exit(main())
