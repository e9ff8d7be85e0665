"""Label: io_network / threads.

N (default 8) threads, each in a loop of blocking HTTP GETs to a slow local server
(argv[1] = port): every thread spends nearly all its time in recv on a TCP socket to
127.0.0.1:PORT, the dependency.
"""
import http.client
import sys
import threading


def fetch_forever(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while True:
        conn.request("GET", "/")
        conn.getresponse().read()


def main():
    port = int(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    for _ in range(n):
        threading.Thread(target=fetch_forever, args=(port,), daemon=True).start()
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
