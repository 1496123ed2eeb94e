"""moto's DynamoDB emulator, applying one request at a time.

DynamoDB applies each request (a conditional write, a transaction) atomically. moto's
own threaded server can interleave two of them, so a test of concurrent saves would
fail for the emulator's reasons: a pointer moved backwards past its condition, a
transaction applied in part. Serializing requests keeps what the real service
guarantees while still letting the tests' concurrent requests interleave between
requests. Usage: python moto_serial.py HOST PORT
"""

import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)

host, port = sys.argv[1], int(sys.argv[2])
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serial(environ, start_response):
    with lock:
        # Consume the whole response inside the lock.
        return [b"".join(app(environ, start_response))]


run_simple(host, port, serial, threaded=True, request_handler=MotoRequestHandler)
