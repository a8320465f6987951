"""A small local web server for the Data Docs folder, so the Dagster UI can link a check's Data Docs page
(a browser does not open file:// links from a web page). `spine-pipeline ui` starts it beside the UI on
127.0.0.1:DATA_DOCS_PORT; it serves DATA_DIR/data_docs read-only and nothing else.

    python -m orchestration.quality.data_docs_server DOCS_DIR PORT [PARENT_PID]

With PARENT_PID (what `spine-pipeline ui` passes: its own process, which becomes `dagster dev`), the server ends
when that process has ended, however it ended, so it never keeps the port from the next `spine-pipeline ui`.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HOST = "127.0.0.1"
PARENT_POLL_SECONDS = 1.0


def docs_url(port: int, docs_dir: Path, page: Path) -> str:
    return f"http://{HOST}:{port}/{page.relative_to(docs_dir).as_posix()}"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


def make_server(docs_dir: Path, port: int) -> ThreadingHTTPServer:
    docs_dir.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(_QuietHandler, directory=str(docs_dir))
    return ThreadingHTTPServer((HOST, port), handler)


def _end_with_parent(server: ThreadingHTTPServer, parent: int) -> None:
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        server.shutdown()

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    docs_dir, port, *parent = argv or sys.argv[1:]
    try:
        server = make_server(Path(docs_dir), int(port))
    except OSError as exc:
        print(f"Data Docs server: port {port} on {HOST} is not free ({exc.strerror}): the checks' Data Docs links "
              "will not open; set DATA_DOCS_PORT to a free port.", file=sys.stderr)
        return 1
    if parent:
        _end_with_parent(server, int(parent[0]))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
