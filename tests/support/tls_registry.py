"""A registry on loopback that speaks real TLS, reached through a real CONNECT proxy.

The production probe transport (`HttpsTransport`) connects to `<host>:443` with certificate
verification, directly or through `HTTPS_PROXY`. To run it unchanged on this machine:

- `make_certificates(tmp, hosts)`: a throwaway certificate authority and a server certificate
  for the registry hosts, written as PEM files (the CA file is what `AWS_CA_BUNDLE` names);
- `tls_registry(...)`: a TLS server on a free loopback port that answers each request according to
  the repository in its path: a status, or a malformed answer (`BEHAVIOURS`); repository
  `token-flow` asks for a Bearer token (401 with a challenge whose realm is `/token/` on the
  requested host), which `GET /token/` issues (`TOKEN`);
- `connect_proxy(...)`: an HTTP proxy on loopback that accepts `CONNECT <host>:443`, records the
  request line and headers, and tunnels to the TLS registry whatever the host.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
import select
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# Repository (first path component after /v2/) -> what the registry sends back.
BEHAVIOURS = {
    "bad-status": b"NOT-HTTP garbage\r\n\r\n",  # http.client.BadStatusLine
    "long-header": b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n",  # LineTooLong
    "hang-up": b"",  # closed without an answer: RemoteDisconnected
    "silent": None,  # never answers: the probe's timeout
}


TOKEN = "tls-registry-token"
_TOKEN_ANSWER = json.dumps({"token": TOKEN}).encode()


def _token_flow(head: bytes, path: str) -> bytes | None:
    """The answers of a registry that wants a Bearer token (as ECR Public does), else None."""
    if path.startswith("/token/"):
        return (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(_TOKEN_ANSWER)}\r\n\r\n".encode()
            + _TOKEN_ANSWER
        )
    if not path.startswith("/v2/token-flow/"):
        return None
    if f"Bearer {TOKEN}".encode() in head:
        return b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    host = re.search(rb"(?im)^host: *([^\r:]+)", head)
    realm = f"https://{host[1].decode() if host else ''}/token/"
    return (
        f'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm="{realm}",service="x"\r\n'
        "Content-Length: 0\r\n\r\n"
    ).encode()


@dataclass(frozen=True)
class CertificateFiles:
    ca_file: Path
    cert_file: Path
    key_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificates(directory: Path, hosts: list[str]) -> CertificateFiles:
    """A CA and a server certificate (valid for `hosts` and 127.0.0.1) signed by it."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("ecr-token-rotator test CA"))
        .issuer_name(_name("ecr-token-rotator test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(host) for host in hosts]
    names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(hosts[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.OID_SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = CertificateFiles(
        directory / "ca.pem", directory / "server.pem", directory / "server-key.pem"
    )
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


@dataclass
class Seen:
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (line, headers)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, head: bytes) -> None:
        line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for header in header_lines:
            name, _, value = header.partition(":")
            if name:
                headers[name.strip().lower()] = value.strip()
        with self.lock:
            self.requests.append((line, headers))


def _read_head(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n\r\n", 1)[0]


@dataclass
class Server:
    port: int
    seen: Seen
    stop: threading.Event


Handle = Callable[[socket.socket], None]


def _serve(listener: socket.socket, stop: threading.Event, handle: Handle) -> None:
    listener.settimeout(0.05)
    while not stop.is_set():
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        except OSError:
            return
        threading.Thread(target=handle, args=(connection,), daemon=True).start()


@contextmanager
def _listening(make_handle: Callable[[Seen, threading.Event], Handle]) -> Iterator[Server]:
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    seen = Seen()
    server = Server(listener.getsockname()[1], seen, stop)
    handle = make_handle(seen, stop)
    thread = threading.Thread(target=_serve, args=(listener, stop, handle), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        thread.join()
        listener.close()


@contextmanager
def tls_registry(ca: CertificateFiles, status: int = 200) -> Iterator[Server]:
    """Answers HEAD with `status`, or a repository's BEHAVIOURS entry."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(ca.cert_file, ca.key_file)

    def handler(seen: Seen, stop: threading.Event) -> Handle:
        def handle(raw: socket.socket) -> None:
            with raw:
                try:
                    connection = context.wrap_socket(raw, server_side=True)
                except (ssl.SSLError, OSError):
                    return  # the client refused our certificate
                with connection:
                    head = _read_head(connection)
                    seen.add(head)
                    path = head.split(b" ")[1].decode() if head.count(b" ") >= 2 else ""
                    repository = path.removeprefix("/v2/").split("/", 1)[0]
                    answer = _token_flow(head, path) or BEHAVIOURS.get(
                        repository,
                        f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n".encode(),
                    )
                    if answer is None:
                        stop.wait()
                        return
                    connection.sendall(answer)

        return handle

    with _listening(handler) as server:
        yield server


@contextmanager
def connect_proxy(target_port: int) -> Iterator[Server]:
    """Tunnels every `CONNECT` to 127.0.0.1:`target_port`, recording the CONNECT requests."""

    def handler(seen: Seen, stop: threading.Event) -> Handle:
        def handle(client: socket.socket) -> None:
            with client:
                head = _read_head(client)
                seen.add(head)
                if not head.startswith(b"CONNECT "):
                    client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                    return
                with socket.create_connection(("127.0.0.1", target_port)) as upstream:
                    client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    _pipe(client, upstream, stop)

        return handle

    with _listening(handler) as server:
        yield server


def _pipe(a: socket.socket, b: socket.socket, stop: threading.Event) -> None:
    peers = {a: b, b: a}
    while not stop.is_set():
        readable, _, _ = select.select(list(peers), [], [], 0.05)
        for sock in readable:
            try:
                data = sock.recv(65536)
                if data:
                    peers[sock].sendall(data)
            except OSError:  # one side reset the connection (a refused certificate)
                return
            if not data:
                return
