"""The compliance service: the pure engine of `wastewatch.compliance` run against the time-series store.

- `jobs`: the half-hour, day and recompute jobs and the abnormal-operation clock (`ComplianceJobs`):
  read the samples and the plant-state timeline, run the pipeline, write results and amendments.
- `scheduler`: the jobs on APScheduler cron triggers in each plant's time zone (`wastewatch compliance run`).
- `replay`: the jobs on the data clock of a replay faster than real time (the demo).
- `dayruns`: the runs of days a recomputation reads and writes at once.
- Store access, one module per kind of data: `input_reader` (samples, plant states, batches),
  `result_store` (averages and days), `amendment_store`, `event_store` (abnormal-operation events),
  `kpi_reader` (plant KPIs, specific emissions) and `year_reader` (a judged calendar year).

A service floor (`.importlinter`): it imports the domain core and shared infrastructure, never the
other services, the API or the composition root; the summaries' roll-up reaches it as an `after_day` hook.
"""
