"""Runs moto (DynamoDB + SES emulator) single-threaded on a loopback port.

moto evaluates a conditional write and then applies it without a lock, so under concurrent requests
two conditional writes can both succeed, which real DynamoDB never allows. Serving one request at a
time restores DynamoDB's atomicity, so the race tests (exactly one winner) test our code, not moto's
threading.

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
import time

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

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


def main() -> None:
    port = int(sys.argv[1])
    app = IdempotentTransactions(DomainDispatcherApplication(create_backend_app))
    run_simple(
        "127.0.0.1",
        port,
        app,
        threaded=False,
        use_reloader=False,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
