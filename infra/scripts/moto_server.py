"""Runs moto (DynamoDB + SES emulator) single-threaded on a loopback port.

moto evaluates a conditional write and then applies it without a lock, so under concurrent requests
two conditional writes can both succeed, which real DynamoDB never allows. Serving one request at a
time restores DynamoDB's atomicity, so the race tests (exactly one winner) test our code, not moto's
threading.

Usage: python moto_server.py PORT
"""

import sys

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def main() -> None:
    port = int(sys.argv[1])
    app = DomainDispatcherApplication(create_backend_app)
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
