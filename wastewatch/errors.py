"""The root of every error wastewatch raises on purpose, and the branches callers catch.

Each specific error lives beside the code that raises it and derives from one branch here, so a
caller can catch as narrowly or as widely as it needs: the `wastewatch` command turns any
`ConfigError` or `DatabaseError` into one line and exit status 2, the API maps `NotFound` to 404,
`Conflict` to 409 and `InvalidRequest` to 422, and the workers retry a `StoreUnavailable`.

Hierarchy (where each leaf is defined):

    WastewatchError
    ├── ConfigError                  a setting or configuration file is invalid; one line names it
    │   ├── SettingsError            wastewatch.settings      a WASTEWATCH_* variable
    │   ├── PlantConfigError         wastewatch.plant         the plant catalogue YAML
    │   ├── ProfileError             wastewatch.compliance.profiles   a regulatory profile
    │   ├── RuleConfigError          alerts.rules             an alert rule file
    │   ├── RouteConfigError         alerts.routing           WASTEWATCH_ALERTS_ROUTES (also a ValueError)
    │   ├── DeviceFileError          edge.devices             the edge's device file (names the device and field)
    │   ├── SispekConfigError        sispek.stacks            the SISPEK stacks mapping file (names the file and field)
    │   └── UsageError               launch.arguments         a command-line argument
    ├── StoreError                   wastewatch.points        the time-series store
    │   ├── StoreUnavailable         unreachable, 5xx, timeout: the same call may succeed later
    │   └── StoreRejected            4xx: the data or query is bad, retrying cannot help
    ├── DatabaseError                wastewatch.relational    the relational (alert) database
    ├── NotifierError                alerts.notifiers         a channel could not deliver (`retryable`)
    ├── PublishError                 simulators.publisher     the simulator could not publish
    ├── ReportMailError              api.reports.mailer       the report e-mail could not be sent
    ├── DeviceError                  launch.devices           a device credential could not be managed
    ├── SourceError                  edge.sources             the edge could not read a field device (timeout, exception code, connection)
    ├── SispekError                  sispek.client            the SISPEK server did not take an upload (`retryable`)
    └── RequestError                 a request refused as it is (the API answers 4xx)
        ├── NotFound (LookupError)   404
        │   ├── AlertNotFound        alerts.store
        │   ├── KeyNotFound          api.keys
        │   └── UserNotFound         api.users
        ├── Conflict (ValueError)    409
        │   ├── AlertStateError      alerts.store
        │   ├── KeyConflict          api.keys
        │   └── UserConflict         api.users
        └── InvalidRequest (ValueError)   422
            ├── RangeError           api.timerange
            ├── PeriodError          api.summaries.periods
            ├── TooManyPoints        api.errors
            ├── ReportFormatError    api.reports.render
            ├── ManifestFileError    wastewatch.manifests.parse   a manifest upload that is no manifest table
            └── CemsQuarterError     api.reports.cems_quarter

Programming errors (a route that declares no role) and internal control flow (a rejected
correction inside the compliance pipeline, a decoder rejection) are not part of this tree.
"""

from __future__ import annotations


class WastewatchError(Exception):
    """Any error wastewatch raises on purpose."""


class ConfigError(WastewatchError):
    """A setting or configuration file is invalid; the message is one line naming it."""


class RequestError(WastewatchError):
    """A request that cannot be served as it is; the API answers it with a 4xx."""


class NotFound(RequestError, LookupError):
    """The named thing (alert, key, plant) does not exist, or is not visible to the caller."""


class Conflict(RequestError, ValueError):
    """The thing is not in a state that allows the request (acknowledging a resolved alert)."""


class InvalidRequest(RequestError, ValueError):
    """The request's parameters are invalid (a time range, a period, too many points)."""
