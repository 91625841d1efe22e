"""Regulatory profiles: the shipped files load, carry provenance, and bad files name what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from wastewatch.compliance.profiles import ProfileError, load_bundled_profiles, load_profile, select_profiles


def test_shipped_profiles_load_with_their_ids() -> None:
    profiles = load_bundled_profiles()
    assert set(profiles) == {"eu-ied-annex-vi", "id-p56-2015", "id-kep03-1995-unconfirmed", "id-data-availability"}


def test_eu_profile_has_the_annex_vi_numbers_and_ci_shares() -> None:
    eu = load_bundled_profiles()["eu-ied-annex-vi"]
    assert eu.reference is not None and eu.reference.o2_pct == 11
    assert eu.reference.basis.temperature_k == 273.15 and eu.reference.basis.pressure_kpa == 101.3
    co_daily = eu.limit("co", "D97")
    assert co_daily is not None and co_daily.value == 50 and co_daily.ci_pct == 10
    # V2: CI = 10 % × 50 = 5 mg/Nm3 for CO; 30 % × 10 = 3 for dust; 40 % × 10 = 4 for HCl.
    assert eu.ci_value("co") == pytest.approx(5.0)
    assert eu.ci_value("dust") == pytest.approx(3.0)
    assert eu.ci_value("hcl") == pytest.approx(4.0)
    dust_a, dust_b = eu.limit("dust", "A100"), eu.limit("dust", "B97")
    assert dust_a is not None and dust_a.value == 30 and dust_b is not None and dust_b.value == 10
    assert eu.abnormal_operation is not None and eu.abnormal_operation.dust_cap_mg_nm3 == 150


def test_unconfirmed_numbers_are_flagged() -> None:
    profiles = load_bundled_profiles()
    kep03 = profiles["id-kep03-1995-unconfirmed"]
    assert kep03.unconfirmed and all(limit.status == "U" for limit in kep03.limits)
    assert kep03.reference is not None and kep03.reference.o2_pct == 10 and kep03.reference.o2_status == "U"
    co_10min = profiles["eu-ied-annex-vi"].limit("co", "CO95")
    assert co_10min is not None and co_10min.value == 150 and not co_10min.confirmed
    assert profiles["eu-ied-annex-vi"].unconfirmed  # because of the CO 10-min limit [U]


def test_p56_and_data_availability_profiles() -> None:
    profiles = load_bundled_profiles()
    p56 = {r.id: r for r in profiles["id-p56-2015"].requirements}
    assert p56["t_primary_min"].value == 800 and p56["t_secondary_min"].value == 1000
    assert p56["t_secondary_cytotoxic"].status == "U"
    rules = profiles["id-data-availability"].data_availability
    assert rules is not None and rules.min_valid_hours_per_day == 18 and rules.min_valid_day_share == 0.75


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    return path


BASE = """
id: test-profile
title: test
kind: emission_limits
jurisdiction: EU
source: test
status: A
reference: {o2_pct: 11, o2_status: C, o2_source: test}
limits:
  - {pollutant: co, value: 50, unit: mg/Nm3, avg_period: 24h, rule: D97, source: s, status: C}
"""


def test_error_names_profile_limit_and_field(tmp_path: Path) -> None:
    bad = BASE + "  - {pollutant: dust, value: -1, unit: mg/Nm3, avg_period: 30min, rule: A100, source: s, status: C}\n"
    with pytest.raises(ProfileError, match=r"profile test-profile: limits\[1\] \(dust 30min A100\)\.value"):
        load_profile(_write(tmp_path, bad))


def test_rule_and_period_must_agree(tmp_path: Path) -> None:
    bad = BASE + "  - {pollutant: dust, value: 30, unit: mg/Nm3, avg_period: 24h, rule: A100, source: s, status: C}\n"
    with pytest.raises(ProfileError, match=r"limits\[1\] \(dust 24h A100\).*rule A100 needs 30min"):
        load_profile(_write(tmp_path, bad))


def test_ci_share_needs_a_daily_limit(tmp_path: Path) -> None:
    bad = BASE + "  - {pollutant: hcl, value: 60, unit: mg/Nm3, avg_period: 30min, rule: A100, ci_pct: 40, ci_status: C, source: s, status: C}\n"
    with pytest.raises(ProfileError, match="hcl 30min A100 has ci_pct but hcl has no daily limit"):
        load_profile(_write(tmp_path, bad))


def test_missing_source_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"limits\[0\] \(co 24h D97\)\.source"):
        load_profile(_write(tmp_path, BASE.replace("source: s, ", "")))


def test_unknown_profile_selection_names_it() -> None:
    with pytest.raises(ProfileError, match="unknown compliance profile.*id-permit"):
        select_profiles(["eu-ied-annex-vi", "id-permit"], load_bundled_profiles())


def test_abnormal_operation_thresholds_carry_their_sources() -> None:
    rules = load_bundled_profiles()["eu-ied-annex-vi"].abnormal_operation
    assert rules is not None
    # the caps per event and per year are the law's (via the NL and AT transpositions); the notice is ours
    assert (rules.max_event_h, rules.max_year_h, rules.status) == (4, 60, "C-pred") and "46(6)" in rules.source
    assert (rules.warn_event_h, rules.warn_event_h_status) == (3, "A") and "§8.5" in rules.warn_event_h_source


def test_an_abnormal_operation_notice_at_or_past_the_cap_is_refused(tmp_path: Path) -> None:
    caps = "abnormal_operation: {max_event_h: 4, max_year_h: 60, dust_cap_mg_nm3: 150, warn_event_h: 4, source: s, status: C-pred}\n"
    with pytest.raises(ProfileError, match="warn_event_h: the notice must come before the event cap"):
        load_profile(_write(tmp_path, BASE + caps))
