"""A real HTTP server on 127.0.0.1 (random port, own thread) serving in-memory files.

It records every request path, so a test can assert that a second download made none.

Example:
    >>> with FileServer({"a.txt": b"hi"}) as server:
    ...     import urllib.request
    ...     urllib.request.urlopen(server.url("a.txt")).read()
    b'hi'
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FileServer:
    """Serve ``files`` (URL path without the leading slash → bytes); 404 for anything else."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = dict(files)
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
                name = self.path.lstrip("/")
                server.requests.append(name)
                body = server.files.get(name)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, name: str) -> str:
        """The URL of the served file ``name``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/{name}"

    def __enter__(self) -> FileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
