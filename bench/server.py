"""A minimal keep-alive HTTP/1.1 server (plain sockets) for the end-to-end benchmark (bench/run.py).

Accepts any POST (reads the body it announces) and answers every request with one fixed
finalized-grant JSON, shaped so that the official SDK's OpenAPI response validation accepts it.
Nothing is verified: this measures the client side. Run in its own process so that client and
server do not share a GIL:

    python bench/server.py PORT_FILE     # binds 127.0.0.1:0, writes the port to PORT_FILE

It exits by itself after --max-seconds (default 300) or when its stdin closes.
"""

import json
import os
import re
import socket
import sys
import threading


def grant_json(port: int) -> bytes:
    base = f"http://127.0.0.1:{port}"
    return json.dumps({
        "access_token": {
            "value": "T",
            "manage": f"{base}/token/1",
            "expires_in": 600,
            "access": [{"type": "outgoing-payment", "actions": ["create", "read"],
                        "identifier": f"{base}/alice"}],
        },
        "continue": {"access_token": {"value": "C"}, "uri": f"{base}/continue/1"},
    }, separators=(",", ":")).encode()


_CONTENT_LENGTH = re.compile(rb"(?im)^content-length[ \t]*:[ \t]*([0-9]+)[ \t]*$")


def serve_connection(conn: socket.socket, response: bytes) -> None:
    """HTTP/1.1 keep-alive on one connection: read a head (and the body its Content-Length
    announces), answer with ``response``, repeat until the client closes. Hand-rolled rather
    than http.server, whose per-header parsing would otherwise weigh on the request that sends
    more headers (the signed one) and blur what is measured: the client."""
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = b""
    with conn:
        while True:
            while b"\r\n\r\n" not in buf:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
            head, _, buf = buf.partition(b"\r\n\r\n")
            match = _CONTENT_LENGTH.search(head)
            length = int(match.group(1)) if match else 0
            while len(buf) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
            buf = buf[length:]
            conn.sendall(response)


def main() -> int:
    port_file = sys.argv[1]
    max_seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 300.0
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    body = grant_json(port)
    response = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)

    def accept_loop() -> None:
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=serve_connection, args=(conn, response), daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()
    tmp = port_file + ".tmp"
    with open(tmp, "w") as handle:
        handle.write(str(port))
    os.replace(tmp, port_file)
    # Stop when the parent closes our stdin, or after max_seconds at the latest.
    stopper = threading.Thread(target=sys.stdin.read, daemon=True)
    stopper.start()
    stopper.join(max_seconds)
    listener.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
