"""The Sparkplug B decoder alone (pure, in memory): births, aliases, sequence numbers, deaths, values,
and hostile payloads, each stored or refused with a reason, never a decoder error."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import hostile_examples
from wastewatch.decode import REJECT_REASONS, DecodeLimits, decode_message
from wastewatch.plant import PlantCatalog, PlantConfigError, SparkplugDevice, SparkplugNode
from wastewatch.records import DeviceStatus, Reading
from wastewatch.sparkplug import sparkplug_b_pb2 as pb
from wastewatch.sparkplug.decode import SparkplugDecoder
from wastewatch.sparkplug.payload import REBIRTH_METRIC, MetricOut, encode_payload, parse_payload
from wastewatch.sparkplug.topics import parse_sparkplug_topic, sparkplug_subscriptions, sparkplug_topic

NOW_MS = 1_795_000_000_000
LIMITS = DecodeLimits(max_payload_bytes=64 * 1024, max_age_ms=30 * 86_400_000, max_future_ms=300_000)
G, E = "Kotim", "plant-gateway"  # the example mapping in wastewatch/plants/kotim.yaml
NBIRTH, NDEATH = sparkplug_topic("NBIRTH", G, E), sparkplug_topic("NDEATH", G, E)
DBIRTH, DDATA, DDEATH = (sparkplug_topic(k, G, E, "PLC") for k in ("DBIRTH", "DDATA", "DDEATH"))  # type: ignore[arg-type]
PLC_BIRTH = [
    MetricOut("Chamber/Primary/Temperature", 850.0, pb.Float, alias=1),
    MetricOut("Chamber/Primary/Draft", -20, pb.Int16, alias=2),
    MetricOut("Fan/ID", True, pb.Boolean, alias=3),
    MetricOut("Scrubber/pH", 7.25, pb.Double, alias=4),
    MetricOut("Vendor/Unmapped", "x", pb.String, alias=5),
]


def birth(decoder: SparkplugDecoder, *, bdseq: int = 1, now_ms: int = NOW_MS) -> None:
    for topic, payload in (
        (NBIRTH, encode_payload([MetricOut("bdSeq", bdseq, pb.UInt64), MetricOut(REBIRTH_METRIC, False, pb.Boolean)], timestamp_ms=now_ms, seq=0)),
        (DBIRTH, encode_payload(PLC_BIRTH, timestamp_ms=now_ms, seq=1)),
    ):
        out = decoder.decode(topic, payload, now_ms)
        assert out.rejections == [] and out.rebirth is None, out


def data(decoder: SparkplugDecoder, metrics: list[MetricOut], seq: int, now_ms: int = NOW_MS, topic: str = DDATA):  # type: ignore[no-untyped-def]
    return decoder.decode(topic, encode_payload(metrics, timestamp_ms=now_ms, seq=seq), now_ms)


def reasons(out) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.reason for r in out.rejections]


@pytest.fixture
def decoder(catalog: PlantCatalog) -> SparkplugDecoder:
    return SparkplugDecoder(catalog, LIMITS, rebirth_interval_ms=10_000)


def test_topics_parse_and_subscribe_to_data_only() -> None:
    assert parse_sparkplug_topic("spBv1.0/Kotim/DDATA/plant-gateway/PLC") is not None
    for topic in ("spBv1.0/Kotim/NCMD/plant-gateway", "spBv1.0/STATE/host", "spBv1.0/Kotim/DDATA/plant-gateway",
                  "spBv1.0/Kotim/NDATA/plant-gateway/PLC", "spBv1.0//NDATA/x", "spAv1.0/g/NDATA/e"):
        assert parse_sparkplug_topic(topic) is None, topic
    assert sparkplug_subscriptions([(G, E)]) == [
        f"spBv1.0/{G}/NBIRTH/{E}", f"spBv1.0/{G}/NDATA/{E}", f"spBv1.0/{G}/NDEATH/{E}",
        f"spBv1.0/{G}/DBIRTH/{E}/+", f"spBv1.0/{G}/DDATA/{E}/+", f"spBv1.0/{G}/DDEATH/{E}/+",
    ]


def test_births_then_aliased_data_make_the_json_contracts_readings(decoder: SparkplugDecoder, catalog: PlantCatalog) -> None:
    birth(decoder)
    out = data(decoder, [MetricOut(None, 905.5, pb.Float, alias=1, timestamp_ms=NOW_MS - 1000), MetricOut(None, -35, pb.Int16, alias=2),
                         MetricOut(None, False, pb.Boolean, alias=3), MetricOut(None, None, pb.Double, alias=4)], seq=2)
    assert out.rejections == [] and out.rebirth is None
    assert out.records == [
        Reading("kotim", "t_primary", NOW_MS - 1000, 905.5), Reading("kotim", "draft_primary", NOW_MS, -35.0),
        Reading("kotim", "id_fan", NOW_MS, 0.0),  # is_null (alias 4) is no reading
    ]
    json_twin = decode_message("plants/kotim/sensors/t_primary", b'{"ts": %d, "value": 905.5}' % (NOW_MS - 1000), catalog, NOW_MS, LIMITS)
    assert [r.to_point() for r in json_twin.records] == [out.records[0].to_point()]  # the same measurement, tags and time


def test_births_set_devices_online_and_deaths_offline_checking_bdseq(decoder: SparkplugDecoder) -> None:
    nbirth = decoder.decode(NBIRTH, encode_payload([MetricOut("bdSeq", 7, pb.UInt64)], timestamp_ms=NOW_MS, seq=0), NOW_MS)
    assert nbirth.records == []  # the example node names no plant device of its own
    dbirth = decoder.decode(DBIRTH, encode_payload(PLC_BIRTH, timestamp_ms=NOW_MS, seq=1), NOW_MS)
    assert DeviceStatus("kotim", "plc", NOW_MS, True) in dbirth.records
    assert decoder.decode(DDEATH, encode_payload([], timestamp_ms=NOW_MS, seq=2), NOW_MS).records == [DeviceStatus("kotim", "plc", NOW_MS, False)]
    stale = decoder.decode(NDEATH, encode_payload([MetricOut("bdSeq", 6, pb.UInt64)], timestamp_ms=None, seq=None), NOW_MS)
    assert reasons(stale) == ["stale_death"] and stale.records == []
    death = decoder.decode(NDEATH, encode_payload([MetricOut("bdSeq", 7, pb.UInt64)], timestamp_ms=None, seq=None), NOW_MS)
    assert death.rejections == [] and death.records == [DeviceStatus("kotim", "plc", NOW_MS, False), DeviceStatus("kotim", "cems", NOW_MS, False)]


def test_an_alias_no_birth_announced_is_dead_lettered_and_asks_for_a_rebirth(decoder: SparkplugDecoder) -> None:
    birth(decoder)
    out = data(decoder, [MetricOut(None, 900.0, pb.Float, alias=1), MetricOut(None, 1.0, pb.Float, alias=99)], seq=2)
    assert reasons(out) == ["unknown_alias"] and [r.sensor for r in out.records] == ["t_primary"]  # the good part is kept
    assert out.rebirth is not None
    topic, payload = out.rebirth
    assert topic == f"spBv1.0/{G}/NCMD/{E}"
    command = parse_payload(payload)
    assert [(m.name, m.datatype, m.boolean_value) for m in command.metrics] == [(REBIRTH_METRIC, pb.Boolean, True)]


def test_an_nbirth_resets_the_aliases_until_the_devices_are_born_again(decoder: SparkplugDecoder) -> None:
    birth(decoder)
    decoder.decode(NBIRTH, encode_payload([MetricOut("bdSeq", 2, pb.UInt64)], timestamp_ms=NOW_MS, seq=0), NOW_MS)
    assert reasons(data(decoder, [MetricOut(None, 900.0, pb.Float, alias=1)], seq=1)) == ["unknown_alias"]
    out = decoder.decode(DBIRTH, encode_payload([MetricOut("Scrubber/pH", 6.5, pb.Double, alias=1)], timestamp_ms=NOW_MS, seq=2), NOW_MS)
    assert out.records[-1] == Reading("kotim", "scrubber_ph", NOW_MS, 6.5)  # a birth's values are readings too
    assert data(decoder, [MetricOut(None, 6.75, pb.Double, alias=1)], seq=3).records == [Reading("kotim", "scrubber_ph", NOW_MS, 6.75)]


def test_sequence_gaps_ask_for_a_rebirth_at_most_once_per_interval_and_keep_the_data(decoder: SparkplugDecoder) -> None:
    birth(decoder)
    reading = [MetricOut(None, 900.0, pb.Float, alias=1)]
    assert data(decoder, reading, seq=2).rebirth is None
    assert data(decoder, reading, seq=2).rebirth is None  # a redelivered message is no gap
    gap = data(decoder, reading, seq=5)
    assert gap.rebirth is not None and gap.records == [Reading("kotim", "t_primary", NOW_MS, 900.0)] and gap.rejections == []
    assert data(decoder, reading, seq=9, now_ms=NOW_MS + 5_000).rebirth is None  # rate-limited
    assert data(decoder, reading, seq=20, now_ms=NOW_MS + 10_000).rebirth is not None
    for seq in [*range(21, 256), 0, 1]:  # wrapping at 255 is no gap
        assert data(decoder, reading, seq=seq, now_ms=NOW_MS + 30_000).rebirth is None, seq


def test_a_second_consumer_leaves_gaps_to_the_first_but_asks_when_it_cannot_read(catalog: PlantCatalog) -> None:
    second = SparkplugDecoder(catalog, LIMITS, rebirth_on_gap=False)
    birth(second)
    assert data(second, [MetricOut(None, 900.0, pb.Float, alias=1)], seq=9).rebirth is None
    assert data(second, [MetricOut(None, 900.0, pb.Float, alias=42)], seq=10).rebirth is not None
    assert data(SparkplugDecoder(catalog, LIMITS, rebirth_on_gap=False), [MetricOut("Fan/ID", True, pb.Boolean)], seq=3).rebirth is not None


def test_data_from_a_node_never_born_asks_for_a_rebirth(decoder: SparkplugDecoder) -> None:
    out = data(decoder, [MetricOut("Chamber/Primary/Temperature", 900.0, pb.Float)], seq=17)
    assert out.rebirth is not None and out.records == [Reading("kotim", "t_primary", NOW_MS, 900.0)]  # by name: no birth needed


@pytest.mark.parametrize(
    ("metric", "reason"),
    [
        (MetricOut("Chamber/Primary/Temperature", math.nan, pb.Float), "non_finite"),
        (MetricOut("Chamber/Primary/Temperature", 5000.0, pb.Double), "out_of_range"),
        (MetricOut("Chamber/Primary/Temperature", "hot", pb.String), "non_numeric"),
        (MetricOut("Chamber/Primary/Temperature", 4_000_000_000, pb.Int64), "out_of_range"),
        (MetricOut("Vendor/Unmapped", 1.0, pb.Float), "unmapped_metric"),
        (MetricOut("Chamber/Primary/Temperature", 900.0, pb.Float, timestamp_ms=NOW_MS - 31 * 86_400_000), "timestamp_too_old"),
        (MetricOut("Chamber/Primary/Temperature", 900.0, pb.Float, timestamp_ms=NOW_MS + 3_600_000), "timestamp_in_future"),
        (MetricOut(None, 900.0, pb.Float), "invalid_payload"),
    ],
)
def test_bad_metrics_are_refused_with_the_json_contracts_reasons(decoder: SparkplugDecoder, metric: MetricOut, reason: str) -> None:
    birth(decoder)
    out = data(decoder, [metric, MetricOut("Fan/ID", True, pb.Boolean)], seq=2)
    assert reasons(out) == [reason] and out.records == [Reading("kotim", "id_fan", NOW_MS, 1.0)]


def test_a_mismatched_value_field_a_missing_timestamp_and_quality(decoder: SparkplugDecoder) -> None:
    birth(decoder)
    payload = pb.Payload(seq=2)
    payload.metrics.add(alias=1, datatype=pb.Float, string_value="900")  # a Float carrying a string
    payload.metrics.add(alias=1, datatype=pb.Float, float_value=900.0)  # no timestamp anywhere
    out = decoder.decode(DDATA, payload.SerializeToString(), NOW_MS)
    assert reasons(out) == ["invalid_payload", "bad_timestamp"]
    out = data(decoder, [MetricOut(None, 900.0, pb.Float, alias=1, quality=0), MetricOut(None, 901.0, pb.Float, alias=1, quality=192)], seq=3)
    assert [r.status for r in out.records] == ["malfunction", "valid"]
    assert reasons(data(decoder, [], seq=4)) == ["invalid_payload"]  # data without metrics


def test_negative_signed_integers_in_either_encoding(decoder: SparkplugDecoder) -> None:
    birth(decoder)
    sign_extended = pb.Payload(seq=2, timestamp=NOW_MS)
    sign_extended.metrics.add(alias=2, datatype=pb.Int16, int_value=(-20) & 0xFFFFFFFF)
    own_bits = pb.Payload(seq=3, timestamp=NOW_MS)
    own_bits.metrics.add(alias=2, datatype=pb.Int16, int_value=(-20) & 0xFFFF)
    for payload in (sign_extended, own_bits):
        assert decoder.decode(DDATA, payload.SerializeToString(), NOW_MS).records == [Reading("kotim", "draft_primary", NOW_MS, -20.0)]


def test_unknown_nodes_devices_and_malformed_payloads(decoder: SparkplugDecoder) -> None:
    body = encode_payload([MetricOut("Fan/ID", True, pb.Boolean)], timestamp_ms=NOW_MS, seq=0)
    assert reasons(decoder.decode("spBv1.0/Elsewhere/NDATA/gw", body, NOW_MS)) == ["unknown_plant"]
    assert reasons(decoder.decode(f"spBv1.0/{G}/DDATA/{E}/NOPE", body, NOW_MS)) == ["unknown_plant"]
    assert reasons(decoder.decode(f"spBv1.0/{G}/NCMD/{E}", body, NOW_MS)) == ["malformed_topic"]
    assert reasons(decoder.decode(DDATA, b"\x0a\xff\xff", NOW_MS)) == ["malformed_protobuf"]
    assert reasons(decoder.decode(DDATA, b"\x00" * (LIMITS.max_payload_bytes + 1), NOW_MS)) == ["payload_too_large"]


def test_the_plant_file_mapping_is_validated(catalog: PlantCatalog) -> None:
    kotim = catalog.get("kotim")
    assert kotim is not None
    with pytest.raises(ValueError, match="not in the catalogue"):
        kotim.model_validate({**kotim.model_dump(), "sparkplug": [{"group": "g", "edge_node": "e", "metrics": {"m": "nope"}}]})
    with pytest.raises(ValueError, match="not one of the plant's devices"):
        kotim.model_validate({**kotim.model_dump(), "sparkplug": [{"group": "g", "edge_node": "e", "devices": [{"id": "d", "device": "pump"}]}]})
    with pytest.raises(ValueError, match="pattern"):
        kotim.model_validate({**kotim.model_dump(), "sparkplug": [{"group": "g/h", "edge_node": "e"}]})
    twin = kotim.model_copy(update={"id": "twin"})
    with pytest.raises(PlantConfigError, match="two plants"):
        PlantCatalog([kotim, twin])
    ignoring = kotim.model_copy(update={"sparkplug": [SparkplugNode(group="g", edge_node="e", unmapped="ignore",
                                                                  devices=[SparkplugDevice(id="d", metrics={"T": "t_stack"})])]})
    out = SparkplugDecoder(PlantCatalog([ignoring]), LIMITS).decode(
        "spBv1.0/g/DDATA/e/d", encode_payload([MetricOut("T", 180.0), MetricOut("Other", 1.0)], timestamp_ms=NOW_MS, seq=0), NOW_MS)
    assert out.rejections == [] and out.records == [Reading("kotim", "t_stack", NOW_MS, 180.0)]


UA_GOOD, UA_GOOD_LOCAL_OVERRIDE, UA_UNCERTAIN, UA_BAD_SENSOR_FAILURE = 0, 0x0096_0000, 0x4000_0000, 0x808B_0000  # OPC UA Part 6 StatusCodes


@given(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=8))
def test_a_nodes_quality_scheme_says_what_an_integer_quality_means(catalog: PlantCatalog, codes: list[int]) -> None:
    """OPC DA (the default, Ignition's): 192-255 good. OPC UA StatusCodes (`quality: opc-ua`, a gateway passing
    its server's codes on): good when the severity, the top two bits, is 00; uncertain and bad are malfunction."""
    kotim = catalog.get("kotim")
    assert kotim is not None
    codes = [UA_GOOD, UA_GOOD_LOCAL_OVERRIDE, UA_UNCERTAIN, UA_BAD_SENSOR_FAILURE, 192, *codes]
    metrics = [MetricOut("T", 180.0 + i, quality=code) for i, code in enumerate(codes)]
    statuses = {}
    for scheme in ("opc-da", "opc-ua"):
        node = SparkplugNode(group="g", edge_node="e", quality=scheme, devices=[SparkplugDevice(id="d", metrics={"T": "t_stack"})])
        out = SparkplugDecoder(PlantCatalog([kotim.model_copy(update={"sparkplug": [node]})]), LIMITS).decode(
            "spBv1.0/g/DDATA/e/d", encode_payload(metrics, timestamp_ms=NOW_MS, seq=0), NOW_MS)
        assert out.rejections == [] and len(out.records) == len(codes)
        statuses[scheme] = [r.status for r in out.records]  # type: ignore[union-attr]
    assert statuses["opc-da"] == ["valid" if 192 <= c <= 255 else "malfunction" for c in codes]
    assert statuses["opc-ua"] == ["valid" if c < 0x4000_0000 else "malfunction" for c in codes]
    assert statuses["opc-ua"][:5] == ["valid", "valid", "malfunction", "malfunction", "valid"]


# -- hostile input -------------------------------------------------------------------------------------

DATATYPES = st.integers(0, 40)
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20), st.binary(max_size=20),
)


