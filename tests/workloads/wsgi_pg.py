"""Label: io_network on PostgreSQL (gunicorn sync workers).

A WSGI app for `gunicorn -w N wsgi_pg:app`: each request runs SELECT pg_sleep(DELAY)
on PostgreSQL over TCP, so a request takes DELAY seconds and each sync worker serves
one at a time. Each worker process opens its own connection at its first request.
Needs python3-psycopg2.

environment: WSGI_PG_PORT (PostgreSQL on 127.0.0.1, user postgres), WSGI_PG_DELAY
(seconds, default 0.1)
"""
import os

import psycopg2

_connection = None


def _cursor():
    global _connection
    if _connection is None:  # after the fork: one connection per worker
        _connection = psycopg2.connect(host="127.0.0.1", port=int(os.environ["WSGI_PG_PORT"]),
                                       user="postgres", dbname="postgres")
        _connection.autocommit = True
    return _connection.cursor()


def app(environ, start_response):
    cur = _cursor()
    cur.execute("SELECT pg_sleep(%s)", (float(os.environ.get("WSGI_PG_DELAY", "0.1")),))
    cur.fetchall()
    body = b"ok\n"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
