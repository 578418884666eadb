"""A unix datagram socket that records what the daemon sends to it, for tests that stand in for
systemd: its $NOTIFY_SOCKET, or journald's /run/systemd/journal/socket."""
import os
import socket
import threading
import time


class DatagramListener:
    """Binds `path` and appends (monotonic time, parse(bytes)) for every datagram, on a thread."""

    def __init__(self, path, parse):
        self.path = str(path)
        self.parse = parse
        self.received = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.closed = False
        self.thread = threading.Thread(target=self._receive, daemon=True)
        self.thread.start()

    def _receive(self):
        while not self.closed:
            try:
                data = self.sock.recv(1 << 20)
            except socket.timeout:
                continue
            self.received.append((time.monotonic(), self.parse(data)))

    def close(self):
        self.closed = True
        self.thread.join()
        self.sock.close()
        os.unlink(self.path)
