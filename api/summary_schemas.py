"""Bodies of the summary answers (tonnage, uptime, compliance): the figures `api.summaries`
computes, as JSON. Masses in kg and tonnes from integer grams; shares as fractions 0-1."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class TonnageBucketOut(BaseModel):
    key: str = Field(description="2026-11-28, 2026-W48 or 2026-11 on the plant's calendar")
    start: datetime
    end: datetime
    mass_kg: float
    tonnes: float
    batches: int


class TonnageShareOut(BaseModel):
    key: str
    name: str
    mass_kg: float
    tonnes: float
    batches: int


class TonnageOut(BaseModel):
    plant: str
    start: datetime
    end: datetime
    by: str
    mass_kg: float
    tonnes: float
    batches: int
    facilities_served: list[str]
    buckets: list[TonnageBucketOut]
    by_facility: list[TonnageShareOut]
    by_waste_code: list[TonnageShareOut]


class QuarterAvailabilityOut(BaseModel):
    quarter: str
    valid_days: int
    operating_days: int
    share: float | None
    min_share: float
    ok: bool


class DataAvailabilityOut(BaseModel):
    pollutant: str
    valid_hours: int
    discarded_hours: int
    share: float | None = Field(description="Indonesian basis: valid hours ÷ hours with a verdict")
    valid_days: int
    operating_days: int
    eu_discarded_half_hours: int
    eu_discarded_days: int
    eu_max_discarded_days: int
    eu_v5_ok: bool
    quarters: list[QuarterAvailabilityOut]


class DowntimeOut(BaseModel):
    start: datetime
    end: datetime
    hours: float
    state: str
    cause: str = Field(description="alert:<rule id>, scheduled or unknown")
    alert_id: int | None
    alert_title: str | None


class UptimeOut(BaseModel):
    plant: str
    start: datetime
    end: datetime
    period_h: float
    operating_h: float
    available_h: float
    plant_availability: float | None
    data_availability_share: float | None
    state_h: dict[str, float]
    data_availability: list[DataAvailabilityOut]
    downtime: list[DowntimeOut]


class DowntimeList(BaseModel):
    plant: str
    start: datetime
    end: datetime
    downtime: list[DowntimeOut]


class LimitOut(BaseModel):
    rule: str
    period: str
    limit_value: float
    unit: str
    status: str
    confirmed: bool
    valid_averages: int
    exceedances: int
    share_within: float | None


class PollutantComplianceOut(BaseModel):
    profile: str
    pollutant: str
    valid_averages: dict[str, int]
    discarded_averages: dict[str, int]
    valid_days: int
    discarded_days: int
    exceedances: int
    limits: list[LimitOut]


class ProfileOut(BaseModel):
    id: str
    title: str
    status: str
    unconfirmed: bool
    unconfirmed_limits: list[str]


class ComplianceOut(BaseModel):
    plant: str
    start: datetime
    end: datetime
    exceedances: int
    abnormal_h: float = Field(description="abnormal-operation hours used in the range")
    abnormal_max_year_h: float | None = Field(description="hours allowed per year (60 under IED Art. 46(6))")
    profiles: list[ProfileOut]
    pollutants: list[PollutantComplianceOut]


class ComplianceRow(BaseModel):
    """One limit of one pollutant, flattened for CSV."""

    profile: str
    pollutant: str
    rule: str
    period: str
    limit_value: float
    unit: str
    confirmed: bool
    valid_averages: int
    exceedances: int
    discarded_averages: int
    valid_days: int
    discarded_days: int


class LoadBasisOut(BaseModel):
    """How one profile's emission loads are computed, and the status of each assumption."""

    profile: str
    title: str
    period: str = Field(description="the windows a load is summed from (the profile's day basis), e.g. 30min")
    concentration: str = Field(description="the concentration's basis")
    flow: str = Field(description="the flow's basis")
    flow_basis: str = Field(description="how the flow meter reports (dry or wet normalised Nm³/h); wet is made dry with H2O")
    flow_basis_status: str = Field(description="C, C-pred, D, U or A")
    flow_basis_source: str
    source: str
    status: str = Field(description="status of the method: C, C-pred, D, U or A")
    unconfirmed: bool


class LoadRow(BaseModel):
    """One pollutant's emission load over one hour, local day, month or year (or the whole range)."""

    profile: str
    pollutant: str
    key: str = Field(description="2026-11-28T10:00+07:00, 2026-11-28, 2026-11 or 2026 on the plant's calendar; 'all' for the range")
    start: datetime
    end: datetime
    kg: float = Field(description="measured mass in kg, from valid windows only: nothing extrapolated")
    tonnes: float = Field(description="the same mass in t")
    kg_h: float | None = Field(description="mean mass flow in kg/h over the hours covered")
    covered_h: float = Field(description="hours covered: operating time of the windows that count")
    operating_h: float = Field(description="effective operating hours (burning, burn-out)")
    period_h: float = Field(description="hours in the period (clipped to the range)")
    coverage: float | None = Field(description="hours covered ÷ hours in the period, 0-1")
    operating_coverage: float | None = Field(description="hours covered ÷ operating hours, 0-1")
    estimate_kg: float | None = Field(
        description="ESTIMATE, not measured: kg × operating_h ÷ covered_h (the covered mean mass flow over every operating hour)"
    )


class LoadsOut(BaseModel):
    plant: str
    start: datetime
    end: datetime
    by: str
    bases: list[LoadBasisOut]
    totals: list[LoadRow] = Field(description="per pollutant over the whole range")
    loads: list[LoadRow]
