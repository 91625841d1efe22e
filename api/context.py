"""What every request handler shares: settings, the store, the plant catalogue, the alert database, keys."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from api.keys import KeyStore
from api.ratelimit import FailureLimiter
from api.settings import ApiSettings
from api.summary_cache import SummaryCache
from wastewatch.plant import PlantCatalog
from wastewatch.points import Store
from wastewatch.relational import Database
from wastewatch.settings import Settings


@dataclass
class ApiContext:
    """Built once by `create_app`, kept on `app.state.ctx`, handed to routes through `api.deps`."""

    settings: Settings
    api: ApiSettings
    store: Store
    catalog: PlantCatalog
    alert_db: Database
    keys: KeyStore
    limiter: FailureLimiter
    summaries: SummaryCache
    clock: Callable[[], float] = field(default=time.time)
    """Wall-clock seconds; relative ranges and audit times come from it."""

    def now_ms(self) -> int:
        return round(self.clock() * 1000)
