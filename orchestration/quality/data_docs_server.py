"""A small local web server for the Data Docs folder, so the Dagster UI can link a check's Data Docs page
(a browser does not open file:// links from a web page). `spine-pipeline ui` starts it beside the UI on
127.0.0.1:DATA_DOCS_PORT; it serves DATA_DIR/data_docs read-only and nothing else.

    python -m orchestration.quality.data_docs_server DOCS_DIR PORT
"""

from __future__ import annotations

import functools
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HOST = "127.0.0.1"


def docs_url(port: int, docs_dir: Path, page: Path) -> str:
    return f"http://{HOST}:{port}/{page.relative_to(docs_dir).as_posix()}"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


def make_server(docs_dir: Path, port: int) -> ThreadingHTTPServer:
    docs_dir.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(_QuietHandler, directory=str(docs_dir))
    return ThreadingHTTPServer((HOST, port), handler)


def main(argv: list[str] | None = None) -> int:
    docs_dir, port = argv or sys.argv[1:]
    server = make_server(Path(docs_dir), int(port))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
