"""Who is told what, and through which channels: audiences, their channel chains, and failover.

`WASTEWATCH_ALERTS_ROUTES` reads `audience=chain,chain;…`, a chain being channels joined by `>`:
`operators=mqtt,log;agency=webhook>email;escalation=email` sends the agency each notification by
webhook and, when the webhook stays down, by e-mail instead. Operators get every alert; the agency
every critical one and those of its categories; `escalation` only escalations.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from alerts.notifiers.registry import ROUTABLE
from wastewatch.errors import ConfigError

logger = logging.getLogger(__name__)

AUDIENCES: tuple[str, ...] = ("operators", "agency", "escalation")


class RouteConfigError(ConfigError, ValueError):
    """The routes setting cannot be read; the message names the part."""


Chain = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Routes:
    chains: dict[str, tuple[Chain, ...]]
    agency_categories: frozenset[str]

    def audiences_for(self, severity: str, category: str) -> list[str]:
        """The audiences of a raised or cleared alert."""
        audiences = ["operators"]
        if severity == "critical" or category in self.agency_categories:
            audiences.append("agency")
        return [a for a in audiences if self.chains.get(a)]

    def deliveries(self, audiences: Iterable[str]) -> list[tuple[str, Chain]]:
        """(audience, chain) pairs; a chain whose first channel another audience already uses is left out,
        so one event reaches each channel once."""
        seen: set[str] = set()
        out = []
        for audience in audiences:
            for chain in self.chains.get(audience, ()):
                if chain[0] not in seen:
                    seen.add(chain[0])
                    out.append((audience, chain))
        return out

    def channels(self) -> set[str]:
        return {channel for chains in self.chains.values() for chain in chains for channel in chain}


def parse_routes(text: str, agency_categories: Iterable[str], available: Iterable[str] = ROUTABLE) -> Routes:
    """Routes from the settings; channels that are not configured (`available`) are dropped with a warning."""
    usable = set(available)
    chains: dict[str, tuple[Chain, ...]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        audience, sep, spec = part.partition("=")
        audience = audience.strip()
        if not sep or audience not in AUDIENCES:
            raise RouteConfigError(f"routes: {part!r}: expected <audience>=<channels>, audience one of {', '.join(AUDIENCES)}")
        parsed = []
        for chain_text in filter(None, (c.strip() for c in spec.split(","))):
            chain = tuple(c.strip() for c in chain_text.split(">"))
            unknown = [c for c in chain if c not in ROUTABLE]
            if unknown:
                raise RouteConfigError(f"routes: {audience}: unknown channel {unknown[0]!r}; known: {', '.join(ROUTABLE)}")
            kept = tuple(c for c in chain if c in usable)
            if kept != chain:
                logger.warning("route channel not configured, left out audience=%s chain=%s", audience, chain_text)
            if kept:
                parsed.append(kept)
        chains[audience] = tuple(parsed)
    if isinstance(agency_categories, str):
        raise TypeError("agency_categories is a list of categories, not a string")
    categories = frozenset(c.strip() for c in agency_categories if c.strip())
    return Routes(chains, categories)
