"""Label: topology (gunicorn master + sync workers).

A minimal WSGI app for `gunicorn -w N wsgi_app:app`: each request does a little
pure-Python work. The master and its workers must be one workload, with
current_model "processes" and each worker's PSS reported.
"""


def app(environ, start_response):
    x = 0
    for i in range(20000):
        x = (x * 31 + i) % 1000003
    body = f"{x}\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
