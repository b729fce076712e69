"""A hostile authorization server on 127.0.0.1, for the security tests (tests/test_security.py).

Each accepted connection gets one scripted behaviour (``HostileAS.behaviour``): it reads the
request (or not), then answers slowly, wrongly, or not at all. Standard library only, so the
floor-version leg runs it too. Every loop is bounded: a drip stops after ``max_seconds`` or at
``stop()``, whichever comes first.

Behaviours:
  ok            a 200 JSON grant answer at once (``answer`` sets the JSON)
  drip_body     headers at once (Content-Length 100000), then one body byte every ``pace`` s
  drip_headers  the status line and headers one byte every ``pace`` s
  stall_tls     (TLS only) accept the TCP connection, never answer the handshake
  drip_connect  a proxy that reads the CONNECT, then grants it one byte every ``pace`` s
  burst         headers (Content-Length 1000000) and 70000 body bytes at once, then nothing
                more until the client hangs up
  garbage_after_request  read the request, then answer with bytes that are no TLS record
  raw           send ``raw`` (bytes) as the whole answer, after reading the request
  tunnel        a proxy that grants the CONNECT, then is the TLS server at its end itself: it
                reads the request sent through the tunnel and hangs up without answering
"""
import socket
import ssl
import threading
import time
from pathlib import Path
from typing import Any, List, Optional

TLS_DIR = Path(__file__).resolve().parent / "tls"
CERT = str(TLS_DIR / "cert.pem")


def tls_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(CERT, str(TLS_DIR / "key.pem"))
    return context


class HostileAS:
    def __init__(self, behaviour: str = "ok", *, tls: bool = False, pace: float = 0.1,
                 max_seconds: float = 20.0, answer: bytes = b'{"continue":{}}',
                 raw: bytes = b"") -> None:
        self.behaviour, self.pace, self.max_seconds = behaviour, pace, max_seconds
        self.answer, self.raw = answer, raw
        self.context = tls_context() if tls else None
        self.requests: List[bytes] = []  # every request read, raw
        self.closed_by_client: List[float] = []  # monotonic times the client hung up mid-answer
        self.connections = 0
        self.serving = 0  # connections not yet closed on the server's side
        self._count = threading.Lock()
        self._stop = threading.Event()
        self._listener = socket.socket()  # (socket.create_server is Python 3.8+)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.1)
        port = self._listener.getsockname()[1]
        self.origin = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        self._threads: List[threading.Thread] = []

    def url(self, path: str = "/continue/1") -> str:
        return self.origin + path

    def __enter__(self) -> "HostileAS":
        thread = threading.Thread(target=self._accept, name="HostileAS", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._count:
                self.connections += 1
                self.serving += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(self.max_seconds)
        try:
            if self.behaviour == "stall_tls":
                self._stop.wait(self.max_seconds)
                return
            if self.context is not None:
                conn = self.context.wrap_socket(conn, server_side=True)
            request = self._read_request(conn)
            if request is None:
                return
            self.requests.append(request)
            getattr(self, "_" + self.behaviour)(conn)
        except OSError:
            pass
        finally:
            conn.close()
            with self._count:
                self.serving -= 1

    @staticmethod
    def _read_request(conn: socket.socket) -> Optional[bytes]:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body

    def _drip(self, conn: socket.socket, data: bytes) -> None:
        deadline = time.monotonic() + self.max_seconds
        for i in range(len(data)):
            if self._stop.wait(self.pace) or time.monotonic() > deadline:
                return
            try:
                conn.sendall(data[i:i + 1])
            except OSError:
                self.closed_by_client.append(time.monotonic())
                return

    def _ok(self, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                     + str(len(self.answer)).encode() + b"\r\n\r\n" + self.answer)

    def _drip_body(self, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100000\r\n\r\n")
        self._drip(conn, b"{" + b" " * 99999)

    def _drip_headers(self, conn: socket.socket) -> None:
        self._drip(conn, b"HTTP/1.1 200 OK\r\n" + b"X-Pad: padding\r\n" * 1000 + b"\r\n")

    def _drip_connect(self, conn: socket.socket) -> None:
        self._drip(conn, b"HTTP/1.1 200 Connection established\r\n\r\n")

    def _burst(self, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000000\r\n\r\n" + b" " * 70000)
        try:
            while conn.recv(65536):  # until the client hangs up (or max_seconds)
                pass
        except ConnectionResetError:  # it hung up with bytes of ours unread
            pass
        self.closed_by_client.append(time.monotonic())

    def _garbage_after_request(self, conn: Any) -> None:
        raw = conn.unwrap() if isinstance(conn, ssl.SSLSocket) else conn
        raw.sendall(b"\x17\x03\x03\x00\x05not-a-record")

    def _raw(self, conn: socket.socket) -> None:
        conn.sendall(self.raw)

    def _tunnel(self, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        with tls_context().wrap_socket(conn, server_side=True) as tls:
            request = self._read_request(tls)
            if request is not None:
                self.requests.append(request)
