"""`python -m victor_lsp`: serve over stdio (default) or TCP on 127.0.0.1 for development.

Stdout carries only the protocol; logs go to stderr (or `--log-file`).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import BinaryIO


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m victor_lsp", description="Victor workflow language server"
    )
    parser.add_argument(
        "--stdio", action="store_true", help="serve over stdin/stdout (the default)"
    )
    parser.add_argument("--tcp", action="store_true", help="serve over TCP (development)")
    parser.add_argument("--host", default="127.0.0.1", help="TCP host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=2087, help="TCP port (default 2087)")
    parser.add_argument("--log-file", help="write logs here instead of stderr")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    args = parser.parse_args(argv)

    handler: logging.Handler = (
        logging.FileHandler(args.log_file) if args.log_file else logging.StreamHandler(sys.stderr)
    )
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        handlers=[handler],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )

    from victor_lsp.server import create_server

    server = create_server()
    if args.tcp:
        server.start_tcp(args.host, args.port)
    else:
        server.start_io(sys.stdin.buffer, _protocol_stdout())
    # pygls swallows the SystemExit of `exit`; the spec wants 1 when no `shutdown` came first
    return 0 if server.shutdown_requested else 1


def _protocol_stdout() -> BinaryIO:
    """A private handle on stdout for the protocol; fd 1 and `sys.stdout` then go to stderr,
    so that a stray print (in a user's registry module, say) cannot corrupt a message."""
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    return protocol


if __name__ == "__main__":
    sys.exit(main())
