"""Helper, not a target: an HTTP server on 127.0.0.1 that answers every GET after a
fixed delay (seconds, argv[2]). Prints its port on stdout once listening.

usage: slow_http_server.py PORT DELAY   (PORT 0 = any free port)
"""
import http.server
import socketserver
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    delay = 0.2

    def do_GET(self):
        time.sleep(self.delay)
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 256


def main():
    Handler.delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0.2
    server = Server(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
