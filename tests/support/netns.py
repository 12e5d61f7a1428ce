"""A client in a network namespace of its own, joined to the host by a veth pair, that can be made to vanish
without a FIN: its link goes down, so it neither reads nor acknowledges anything more (a phone out of coverage).
Needs root and iproute2 (`ip`)."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import uuid

CLIENT = r"""
import socket, sys, time
host, port, path, auth = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
sock = socket.create_connection((host, port), timeout=30)
sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {auth}\r\nAccept: text/event-stream\r\n\r\n"
             .encode())
seen = b""
while b"event: heartbeat" not in seen:
    chunk = sock.recv(65536)
    if not chunk:
        sys.exit("server closed the stream")
    seen += chunk
print("live", flush=True)
time.sleep(3600)  # never reads again, never closes
"""


def available() -> bool:
    return os.geteuid() == 0 and shutil.which("ip") is not None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


class VanishingClient:
    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:6]
        self.ns, self.host_if, self.client_if = f"inks-{tag}", f"vh{tag}", f"vc{tag}"
        net = f"10.{random.randint(64, 250)}.{random.randint(0, 255)}"
        self.host_ip, self.client_ip = f"{net}.1", f"{net}.2"
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> VanishingClient:
        _ip("netns", "add", self.ns)
        _ip("link", "add", self.host_if, "type", "veth", "peer", "name", self.client_if)
        _ip("link", "set", self.client_if, "netns", self.ns)
        _ip("addr", "add", f"{self.host_ip}/30", "dev", self.host_if)
        _ip("link", "set", self.host_if, "up")
        _ip("-n", self.ns, "addr", "add", f"{self.client_ip}/30", "dev", self.client_if)
        _ip("-n", self.ns, "link", "set", self.client_if, "up")
        _ip("-n", self.ns, "link", "set", "lo", "up")
        return self

    def open_stream(self, port: int, path: str, authorization: str) -> None:
        """Open the stream from inside the namespace; returns once a heartbeat arrived."""
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, sys.executable, "-c", CLIENT, self.host_ip, str(port), path,
             authorization], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.strip() == "live", self.proc.stderr.read() if self.proc.stderr else line

    def vanish(self) -> None:
        """The client's link goes down: the server's packets to it are dropped, and nothing comes back."""
        _ip("-n", self.ns, "link", "set", self.client_if, "down")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
        subprocess.run(["ip", "link", "del", self.host_if], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)
