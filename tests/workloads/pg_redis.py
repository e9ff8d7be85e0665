"""Label: io_network / threads, two dependencies.

N (default 4) threads each running SELECT pg_sleep(DELAY) in a loop on their own
PostgreSQL connection, and one thread doing redis GET/SET in a loop over raw RESP (no
client library): two dependencies of very different latency in one workload. Needs
python3-psycopg2.

usage: pg_redis.py PG_PORT REDIS_PORT [THREADS] [DELAY]
"""
import socket
import sys
import threading
import time

import psycopg2


def query_forever(port, delay):
    conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
    conn.autocommit = True
    cur = conn.cursor()
    while True:
        cur.execute("SELECT pg_sleep(%s)", (delay,))
        cur.fetchall()


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def redis_forever(port):
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    i = 0
    while True:
        s.sendall(resp("SET", "k%d" % (i % 100), "v%d" % i))
        f.readline()  # +OK
        s.sendall(resp("GET", "k%d" % (i % 100)))
        f.readline()  # $n
        f.readline()  # value
        i += 1
        time.sleep(0.005)


def main():
    pg_port = int(sys.argv[1])
    redis_port = int(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    delay = float(sys.argv[4]) if len(sys.argv) > 4 else 0.2
    for _ in range(n):
        threading.Thread(target=query_forever, args=(pg_port, delay), daemon=True).start()
    threading.Thread(target=redis_forever, args=(redis_port,), daemon=True).start()
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