@st.composite
def hostile_payloads(draw: st.DrawFn) -> bytes:
    payload = pb.Payload()
    if draw(st.booleans()):
        payload.timestamp = draw(st.integers(0, 2**64 - 1))
    if draw(st.booleans()):
        payload.seq = draw(st.integers(0, 2**64 - 1))
    names = [None, "Chamber/Primary/Temperature", "Fan/ID", "Scrubber/pH", "Stack/O2", "bdSeq", "Vendor/X", "", "\u0000"]
    for _ in range(draw(st.integers(0, draw(st.sampled_from([3, 50, 3000]))))):
        metric = payload.metrics.add()
        name = draw(st.sampled_from(names))
        if name is not None:
            metric.name = name
        if draw(st.booleans()):
            metric.alias = draw(st.integers(0, 2**64 - 1) | st.integers(0, 6))
        if draw(st.booleans()):
            metric.datatype = draw(DATATYPES)
        if draw(st.booleans()):
            metric.timestamp = draw(st.integers(0, 2**64 - 1) | st.just(NOW_MS))
        metric.is_null = draw(st.booleans()) and draw(st.booleans())
        value = draw(VALUES)
        if isinstance(value, bool):
            metric.boolean_value = value
        elif isinstance(value, int):
            if value >= 0 and value < 2**32 and draw(st.booleans()):
                metric.int_value = value
            else:
                metric.long_value = value & (2**64 - 1)
        elif isinstance(value, float):
            if draw(st.booleans()):
                metric.double_value = value
            else:
                metric.float_value = value
        elif isinstance(value, str):
            metric.string_value = value
        elif isinstance(value, bytes):
            metric.bytes_value = value
        if draw(st.booleans()) and draw(st.booleans()):
            metric.properties.keys.append("Quality")
            quality = metric.properties.values.add()
            kind = draw(st.sampled_from(["int", "str", "bool", "none"]))
            if kind == "int":
                quality.int_value = draw(st.integers(0, 2**32 - 1))
            elif kind == "str":
                quality.string_value = draw(st.text(max_size=10))
            elif kind == "bool":
                quality.boolean_value = True
    return bytes(payload.SerializeToString())


