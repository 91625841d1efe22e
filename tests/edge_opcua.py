"""A real OPC UA server for the edge's tests and benchmark: asyncua's own `Server` on a free loopback port,
on an asyncio loop of its own thread, with a namespace the test writes (the Kotim PLC's variables and
a status word), optionally secured (Basic256Sha256, Aes128Sha256RsaOaep or Aes256Sha256RsaPss; Sign or
SignAndEncrypt) with a username and password or a certificate login.

`OpcUaPlant.stop()` and `.start()` again serve the same port and the same namespace (a restart of the
PLC's server). Certificates (RSA 2048, made with `cryptography`, see `make_opcua_certificates`) carry the
application URI in their subjectAltName as OPC UA wants.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asyncua import ua
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.server import Server
from asyncua.server.user_managers import UserManager
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from wastewatch.runtime import free_port

NAMESPACE = "urn:wastewatch:test:plant"
EDGE_URI = "urn:wastewatch:edge"
SERVER_URI = "urn:wastewatch:test-opcua"
# variable name -> (initial value, its OPC UA type)
VARIABLES: dict[str, tuple[Any, ua.VariantType]] = {
    "TPrimary": (850.5, ua.VariantType.Double),
    "TSecondary": (1010.25, ua.VariantType.Double),
    "O2": (10.75, ua.VariantType.Double),
    "State": (0, ua.VariantType.Int32),  # 0 running, 1 maintenance, 2 malfunction
    "TcBreak": (False, ua.VariantType.Boolean),
}


def node_id(name: str, ns: int = 2) -> str:
    return f"ns={ns};s=Plant.{name}"


# the device file's points and status entries for the server's namespace (registered first: ns=2)
OPCUA_POINTS = [
    {"sensor": "t_primary", "node_id": node_id("TPrimary")},
    {"sensor": "t_secondary", "node_id": node_id("TSecondary")},
    {"sensor": "o2", "node_id": node_id("O2")},
]
OPCUA_STATUS = [
    {"node_id": node_id("State"), "values": {1: "maintenance", 2: "malfunction"}, "covers": ["o2"]},
    {"node_id": node_id("TcBreak"), "when_set": "malfunction", "covers": ["t_primary"]},
]


def opcua_device(device_id: str, endpoint: str, period_s: float = 0.1, **extra: object) -> dict[str, object]:
    return {"id": device_id, "protocol": "opcua", "endpoint": endpoint, "period_s": period_s, "timeout_s": 2.0,
            "retries": 1, "points": OPCUA_POINTS, "status": OPCUA_STATUS, **extra}


@dataclass(frozen=True)
class OpcUaCertificates:
    server_cert: Path
    server_key: Path
    edge_cert: Path
    edge_key: Path
    user_cert: Path  # a certificate login's (an X509 identity token), its own key pair
    user_key: Path


def _certificate(directory: Path, name: str, uri: str) -> tuple[Path, Path]:
    now = dt.datetime.now(dt.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.UniformResourceIdentifier(uri), x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, True, True, True, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / f"{name}.der", directory / f"{name}.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


def make_opcua_certificates(directory: Path) -> OpcUaCertificates:
    """Self-signed RSA certificates for the test server and for the edge (DER certificate, PEM key)."""
    server_cert, server_key = _certificate(directory, "server", SERVER_URI)
    edge_cert, edge_key = _certificate(directory, "edge", EDGE_URI)
    user_cert, user_key = _certificate(directory, "user", "urn:wastewatch:edge:user")
    return OpcUaCertificates(server_cert, server_key, edge_cert, edge_key, user_cert, user_key)


def encrypted_key(key_path: Path, password: str) -> Path:
    """A copy of a PEM private key encrypted with `password` (PKCS#8, the best encryption `cryptography` has)."""
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    encrypted = key_path.with_name(f"{key_path.stem}-encrypted-{secrets.token_hex(4)}.pem")  # a new file each time
    encrypted.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.BestAvailableEncryption(password.encode())))
    return encrypted


class _Users(UserManager):
    """asyncua's user manager: usernames with their passwords, and the certificates (DER) that may log in;
    anything else is refused (and counted)."""

    def __init__(self, users: dict[str, str], certificates: tuple[bytes, ...] = ()) -> None:
        self.users = users
        self.certificates = certificates
        self.refused = 0
        self.certificate_logins = 0

    def get_user(self, iserver: Any, username: str | None = None, password: str | None = None, certificate: Any = None) -> User | None:
        # (with a username token asyncua passes the secure channel's certificate: the password decides)
        if username is not None:
            if self.users.get(username) == password:
                return User(role=UserRole.User)
        elif certificate is not None and certificate in self.certificates:
            self.certificate_logins += 1
            return User(role=UserRole.User)
        self.refused += 1
        return None


