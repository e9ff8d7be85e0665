"""Label: io_network / threads.

N (default 4) threads, each with its own PostgreSQL connection over TCP, running
SELECT pg_sleep(DELAY) in a loop: the threads wait on the database. Needs
python3-psycopg2.

usage: pg_threads.py PORT [THREADS] [DELAY]
"""
import sys
import threading

import psycopg2


def query_forever(port, delay):
    conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
    conn.autocommit = True
    cur = conn.cursor()
    while True:
        cur.execute("SELECT pg_sleep(%s)", (delay,))
        cur.fetchall()


def main():
    port = int(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.2
    for _ in range(n):
        threading.Thread(target=query_forever, args=(port, delay), daemon=True).start()
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
