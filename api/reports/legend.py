"""The status-code legend (D100, D97, A100, B97, CO95, H100, P100), worded from the codes' one
definition: the share of values each rule requires (`RULE_SHARE`) and the averages it judges (`RULE_PERIODS`)."""

from __future__ import annotations

from api.reports.messages import AVERAGES, Language, percent, text
from wastewatch.compliance.profiles import RULE_PERIODS, RULE_SHARE


def rule_meaning(rule: str, lang: Language) -> str:
    """`at least 97 % of the valid daily (24 h) averages ≤ the limit` for D97."""
    share = RULE_SHARE[rule]  # type: ignore[index]
    one, many = AVERAGES[RULE_PERIODS[rule][0]][lang]  # type: ignore[index]
    if share >= 1.0:
        return text("legend_all", lang).format(what=one)
    return text("legend_share", lang).format(pct=percent(share, lang, 0), what=many, whats=many)


def legend(lang: Language) -> list[str]:
    """One line per code, then what "unconfirmed" means."""
    return [f"{rule}: {rule_meaning(rule, lang)}" for rule in RULE_SHARE] + [text("legend_unconfirmed", lang)]
