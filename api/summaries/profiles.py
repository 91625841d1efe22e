"""The regulatory profiles a plant selects, loaded once per process (parsing the YAML costs milliseconds)."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from wastewatch.compliance.profiles import Profile, load_bundled_profiles, select_profiles
from wastewatch.plant import PlantConfig


@functools.lru_cache(maxsize=1)
def bundled_profiles() -> Mapping[str, Profile]:
    return load_bundled_profiles()


def plant_profiles(plant: PlantConfig, profiles: Mapping[str, Profile] | None = None) -> list[Profile]:
    """The plant's profiles in its order, from `profiles` or the bundled ones."""
    return select_profiles(plant.compliance_profiles, dict(profiles if profiles is not None else bundled_profiles()))
