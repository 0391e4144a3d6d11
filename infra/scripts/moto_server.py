"""Runs moto (DynamoDB + SES emulator) on a loopback port, one request at a time.

moto evaluates a conditional write and then applies it without a lock, so under concurrent requests
two conditional writes can both succeed, which real DynamoDB never allows. Serving one request at a
time restores DynamoDB's atomicity, so the race tests (exactly one winner) test our code, not moto's
threading.

Connections stay open between requests (HTTP/1.1 keep-alive, a thread per connection, the requests
themselves still one at a time), as DynamoDB keeps them. moto's own server (werkzeug's development
server) closes every connection after its answer and then waits 10 ms for stray request bytes
before it takes the next request, so each SDK call paid a new TCP connection and the wait: what
`make bench-e2e` measured per round trip was mostly that, which real DynamoDB never charges.

moto also ignores TransactWriteItems' ClientRequestToken. DynamoDB answers a request that repeats a
token within 10 minutes (the SDK's retry after an attempt timed out while the first attempt
committed) with the first request's success and changes nothing; moto runs it again, so a retried
refresh-token rotation fails its own generation check and reads as a replayed token. This server
keeps that promise the way DynamoDB does: a repeated token with the same request gets the first
success again, with another request `IdempotentParameterMismatchException`.

Usage: python moto_server.py PORT
"""

import hashlib
import io
import json
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

TRANSACT_WRITE = "DynamoDB_20120810.TransactWriteItems"
# How long DynamoDB remembers a client request token.
TOKEN_WINDOW_SECS = 600


class IdempotentTransactions:
    """WSGI middleware: TransactWriteItems' ClientRequestToken as DynamoDB honours it."""

    def __init__(self, app):
        self.app = app
        # token -> (when, digest of the request without its token, status, headers, body)
        self.done = {}

    def __call__(self, environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET") != TRANSACT_WRITE:
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(raw)
        try:
            request = json.loads(raw)
        except ValueError:
            return self.app(environ, start_response)
        token = request.pop("ClientRequestToken", None)
        if not token:
            return self.app(environ, start_response)
        now = time.monotonic()
        self.done = {k: v for k, v in self.done.items() if now - v[0] < TOKEN_WINDOW_SECS}
        digest = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()
        if token in self.done:
            _, seen, status, headers, body = self.done[token]
            if seen != digest:
                status, headers, body = mismatch()
            start_response(status, headers)
            return [body]

        answer = {}

        def capture(status, headers, exc_info=None):
            answer["status"], answer["headers"] = status, headers
            return start_response(status, headers, exc_info)

        body = b"".join(self.app(environ, capture))
        if answer.get("status", "").startswith("200"):
            self.done[token] = (now, digest, answer["status"], answer["headers"], body)
        return [body]


def mismatch():
    body = json.dumps(
        {
            "__type": "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",
            "message": "The request uses the same client token as a previous, but non-identical request.",
        }
    ).encode()
    headers = [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(body)))]
    return "400 Bad Request", headers, body


class KeepAliveWsgi(BaseHTTPRequestHandler):
    """One HTTP/1.1 connection: reads each whole request, runs the WSGI app under the server's
    lock (one request at a time in the whole server), answers with a Content-Length so the
    connection can carry the next request."""

    protocol_version = "HTTP/1.1"
    # The body follows the headers at once: with Nagle's algorithm on a kept-alive connection, that
    # second small segment would wait for the client's delayed ACK (40 ms per request).
    disable_nagle_algorithm = True

    def do_request(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            # Unread chunks would be taken for the next request on this connection.
            self.close_connection = True
            self.send_error(411, "chunked request bodies are not supported; send a Content-Length")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        environ = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path, "latin-1"),
            "QUERY_STRING": query,
            "RAW_URI": self.path,
            "REQUEST_URI": self.path,
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        if "Content-Type" in self.headers:
            environ["CONTENT_TYPE"] = self.headers["Content-Type"]
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = f"{environ[key]},{value}" if key in environ else value
        answer = {}

        def start_response(status, headers, exc_info=None):
            answer["status"], answer["headers"] = status, headers

        try:
            with self.server.lock:
                chunks = self.server.app(environ, start_response)
                try:
                    data = b"".join(chunks)
                finally:
                    if hasattr(chunks, "close"):
                        chunks.close()
        except Exception:  # moto's own failure: a 500 the SDK reports, and the trace in the log
            traceback.print_exc()
            self.close_connection = True
            self.send_error(500, "the emulator failed; see its log")
            return
        code, _, reason = answer["status"].partition(" ")
        self.send_response(int(code), reason)
        for name, value in answer["headers"]:
            if name.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_request

    def log_message(self, format, *args):
        pass


def main() -> None:
    port = int(sys.argv[1])
    server = ThreadingHTTPServer(("127.0.0.1", port), KeepAliveWsgi)
    server.daemon_threads = True
    server.app = IdempotentTransactions(DomainDispatcherApplication(create_backend_app))
    server.lock = threading.Lock()
    print(f"moto on http://127.0.0.1:{port} (keep-alive, one request at a time)", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
