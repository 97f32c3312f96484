"""A tiny HTTP server on 127.0.0.1 for tests of the HTTP source reader (no mocks).

Routes are mutable: a test may change a route's body or headers between requests. A route with
``stall=True`` holds the request until the server stops, to provoke client timeouts.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    stall: bool = False
    head_status: int | None = None  # answer HEAD with this status instead (e.g. 405)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out closes its socket; the broken pipe is expected noise.
        pass


class LoopbackServer:
    """``with LoopbackServer() as server: server.routes["/x"] = Route(...)``."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str]] = []
        self._release = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._release.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._respond(with_body=True)

            def do_HEAD(self) -> None:
                self._respond(with_body=False)

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _respond(self, *, with_body: bool) -> None:
                path = urlsplit(self.path).path
                server.requests.append((self.command, path))
                route = server.routes.get(path) or Route(404, b"not found")
                if route.stall:
                    server._release.wait(timeout=10)
                    self.close_connection = True
                    return
                status = route.status
                if self.command == "HEAD" and route.head_status is not None:
                    status = route.head_status
                self.send_response(status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                if with_body:
                    self.wfile.write(route.body)

        return Handler