TOPICS = st.sampled_from([NBIRTH, DBIRTH, DDATA, DDEATH, NDEATH, sparkplug_topic("NDATA", G, E), sparkplug_topic("DDATA", G, E, "CEMS")])


@settings(max_examples=hostile_examples(100), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(messages=st.lists(st.tuples(TOPICS, st.one_of(hostile_payloads(), st.binary(max_size=300))), min_size=1, max_size=8))
def test_hostile_payloads_are_stored_or_refused_with_a_reason_never_a_decoder_error(catalog: PlantCatalog, messages) -> None:  # type: ignore[no-untyped-def]
    decoder = SparkplugDecoder(catalog, LIMITS)
    for topic, payload in messages:
        out = decoder.decode(topic, payload, NOW_MS)
        assert all(r.reason in REJECT_REASONS and r.reason != "decoder_error" for r in out.rejections), out.rejections
        for record in out.records:
            if isinstance(record, Reading):
                spec = catalog.get("kotim").sensor(record.sensor)  # type: ignore[union-attr]
                assert spec is not None and spec.min <= record.value <= spec.max and math.isfinite(record.value)
                assert NOW_MS - LIMITS.max_age_ms <= record.time_ms <= NOW_MS + LIMITS.max_future_ms
    birth(decoder, now_ms=NOW_MS)  # still decodes a valid session after the storm
    assert data(decoder, [MetricOut(None, 900.0, pb.Float, alias=1)], seq=2).records == [Reading("kotim", "t_primary", NOW_MS, 900.0)]
