"""`wastewatch edge check FILE`: connect once to every device and print what each mapped value reads now."""

from __future__ import annotations

import asyncio
from typing import TextIO

from edge.devices import DeviceFile
from edge.poller import read_with_retries
from edge.service import build_sources
from edge.sources import Readout, Source, SourceError
from wastewatch.plant import PlantConfig


async def _read(source: Source) -> Readout | SourceError:
    try:
        return await read_with_retries(source)
    except SourceError as exc:
        return exc
    finally:
        await source.close()


async def _read_all(sources: list[Source]) -> list[Readout | SourceError]:
    return list(await asyncio.gather(*(_read(s) for s in sources)))


def check_devices(spec: DeviceFile, plant: PlantConfig, out: TextIO) -> int:
    """Print every device's values (with their units) or its error; the number of devices that failed."""
    sources = build_sources(spec)
    results = asyncio.run(_read_all(sources))
    failed = 0
    for source, result in zip(sources, results):
        if isinstance(result, SourceError):
            failed += 1
            print(f"{source.device} ({source.describe()}): FAILED: {result}", file=out)
            continue
        print(f"{source.device} ({source.describe()}): ok, {len(result.values)} values", file=out)
        device = next(d for d in spec.devices if d.id == source.device)
        for point in device.points:
            sensor = plant.sensor(point.sensor)
            unit = sensor.unit if sensor else ""
            if point.sensor not in result.values:
                print(f"  {point.sensor:<18} (not a finite number)", file=out)
                continue
            value = result.values[point.sensor]
            notes: list[str] = []
            if point.sensor in result.status:
                notes.append(result.status[point.sensor])
            if sensor is not None and not sensor.min <= value <= sensor.max:
                notes.append(f"outside the plant file's range [{sensor.min:g}, {sensor.max:g}]: the ingest will refuse it")
            note = f"  ({'; '.join(notes)})" if notes else ""
            print(f"  {point.sensor:<18} {value:>14.6g} {unit}{note}", file=out)
    return failed
