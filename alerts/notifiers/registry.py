"""The one list of notification channels: each channel module's `CHANNEL` entry, collected here.

Routes may name `ROUTABLE` channels; the sender treats `INTERNAL` ones (the annotation channel) as
plumbing, never rate-limited or digested; the alert worker builds the notifiers the settings
configure, and a process without the worker (`wastewatch compliance`) asks which channels those are
without connecting any, from the same entries, so the two never disagree.
"""

from __future__ import annotations

from alerts.notifiers import Channel, Notifier, annotation, email, log, mqtt, telegram, webhook, whatsapp
from alerts.settings import AlertSettings
from wastewatch.points import Store
from wastewatch.settings import Settings

CHANNELS: dict[str, Channel] = {c.name: c for c in (
    webhook.CHANNEL, email.CHANNEL, telegram.CHANNEL, whatsapp.CHANNEL, mqtt.CHANNEL, log.CHANNEL, annotation.CHANNEL,
)}
ROUTABLE: tuple[str, ...] = tuple(name for name, channel in CHANNELS.items() if not channel.internal)
INTERNAL: tuple[str, ...] = tuple(name for name, channel in CHANNELS.items() if channel.internal)


def configured_channels(settings: Settings, alerts: AlertSettings) -> list[str]:
    """The channels these settings configure, named without connecting them; a bad channel setting
    raises `SettingsError`."""
    return [name for name, channel in CHANNELS.items() if channel.configured(settings, alerts)]


def build_notifiers(settings: Settings, alerts: AlertSettings, store: Store | None) -> dict[str, Notifier]:
    """A notifier for every channel these settings configure (the annotation channel only with a store)."""
    notifiers: dict[str, Notifier] = {}
    for name in configured_channels(settings, alerts):
        notifier = CHANNELS[name].build(settings, alerts, store)
        if notifier is not None:
            notifiers[name] = notifier
    return notifiers
