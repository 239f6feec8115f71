#!/usr/bin/python3
"""End-to-end latency probe of bench/scale_proof.sh: flips the probe machine's state register on its
simulated PLC (a Modbus "write single register", as an HMI would) between running (1) and stopped
(2) at irregular intervals, and times each flip until the server's WebSocket (GET /api/v1/live,
subscribed to that machine) reports the new state. Prints one latency in ms per line on stdout;
a flip not seen within 30 s prints "lost". Stops after SECONDS.

usage: scale_probe.py MODBUS_PORT UNIT HTTP_PORT MACHINE_PATH SECONDS   (token in OEE_ADMIN_TOKEN)
"""
import base64
import json
import os
import random
import socket
import struct
import sys
import time

STATE_NAMES = {1: "running", 2: "stopped"}


def write_register(port, unit, value, tid):
    # MBAP header (transaction, protocol 0, length 6, unit), function 6, address 0, value.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(struct.pack(">HHHBBHH", tid & 0xFFFF, 0, 6, unit, 6, 0, value))
        reply = s.recv(12)
    if len(reply) < 12 or reply[7] != 6:
        raise RuntimeError(f"modbus write refused: {reply!r}")


class LiveSocket:
    """Just enough of RFC 6455 for a client: masked text frames out; text, ping and close in."""

    def __init__(self, port, token):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /api/v1/live HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                           f"Authorization: Bearer {token}\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self._recv()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError(f"no WebSocket upgrade: {head[:200]!r}")

    def _recv(self):
        data = self.sock.recv(65536)
        if not data:
            raise RuntimeError("the server closed the WebSocket")
        return data

    def _frame(self):
        """(opcode, payload) of the first whole frame in the buffer, taken out of it; None if incomplete."""
        if len(self.buf) < 2:
            return None
        b0, b1 = self.buf[0], self.buf[1]
        n, at = b1 & 0x7F, 2
        if n >= 126:
            width = 2 if n == 126 else 8
            if len(self.buf) < 2 + width:
                return None
            n, at = int.from_bytes(self.buf[2:2 + width], "big"), 2 + width
        if len(self.buf) < at + n:
            return None
        payload, self.buf = self.buf[at:at + n], self.buf[at + n:]
        return b0 & 0x0F, payload

    def send(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n))
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def receive(self, timeout_s):
        """The next text message (a dict), or None when none came within timeout_s."""
        deadline = time.monotonic() + timeout_s
        while True:
            frame = self._frame()
            if frame is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.sock.settimeout(left)
                try:
                    self.buf += self._recv()
                except socket.timeout:
                    return None
                continue
            opcode, payload = frame
            if opcode == 9:
                self.send(10, payload)
            elif opcode == 8:
                raise RuntimeError("the server closed the WebSocket")
            elif opcode == 1:
                return json.loads(payload)


def states_of(message, machine):
    items = message.get("items", []) if message.get("type") == "states" else [message]
    return [i.get("state") for i in items if i.get("type", "state") == "state" and i.get("machine") == machine]


def main():
    modbus_port, unit, http_port, machine, seconds = (int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]),
                                                      sys.argv[4], float(sys.argv[5]))
    live = LiveSocket(http_port, os.environ["OEE_ADMIN_TOKEN"])
    live.send(1, json.dumps({"type": "subscribe", "nodes": [machine]}).encode())
    end = time.monotonic() + seconds
    value, tid = 1, 0
    while time.monotonic() < end:
        value, tid = 3 - value, tid + 1
        want = STATE_NAMES[value]
        t0 = time.monotonic()
        write_register(modbus_port, unit, value, tid)
        seen = None
        while seen is None and time.monotonic() - t0 < 30:
            message = live.receive(30 - (time.monotonic() - t0))
            if message is not None and want in states_of(message, machine):
                seen = time.monotonic()
        print("lost" if seen is None else f"{(seen - t0) * 1000:.1f}", flush=True)
        # Irregular gaps, so the flips do not lock onto the edge's poll phase; the socket is read
        # meanwhile (the server drops a client that lets its messages pile up).
        gap_end = time.monotonic() + random.uniform(0.5, 2.5)
        while time.monotonic() < gap_end:
            live.receive(gap_end - time.monotonic())


if __name__ == "__main__":
    main()
