"""The outbox sender against real local endpoints: retries with back-off until a receiver returns,
exactly once and in order per alert; failover to the next channel; rate limit with one digest;
a restarted sender resumes what was pending."""

from __future__ import annotations

import email
from collections.abc import Iterator
from email import policy

import pytest

from alerts import bundled_rules_path, load_rules
from alerts.lifecycle import Lifecycle, Policy
from alerts.notifiers import Notifier
from alerts.notifiers.email import EmailNotifier
from alerts.notifiers.log import LogNotifier
from alerts.notifiers.webhook import WebhookNotifier
from alerts.outbox import Outbox
from alerts.routing import parse_routes
from alerts.schema import create_schema
from alerts.sender import OutboxSender, SenderPolicy
from tests.alert_receivers import SmtpServer, WebhookReceiver
from tests.helpers import wait_until
from tests.test_alert_lifecycle import MIN, T0, alert_db_url, cleared, raised
from wastewatch.plant import PlantCatalog
from wastewatch.relational import Database, connect_url

SECRET = "sender-test-secret-of-32-bytes-or-more"
FAST = SenderPolicy(retry_base_s=0.02, retry_max_s=0.1, failover_after_attempts=3, rate_limit_count=100)


class Setup:
    def __init__(self, url: str, catalog: PlantCatalog, routes: str) -> None:
        self.url, self.db = url, connect_url(url)
        self.connections: list[Database] = []
        create_schema(self.db)
        rules = load_rules(bundled_rules_path("kotim"), catalog.get("kotim")).rules
        available = ["webhook", "email", "mqtt", "log"]
        self.lifecycle = Lifecycle(self.db, parse_routes(routes, ["regulatory"], available), rules, catalog,
                                   Policy(flap_count=100), annotate=False)

    def alerts(self, n: int, *, clear: bool = True, severity: str = "critical", category: str = "process") -> None:
        """n alerts (critical ones by default) on distinct sensors, raised and (with `clear`) recovered."""
        sensors = ["t_secondary", "t_primary", "o2", "co", "nox", "so2", "hcl", "dust", "toc", "flow"]
        kw = {"severity": severity, "category": category}
        with self.db.transaction():
            for i in range(n):
                self.lifecycle.apply(raised(T0 + i, subject=sensors[i], **kw))
            for i in range(n if clear else 0):
                self.lifecycle.apply(cleared(T0 + 5 * MIN + i, T0 + i, subject=sensors[i], **kw))

    def sender(self, notifiers: dict[str, Notifier], policy: SenderPolicy = FAST, **kw: object) -> OutboxSender:
        db = connect_url(self.url)
        self.connections.append(db)
        return OutboxSender(db, notifiers, policy, **kw)  # type: ignore[arg-type]

    def close(self) -> None:
        for db in [self.db, *self.connections]:
            db.close()


@pytest.fixture
def setup(alert_db_url: str, catalog: PlantCatalog) -> Iterator[Setup]:
    made = Setup(alert_db_url, catalog, "operators=log;agency=webhook")
    yield made
    made.close()


def test_receiver_down_then_back_gets_every_notification_once_in_order_and_attempts_are_recorded(setup: Setup) -> None:
    receiver = WebhookReceiver(SECRET)  # not started: connections are refused
    setup.alerts(3)
    outbox = Outbox(setup.db)
    first = setup.sender({"webhook": WebhookNotifier(receiver.url, SECRET, timeout_s=2), "log": LogNotifier()})
    first.start()
    # a recovery waits behind its alert's raise: only the raises are attempted while the receiver is down
    wait_until(lambda: all(r.attempts >= 2 for r in outbox.rows(channel="webhook") if r.kind == "raised"), what="retries")
    assert all(r.attempts == 0 for r in outbox.rows(channel="webhook") if r.kind == "cleared")
    first.stop()  # the sender dies while the receiver is down …
    assert all(r.status == "pending" for r in outbox.rows(channel="webhook"))
    receiver.start()  # … the receiver comes back, and a new sender resumes the pending rows
    second = setup.sender({"webhook": WebhookNotifier(receiver.url, SECRET, timeout_s=2), "log": LogNotifier()})
    second.start()
    try:
        wait_until(lambda: all(r.status == "sent" for r in outbox.rows(channel="webhook")), what="all sent")
    finally:
        second.stop()
        receiver.stop()
    keys = [r.key for r in receiver.requests]
    assert len(keys) == len(set(keys)) == 6  # exactly once: no key twice
    for alert_id in {r.body["alert_id"] for r in receiver.requests}:
        assert [r.body["kind"] for r in receiver.requests if r.body["alert_id"] == alert_id] == ["raised", "cleared"]
    for row in outbox.rows(channel="webhook"):
        attempts = outbox.deliveries(row.id)
        assert [d.attempt for d in attempts] == list(range(1, len(attempts) + 1))
        assert [d.ok for d in attempts] == [False] * (len(attempts) - 1) + [True]
        assert attempts[-1].receipt == "HTTP 200"
        if row.kind == "raised":
            assert len(attempts) >= 3 and "unreachable" in attempts[0].receipt
    assert {r.status for r in outbox.rows(channel="log")} == {"sent"}


