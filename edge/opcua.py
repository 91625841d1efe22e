"""An OPC UA server as a push `Source` (asyncua): its nodes subscribed by data change, not polled.

`run(sink)` connects, creates one subscription (publishing interval `period_s`) with a monitored
item per node, and hands every batch of data changes to the sink as a `Readout`; the sink (the
poller's) stamps it with the edge's clock. The changes of one notification message become one
readout, so nodes that change together share a timestamp, as a Modbus poll's do. A value whose
StatusCode is not Good (Bad or Uncertain) is `malfunction` for its sensor (with the value the server
sent, or else the sensor's last one); a status node (a Boolean's `when_set`, an integer's `values`)
flags the sensors it covers, and a change of it re-sends their last values with the new status.
With `repeat_unchanged` (the default) every `period_s` the sensors that did not change are sent again
(a value holds until the server notifies a change), so the averages find one reading per period of
the plant file, as from a Modbus poll.

The connection is watched (asyncua's own keep-alive, a status-change notification, and a read of the
server's state whenever nothing arrived for a while); when it is lost the source retries `retries`
times at once, then reports the device offline and goes on trying with a growing pause (0.5 s up to
30 s), re-creating its subscription each time it gets back in. `read()` reads every node once
(`wastewatch edge check`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from asyncua import ua
from asyncua.client.client import Client
from asyncua.crypto.security_policies import (
    SecurityPolicy,
    SecurityPolicyAes128Sha256RsaOaep,
    SecurityPolicyAes256Sha256RsaPss,
    SecurityPolicyBasic256Sha256,
)
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.uaerrors import UaStatusCodeError
from cryptography import x509

from edge.devices import DeviceFileError
from edge.opcua_devices import OpcUaDevice, OpcUaPoint, OpcUaStatus, SecurityPolicyName
from edge.registers import scaled
from edge.sources import PushSink, Readout, SampleStatus, SourceError

logger = logging.getLogger(__name__)

RETRY_PAUSE_S = 0.2
BACKOFF_MIN_S = 0.5
BACKOFF_MAX_S = 30.0
WATCHDOG_MIN_S = 1.0  # with nothing from the server for max(this, 2 × period_s), its state is read
_RANK = {"maintenance": 1, "malfunction": 2}
_LOST = object()
_REFUSED_USER = ("BadUserAccessDenied", "BadIdentityTokenInvalid", "BadIdentityTokenRejected", "BadUserSignatureInvalid")
_POLICIES: dict[SecurityPolicyName, type[SecurityPolicy]] = {
    "Basic256Sha256": SecurityPolicyBasic256Sha256,
    "Aes128Sha256RsaOaep": SecurityPolicyAes128Sha256RsaOaep,
    "Aes256Sha256RsaPss": SecurityPolicyAes256Sha256RsaPss,
}
_REFUSED_CERT = ("BadSecurityChecksFailed", "BadCertificate", "BadSecurityPolicyRejected", "BadSecurityModeRejected", "BadNoValidCertificates")


def quiet_asyncua() -> None:
    """asyncua logs every publish at INFO and every lost connection itself; the edge reports a device's
    errors once, in its own words. Its logs come back when the edge logs at DEBUG."""
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("asyncua").setLevel(logging.CRITICAL)


def _secret(environ: Mapping[str, str], device: str, field: str, variable: str | None, what: str) -> str | None:
    """The value of the environment variable a device names for a secret (None when it names none)."""
    if variable is None:
        return None
    value = environ.get(variable)
    if value is None:
        raise DeviceFileError(f"device {device!r}: {field}: the environment variable {variable} ({what}) is not set")
    return value


def _number(value: Any) -> float | None:
    """A node's value as a float (a Boolean as 0/1); None when it is no number."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    return None


def _good(data: ua.DataValue) -> bool:
    code = data.StatusCode
    return code is None or code.is_good()


def _code_name(data: ua.DataValue) -> str:
    code = data.StatusCode
    return code.name if code is not None else "Good"


class _Handler:
    """asyncua's subscription handler: every change and every status change onto one queue."""

    def __init__(self, queue: asyncio.Queue[Any]) -> None:
        self.queue = queue

    def datachange_notification(self, node: Any, val: Any, data: Any) -> None:
        self.queue.put_nowait((node.nodeid.to_string(), data.monitored_item.Value))

    def status_change_notification(self, status: Any) -> None:
        self.queue.put_nowait(_LOST)

    def event_notification(self, event: Any) -> None:
        pass


