"""Loopback ports for the operations tests: 3100-3199, the range set aside for them."""

from __future__ import annotations

import random
import socket

PORTS = range(3100, 3200)


def free_port() -> int:
    """A port in the range that nothing listens on now (random start: parallel runs differ)."""
    start = random.randrange(len(PORTS))
    for offset in range(len(PORTS)):
        port = PORTS[(start + offset) % len(PORTS)]
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free loopback port in {PORTS.start}-{PORTS.stop - 1}")