class OpcUaPlant:
    """asyncua's server with the plant's namespace; `write` changes a variable while the edge is subscribed."""

    def __init__(self, certificates: OpcUaCertificates | None = None, users: dict[str, str] | None = None,
                 variables: dict[str, tuple[Any, ua.VariantType]] | None = None, *,
                 policy: str = "Basic256Sha256_SignAndEncrypt", certificate_users: tuple[Path, ...] = ()) -> None:
        """`policy` names the one ua.SecurityPolicyType served with `certificates`; `certificate_users` are the
        certificates that may log in (an X509 identity token)."""
        self.port = free_port()
        self.endpoint = f"opc.tcp://127.0.0.1:{self.port}/wastewatch/"
        self.certificates = certificates
        self.policy = getattr(ua.SecurityPolicyType, policy)
        logins = tuple(x509.load_der_x509_certificate(p.read_bytes()).public_bytes(serialization.Encoding.DER) for p in certificate_users)
        self.users = _Users(users or {}, logins) if users is not None or logins else None
        self.variables = dict(variables or VARIABLES)
        self.values: dict[str, Any] = {name: value for name, (value, _) in self.variables.items()}  # kept over restarts
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="opcua-server", daemon=True)
        self._thread.start()
        self._server: Server | None = None
        self._nodes: dict[str, Any] = {}

    def _run(self, coro: Any, timeout_s: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout_s)

    async def _start(self) -> None:
        server = Server(user_manager=self.users) if self.users is not None else Server()
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name("wastewatch test PLC")
        if self.certificates is not None:
            await server.set_application_uri(SERVER_URI)
            server.set_security_policy([self.policy])
            await server.load_certificate(str(self.certificates.server_cert))
            await server.load_private_key(str(self.certificates.server_key))
        if self.users is not None:
            server.set_identity_tokens([ua.UserNameIdentityToken] + ([ua.X509IdentityToken] if self.users.certificates else []))
        ns = await server.register_namespace(NAMESPACE)
        plant = await server.nodes.objects.add_object(ua.NodeId.from_string(f"ns={ns};s=Plant"), ua.QualifiedName("Plant", ns))
        self._nodes = {}
        for name, (_, kind) in self.variables.items():
            node = await plant.add_variable(ua.NodeId.from_string(node_id(name, ns)), ua.QualifiedName(name, ns),
                                            ua.Variant(self.values[name], kind))
            await node.set_writable()
            self._nodes[name] = node
        await server.start()
        self._server = server

    def start(self) -> OpcUaPlant:
        self._run(self._start())
        return self

    def stop(self) -> None:
        """Stop serving (the port is free again; the values written are kept for the next start)."""
        if self._server is not None:
            server, self._server = self._server, None
            self._run(self._stop(server))

    @staticmethod
    async def _stop(server: Server) -> None:
        # The connections drop first, as when a PLC restarts or a cable is pulled: asyncua's stop() waits for
        # its sessions' close tasks, which with a client still subscribed took over 30 s on a loaded machine.
        binary = getattr(server, "bserver", None)
        listener = getattr(binary, "_server", None)
        if listener is not None:
            listener.close()  # first no new connection (the edge would reconnect to a server going away)
        for protocol in list(getattr(binary, "clients", [])):
            transport = getattr(protocol, "transport", None)
            if transport is not None:
                transport.abort()
        try:
            await asyncio.wait_for(server.stop(), 10)
        except TimeoutError:  # asyncua still closing a session: the port is free anyway
            pass
        if listener is not None:
            await listener.wait_closed()

    def write(self, name: str, value: Any, status: int | None = None) -> None:
        """Set a variable; with `status` (a StatusCode, e.g. ua.StatusCodes.BadSensorFailure) as a bad DataValue."""
        _, kind = self.variables[name]
        self.values[name] = value

        async def write() -> None:
            node = self._nodes[name]
            variant = ua.Variant(value, kind)
            if status is None:
                await node.write_value(variant)
            else:
                await node.write_value(ua.DataValue(variant, ua.StatusCode(ua.UInt32(status))))

        self._run(write())

    def animate(self, period_s: float) -> None:
        """Change every numeric variable (+0.5) every `period_s`, on the server's loop, until `close()` (the benchmark)."""

        async def change() -> None:
            while True:
                await asyncio.sleep(period_s)
                for name, (_, kind) in self.variables.items():
                    if kind is ua.VariantType.Double and name in self._nodes and self._server is not None:
                        self.values[name] += 0.5
                        await self._nodes[name].write_value(ua.Variant(self.values[name], kind))

        asyncio.run_coroutine_threadsafe(change(), self._loop)

    def close(self) -> None:
        self.stop()

        async def cancel_the_rest() -> None:  # the sessions' and subscriptions' loops the server leaves behind
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self._run(cancel_the_rest())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