class OpcUaSource:
    """One OPC UA device of the device file (a push source: `run`; `read` for the check)."""

    def __init__(self, spec: OpcUaDevice, environ: Mapping[str, str] = os.environ) -> None:
        self.spec = spec
        # the secrets, from the environment (never from the file): the edge does not start without one it names
        self.password = _secret(environ, spec.id, "password_env", spec.password_env, f"the password of user {spec.username!r}")
        security = spec.security
        self.key_password = _secret(environ, spec.id, "security.private_key_password_env",
                                    security.private_key_password_env if security else None, "the password of the edge's private key")
        self.user_key_password = _secret(environ, spec.id, "user_private_key_password_env", spec.user_private_key_password_env,
                                         "the password of the certificate login's key")
        # canonical node id -> the points and status entries it feeds
        self._points: dict[str, list[OpcUaPoint]] = {}
        self._statuses: dict[str, list[tuple[int, OpcUaStatus]]] = {}
        for point in spec.points:
            self._points.setdefault(ua.NodeId.from_string(point.node_id).to_string(), []).append(point)
        for i, status in enumerate(spec.status):
            self._statuses.setdefault(ua.NodeId.from_string(status.node_id).to_string(), []).append((i, status))
        self._client: Client | None = None
        self._last: dict[str, float] = {}  # the last value of each sensor
        self._bad: dict[str, bool] = {}  # a sensor whose last value's StatusCode was not Good
        self._said: dict[int, SampleStatus | None] = {}  # what each status entry says now
        self.nonfinite = 0  # values that are no finite number (NaN, a string, an array): left out

    @property
    def device(self) -> str:
        return self.spec.id

    @property
    def period_s(self) -> float:
        return self.spec.period_s

    @property
    def timeout_s(self) -> float:
        return self.spec.timeout_s

    @property
    def retries(self) -> int:
        return self.spec.retries

    def describe(self) -> str:
        return f"opcua {self.spec.address}"

    @property
    def nodes(self) -> list[str]:
        """Every node subscribed to, once each (canonical node ids)."""
        return list(dict.fromkeys([*self._points, *self._statuses]))

    # --- the connection

    def _reason(self, exc: BaseException) -> str:
        """One line on why connecting or reading failed."""
        name = type(exc).__name__
        if isinstance(exc, UaStatusCodeError):
            if name in _REFUSED_USER:
                if self.spec.user_certificate is not None:
                    who, hint = f"the certificate login {self.spec.user_certificate}", ": is that certificate a user of the server?"
                else:
                    who = f"user {self.spec.username!r}" if self.spec.username else "an anonymous session"
                    hint = f": check the password in {self.spec.password_env}" if self.spec.password_env else ": set username and password_env"
                return f"{self.spec.endpoint} refused {who} ({name}){hint}"
            if name.startswith(_REFUSED_CERT):
                return f"{self.spec.endpoint} refused the edge's certificate or security settings ({name}): is the edge's certificate trusted by the server?"
            return f"{self.spec.endpoint}: {name}"
        if isinstance(exc, TimeoutError):
            return f"no answer within {self.spec.timeout_s} s from {self.spec.endpoint}"
        if isinstance(exc, OSError | ConnectionError):
            return f"cannot connect to {self.spec.endpoint}: {name} {exc}"
        return f"{self.spec.endpoint}: {name} {exc}"

    async def _new_client(self) -> Client:
        spec = self.spec
        client = Client(spec.endpoint, timeout=spec.timeout_s)
        if spec.username is not None:
            client.set_user(spec.username)
            client.set_password(self.password or "")
        if spec.security is not None:
            sec = spec.security
            try:
                uri = _application_uri(sec.certificate)
            except (OSError, ValueError) as exc:
                raise SourceError(f"cannot read the edge's certificate {sec.certificate}: {exc}"[:300]) from None
            if uri:
                client.application_uri = uri  # the server checks it against the certificate's
            try:
                await client.set_security(
                    _POLICIES[sec.policy], certificate=sec.certificate, private_key=sec.private_key,
                    private_key_password=self.key_password, server_certificate=sec.server_certificate,
                    mode=getattr(ua.MessageSecurityMode, sec.mode),
                )
                if spec.user_certificate is not None and spec.user_private_key is not None:
                    await client.load_client_certificate(spec.user_certificate)
                    await client.load_private_key(Path(spec.user_private_key), self.user_key_password)
            except (OSError, ValueError, TypeError) as exc:
                raise SourceError(f"cannot load the security files of {spec.id}: {type(exc).__name__} {exc}"[:300]) from None
        return client

    async def connect(self) -> None:
        if self._client is not None:
            return
        try:
            async with asyncio.timeout(3 * self.spec.timeout_s + 1):
                client = await self._new_client()
                try:
                    await client.connect()
                except BaseException:
                    await _quietly(client.disconnect())
                    raise
        except SourceError:
            raise
        except (Exception, TimeoutError) as exc:
            raise SourceError(self._reason(exc)[:300]) from None
        self._client = client

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await _quietly(client.disconnect(), self.spec.timeout_s)

    # --- decoding

    def _take(self, key: str, data: ua.DataValue, changed: set[str]) -> None:
        """One node's new DataValue into the state; the sensors it changes into `changed`."""
        variant = data.Value
        raw = variant.Value if variant is not None else None
        good = _good(data)
        for point in self._points.get(key, []):
            number = _number(raw)
            if number is not None:
                value = scaled(number, point.scale, point.offset)
                if math.isfinite(value):
                    self._last[point.sensor] = value
                else:
                    self.nonfinite += 1
            elif good:
                self.nonfinite += 1
            if self._bad.get(point.sensor) != (not good):
                self._bad[point.sensor] = not good
                if not good:
                    logger.warning("%s: %s reads %s: malfunction", self.device, point.sensor, _code_name(data))
            changed.add(point.sensor)
        for index, status in self._statuses.get(key, []):
            said: SampleStatus | None
            number = _number(raw)
            if not good:
                said = "malfunction"  # the status itself is unknown: its sensors cannot be taken as valid
            elif status.when_set is not None:
                said = status.when_set if number else None
            else:
                said = (status.values or {}).get(int(number)) if number is not None and number.is_integer() else None
            if self._said.get(index, None) != said or index not in self._said:
                self._said[index] = said
                changed.update(self.spec.covered(status))

    def _readout(self, sensors: set[str]) -> Readout:
        values = {s: self._last[s] for s in sensors if s in self._last}
        status: dict[str, SampleStatus] = {}
        for sensor in values:
            if self._bad.get(sensor):
                status[sensor] = "malfunction"
        for index, said in self._said.items():
            if said is None:
                continue
            for sensor in self.spec.covered(self.spec.status[index]):
                if sensor in values and _RANK[said] > _RANK.get(status.get(sensor, ""), 0):
                    status[sensor] = said
        return Readout(values, status)

    # --- read once (the check)

    async def read(self) -> Readout:
        await self.connect()
        client = self._client
        assert client is not None
        keys = self.nodes
        try:
            async with asyncio.timeout(self.spec.timeout_s + 1):
                results = await client.read_attributes([client.get_node(k) for k in keys])
        except (Exception, TimeoutError) as exc:
            await self.close()
            raise SourceError(self._reason(exc)[:300]) from None
        changed: set[str] = set()
        for key, data in zip(keys, results):
            self._take(key, data, changed)
        return self._readout(changed)

    # --- subscribed (the edge)

    async def _subscribe(self, queue: asyncio.Queue[Any]) -> None:
        """Connect, then one subscription with every node monitored (raises `SourceError`)."""
        await self.connect()
        client = self._client
        assert client is not None

        async def lost(exc: Exception) -> None:
            queue.put_nowait(_LOST)

        client.connection_lost_callback = lost  # asyncua 2: its keep-alive found the server gone
        keys = self.nodes
        try:
            async with asyncio.timeout(2 * self.spec.timeout_s + 1):
                subscription = await client.create_subscription(self.spec.period_s * 1000, _Handler(queue))
                handles = await subscription.subscribe_data_change([client.get_node(k) for k in keys])
        except (Exception, TimeoutError) as exc:
            await self.close()
            raise SourceError(self._reason(exc)[:300]) from None
        refused = [f"{k} ({h.name})" for k, h in zip(keys, handles) if isinstance(h, ua.StatusCode)]
        if refused:
            await self.close()
            raise SourceError(f"{self.spec.endpoint} cannot monitor {', '.join(refused)}"[:300])

    async def _watch(self, queue: asyncio.Queue[Any], sink: PushSink) -> str:
        """Hand every batch of changes to the sink until the connection is lost; why it was.

        With `repeat_unchanged`, every `period_s` the sensors not sent since the previous tick are sent
        again with their last value and status (no notification means no change: the value holds)."""
        loop = asyncio.get_running_loop()
        period, repeat = self.spec.period_s, self.spec.repeat_unchanged
        quiet_s = max(WATCHDOG_MIN_S, 2 * period)
        heard = loop.time()
        next_tick = heard + period
        sent: set[str] = set()  # sensors sent since the last tick

        def emit(sensors: set[str]) -> None:
            readout = self._readout(sensors)
            sent.update(readout.values)
            sink.changed(readout)

        while True:
            now = loop.time()
            if repeat and now >= next_tick:
                due = {s for s in self._last if s not in sent}
                if due:
                    emit(due)
                sent = set()
                next_tick += period
                if next_tick <= now:  # overran (a slow loop): on a fresh schedule, missed ticks are not made up
                    next_tick = now + period
                continue
            if now - heard >= quiet_s:  # nothing from the server for a while: is it still there?
                client = self._client
                if client is None:
                    return "connection closed"
                try:
                    async with asyncio.timeout(self.spec.timeout_s + 1):
                        await client.get_node(ObjectIds.Server_ServerStatus_State).read_value()
                except (Exception, TimeoutError) as exc:
                    return f"connection lost: {self._reason(exc)}"
                heard = loop.time()
                continue
            wake = min(next_tick, heard + quiet_s) if repeat else heard + quiet_s
            try:
                item = await asyncio.wait_for(queue.get(), max(wake - now, 0.0))
            except TimeoutError:
                continue
            heard = loop.time()
            batch = [item]
            while not queue.empty():
                batch.append(queue.get_nowait())
            changed: set[str] = set()
            for entry in batch:
                if entry is _LOST:
                    if changed:
                        emit(changed)
                    return f"connection lost to {self.spec.endpoint}"
                key, data = entry
                if any(p.sensor in changed for p in self._points.get(key, [])):  # a second change of a node: its own readout
                    emit(changed)
                    changed = set()
                self._take(key, data, changed)
            if changed:
                emit(changed)

    async def run(self, sink: PushSink) -> None:
        """Subscribed until cancelled: reconnects and re-subscribes whenever the connection is lost."""
        failures = 0
        backoff = BACKOFF_MIN_S
        while True:
            started = time.monotonic()
            queue: asyncio.Queue[Any] = asyncio.Queue()
            try:
                await self._subscribe(queue)
            except SourceError as exc:
                failures += 1
                if failures <= self.spec.retries:
                    await asyncio.sleep(RETRY_PAUSE_S)
                    continue
                sink.lost(str(exc), time.monotonic() - started)
                await asyncio.sleep(backoff)
                backoff = min(2 * backoff, BACKOFF_MAX_S)
                continue
            except Exception as exc:  # a bug of ours or of asyncua costs this attempt, never the device's task
                logger.exception("subscribing to %s failed unexpectedly", self.device)
                await self.close()
                sink.lost(f"unexpected {type(exc).__name__}: {exc}"[:300], time.monotonic() - started)
                await asyncio.sleep(backoff)
                backoff = min(2 * backoff, BACKOFF_MAX_S)
                continue
            failures, backoff = 0, BACKOFF_MIN_S
            sink.subscribed(time.monotonic() - started)
            try:
                reason = await self._watch(queue, sink)
            except Exception as exc:
                logger.exception("the subscription of %s failed unexpectedly", self.device)
                reason = f"unexpected {type(exc).__name__}: {exc}"[:300]
            finally:
                await self.close()
            logger.info("%s: %s; reconnecting", self.device, reason)
            if self.spec.retries == 0:
                sink.lost(reason, 0.0)


def _application_uri(path: str) -> str | None:
    """The URI in the certificate's subjectAltName (asyncua's client must present the same)."""
    data = Path(path).read_bytes()
    cert = x509.load_pem_x509_certificate(data) if data.lstrip().startswith(b"-----") else x509.load_der_x509_certificate(data)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return None
    uris = san.value.get_values_for_type(x509.UniformResourceIdentifier)
    return uris[0] if uris else None


async def _quietly(coro: Any, timeout_s: float = 2.0) -> None:
    try:
        async with asyncio.timeout(timeout_s):
            await coro
    except (Exception, TimeoutError):
        pass
