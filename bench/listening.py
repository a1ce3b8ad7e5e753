"""Listening sockets for the benchmark's servers: SO_REUSEPORT lets several processes share
one port, and the kernel spreads the connections among them (the production shape)."""

from __future__ import annotations

import socket

READY = "serving on"  # what every benchmark server prints once it accepts connections


def shared_listener(host: str, port: int) -> socket.socket:
    """A socket bound with SO_REUSEPORT, so that another process may bind the same port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind((host, port))
    listener.set_inheritable(True)
    return listener
