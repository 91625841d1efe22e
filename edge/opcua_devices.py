"""An OPC UA device of the edge's device file (`protocol: opcua`), validated with pydantic like the Modbus ones.

    - id: plc
      protocol: opcua
      endpoint: opc.tcp://192.168.10.10:4840/plant     # no credentials in the URL
      security:                                        # optional; unset: SecurityPolicy None
        policy: Basic256Sha256                         # or Aes128Sha256RsaOaep, Aes256Sha256RsaPss
        mode: SignAndEncrypt                           # or Sign
        certificate: /etc/wastewatch/edge-opcua.der    # the edge's application certificate (DER or PEM)
        private_key: /etc/wastewatch/edge-opcua.pem
        private_key_password_env: WASTEWATCH_EDGE_OPCUA_KEY_PASSWORD   # optional: the key is encrypted
        server_certificate: /etc/wastewatch/plc.der    # optional: the server's certificate to trust
      username: wastewatch                             # optional login; the password comes from the environment
      password_env: WASTEWATCH_EDGE_OPCUA_PASSWORD
      # or a certificate login (an X509 identity token, signed with the user's key; needs security):
      # user_certificate: /etc/wastewatch/edge-user.der
      # user_private_key: /etc/wastewatch/edge-user.pem
      # user_private_key_password_env: WASTEWATCH_EDGE_OPCUA_USER_KEY_PASSWORD
      period_s: 1                                      # the subscription's publishing interval
      timeout_s: 4
      retries: 2
      repeat_unchanged: true                           # every period_s the unchanged values again (default)
      points:
        - {sensor: t_primary, node_id: "ns=2;s=Plant.TPrimary", scale: 1, offset: 0}
      status:
        - {node_id: "ns=2;s=Plant.TcBreak", when_set: malfunction, covers: [t_primary]}   # a Boolean node
        - {node_id: "ns=2;s=Cems.State", values: {1: maintenance, 2: malfunction}}       # an integer node

No password is ever in the file: `password_env` and the `*_password_env` fields name the environment
variables that hold them.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from edge.mapping import check_mapping, covered_sensors
from edge.sources import SampleStatus
from wastewatch.topics import ID_PATTERN

# ns=<0..65535>; then i=<uint32> | s=<text> | g=<guid> | b=<base64> (OPC UA Part 6, 5.3.1.10)
NODE_ID = re.compile(
    r"^(?:ns=(?P<ns>\d{1,5});)?(?:i=(?P<i>\d{1,10})|s=[^\x00-\x1f\x7f]{1,512}"
    r"|g=[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|b=[A-Za-z0-9+/]{1,512}={0,2})$"
)
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"


def check_node_id(value: str) -> str:
    match = NODE_ID.match(value)
    if match is None:
        raise ValueError("not an OPC UA node id (ns=<index>;i=<number>, ;s=<name>, ;g=<guid> or ;b=<base64>)")
    if match["ns"] is not None and int(match["ns"]) > 65_535:
        raise ValueError("namespace index above 65535")
    if match["i"] is not None and int(match["i"]) > 0xFFFF_FFFF:
        raise ValueError("numeric identifier above 4294967295")
    return value


NodeId = Annotated[str, Field(min_length=3, max_length=520), AfterValidator(check_node_id)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OpcUaPoint(_Strict):
    """One mapped node: its value (a number or a Boolean) × scale + offset feeds the sensor."""

    sensor: str = Field(pattern=ID_PATTERN)
    node_id: NodeId
    scale: float = Field(default=1.0, allow_inf_nan=False)
    offset: float = Field(default=0.0, allow_inf_nan=False)


class OpcUaStatus(_Strict):
    """A status node: a Boolean (or any number, non-zero = set) gives `when_set`; an integer gives `values[value]`."""

    node_id: NodeId
    when_set: SampleStatus | None = None
    values: dict[Annotated[int, Field(ge=-(2**31), le=2**32 - 1)], SampleStatus] | None = None
    covers: list[Annotated[str, Field(pattern=ID_PATTERN)]] | None = Field(
        default=None, description="sensors of this device it covers; unset: all of them",
    )

    @model_validator(mode="after")
    def _one_form(self) -> OpcUaStatus:
        if (self.when_set is None) == (not self.values):
            raise ValueError("a status node needs either when_set (maintenance or malfunction) or values ({node value: maintenance|malfunction})")
        return self


SecurityPolicyName = Literal["Basic256Sha256", "Aes128Sha256RsaOaep", "Aes256Sha256RsaPss"]  # OPC UA Part 7's current RSA policies


class OpcUaSecurity(_Strict):
    """A secure channel with the edge's own certificate; the server's certificate pinned when given."""

    policy: SecurityPolicyName = "Basic256Sha256"
    mode: Literal["Sign", "SignAndEncrypt"] = "SignAndEncrypt"
    certificate: str = Field(min_length=1, max_length=4096, description="the edge's application certificate (DER or PEM)")
    private_key: str = Field(min_length=1, max_length=4096, description="its private key (PEM or DER)")
    private_key_password_env: str | None = Field(
        default=None, pattern=ENV_NAME, description="the environment variable holding the private key's password; unset: the key is not encrypted",
    )
    server_certificate: str | None = Field(
        default=None, min_length=1, max_length=4096,
        description="the server's certificate to trust; unset: the one its endpoint presents is taken as it is",
    )


class OpcUaDevice(_Strict):
    """An OPC UA server (a PLC's, a CEMS logger's, a gateway's): its nodes subscribed to by data change."""

    protocol: Literal["opcua"]
    id: str = Field(pattern=ID_PATTERN)
    endpoint: str = Field(min_length=12, max_length=1024)
    security: OpcUaSecurity | None = None
    username: str | None = Field(default=None, min_length=1, max_length=256)
    password_env: str | None = Field(default=None, pattern=ENV_NAME, description="the environment variable holding the password")
    user_certificate: str | None = Field(
        default=None, min_length=1, max_length=4096, description="a certificate login (X509 identity token): the user's certificate",
    )
    user_private_key: str | None = Field(default=None, min_length=1, max_length=4096, description="the key that signs the certificate login")
    user_private_key_password_env: str | None = Field(
        default=None, pattern=ENV_NAME, description="the environment variable holding the user key's password; unset: not encrypted",
    )
    period_s: float = Field(default=1.0, ge=0.05, le=86_400, description="the subscription's publishing interval")
    timeout_s: float = Field(default=4.0, gt=0, le=60, description="one request's timeout")
    retries: int = Field(default=2, ge=0, le=10, description="quick retries of a lost connection before the device counts as offline")
    repeat_unchanged: bool = Field(
        default=True,
        description="every period_s, send each sensor that did not change again (its last value and status): the averages "
        "count one reading per period of the plant file; false: changes only",
    )
    points: list[OpcUaPoint] = Field(min_length=1)
    status: list[OpcUaStatus] = Field(default_factory=list)

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        if any(ord(c) < 33 or ord(c) == 127 for c in value):
            raise ValueError("no spaces or control characters")
        try:
            parts = urlsplit(value)
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"not opc.tcp://host:port/path ({exc})") from None
        if parts.scheme != "opc.tcp" or not parts.hostname:
            raise ValueError("not opc.tcp://host:port/path")
        if "@" in parts.netloc:
            raise ValueError("no user or password in the endpoint: use username and password_env")
        if port == 0:
            raise ValueError("port 0")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> OpcUaDevice:
        if (self.username is None) != (self.password_env is None):
            raise ValueError("username and password_env come together (the password is read from that environment variable)")
        if (self.user_certificate is None) != (self.user_private_key is None):
            raise ValueError("user_certificate and user_private_key come together (the key signs the certificate login)")
        if self.user_certificate is None and self.user_private_key_password_env is not None:
            raise ValueError("user_private_key_password_env without user_certificate and user_private_key")
        if self.user_certificate is not None and self.username is not None:
            raise ValueError("one login: username and password_env, or user_certificate and user_private_key")
        if self.user_certificate is not None and self.security is None:
            raise ValueError("a certificate login needs security (its token is signed and sent over the secure channel)")
        check_mapping(self.points, self.status)
        return self

    def covered(self, status: OpcUaStatus) -> list[str]:
        return covered_sensors(self.points, status)

    @property
    def address(self) -> str:
        return self.endpoint + (f" ({self.security.policy} {self.security.mode})" if self.security else "")