def test_a_channel_that_stays_down_fails_over_to_the_next_one_in_order(
    alert_db_url: str, catalog: PlantCatalog, request: pytest.FixtureRequest
) -> None:
    setup = Setup(alert_db_url, catalog, "agency=webhook>email")
    request.addfinalizer(setup.close)
    smtp = SmtpServer().start()
    dead = WebhookReceiver(SECRET)  # never started
    setup.alerts(2)
    notifiers: dict[str, Notifier] = {
        "webhook": WebhookNotifier(dead.url, SECRET, timeout_s=2),
        "email": EmailNotifier("127.0.0.1", smtp.port, "ww@x", ["dlh@x"], starttls=False),
    }
    sender = setup.sender(notifiers)
    sender.start()
    outbox = Outbox(setup.db)
    try:
        wait_until(lambda: len([r for r in outbox.rows(channel="email") if r.status == "sent"]) == 4, what="failed over")
    finally:
        sender.stop()
        smtp.stop()
    assert [r.status for r in outbox.rows(channel="webhook")] == ["failed_over"] * 4
    assert all(r.attempts == 3 for r in outbox.rows(channel="webhook"))
    mails = [email.message_from_bytes(raw, policy=policy.default) for _, _, raw in smtp.messages]
    assert len({m["Message-ID"] for m in mails}) == 4
    by_alert: dict[str, list[str]] = {}
    for mail in mails:
        by_alert.setdefault(mail["Subject"].split("] ", 1)[1], []).append(mail["Subject"].split(" ·")[0])
    assert all(kinds == ["[ALARM", "[PULIH"] for kinds in by_alert.values())


def test_a_4xx_is_never_retried(setup: Setup) -> None:
    receiver = WebhookReceiver(SECRET, status=422).start()
    setup.alerts(1, clear=False)
    sender = setup.sender({"webhook": WebhookNotifier(receiver.url, SECRET), "log": LogNotifier()})
    try:
        sender.run_once()
        sender.run_once()
    finally:
        receiver.stop()
    (row,) = Outbox(setup.db).rows(channel="webhook")
    assert (row.status, row.attempts) == ("failed", 1)


def test_the_rate_limit_holds_back_the_excess_and_sends_one_digest(setup: Setup) -> None:
    receiver = WebhookReceiver(SECRET).start()
    wall = [T0 / 1000]
    policy = SenderPolicy(rate_limit_count=3, rate_limit_window_s=600)
    sender = setup.sender({"webhook": WebhookNotifier(receiver.url, SECRET), "log": LogNotifier()}, policy,
                          wall=lambda: wall[0])
    try:
        setup.alerts(8, clear=False, severity="major", category="regulatory")  # the agency's, and not critical
        sender.run_once()
        assert len(receiver.accepted) == 3
        wall[0] += 601  # the window has room again: one digest names the five held back
        sender.run_once()
        sender.run_once()
    finally:
        receiver.stop()
    kinds = [r.body["kind"] for r in receiver.accepted]
    assert kinds == ["raised"] * 3 + ["digest"]
    digest = receiver.accepted[-1].body
    assert digest["suppressed"] == 5 and len(digest["items"]) == 5
    assert "5 notifikasi lain ditahan" in digest["text"]["id"]["body"]
    statuses = [r.status for r in Outbox(setup.db).rows(channel="webhook") if r.kind == "raised"]
    assert statuses == ["sent"] * 3 + ["suppressed"] * 5
