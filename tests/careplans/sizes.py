"""A plan at every limit of `coordinator.careplans.limits` at once: the largest plan the
application accepts, in French text (shared by the tests and benchmarks/careplan_limits.py)."""

from __future__ import annotations

from datetime import date, timedelta

from coordinator.careplans import limits
from coordinator.careplans.models import ASSESSMENT_DOMAINS

SENTENCE = ("Passage infirmier à domicile pour l'aide à la toilette, évaluation de l'état "
            "cutané et préparation du pilulier. ")


def text(length: int) -> str:
    """French text of exactly `length` characters (no space at either end)."""
    filler = (SENTENCE * (length // len(SENTENCE) + 1))[:length]
    return filler[:-1] + "." if filler.endswith(" ") else filler


def maximal_content(gp_id: int, provider_ids: list[int], plan_date: date | None = None
                    ) -> dict:
    """A service's content at every limit: MAX_GOALS goals, the first ones with
    MAX_ACTIONS_PER_GOAL actions each up to MAX_ACTIONS in all, a care team of MAX_TEAM members
    with the GP (`provider_ids`: MAX_TEAM - 1 other providers, the actions' providers among
    them), every text at its longest."""
    full_goals = limits.MAX_ACTIONS // limits.MAX_ACTIONS_PER_GOAL
    assert len(provider_ids) == limits.MAX_TEAM - 1
    plan_date = plan_date or date.today()
    content: dict = {"plan_date": plan_date, "review_date": plan_date + timedelta(days=180)}
    content |= {name: text(length) for name, length in limits.PLAN_TEXT.items()}
    content["caregiver_phone"] = "0" * limits.PLAN_TEXT["caregiver_phone"]
    content["assessment"] = {domain: {part: text(length) for part, length
                                      in limits.ASSESSMENT_TEXT.items()}
                             for domain in ASSESSMENT_DOMAINS}
    content["goals"] = [
        {"domain": "health", "status": "open",
         "target_date": plan_date + timedelta(days=90),
         **{name: text(length) for name, length in limits.GOAL_TEXT.items()},
         "actions": [{"description": text(limits.ACTION_TEXT["description"]),
                      "responsible": "provider",
                      "provider_id": provider_ids[(goal * limits.MAX_ACTIONS_PER_GOAL + action)
                                                  % len(provider_ids)],
                      "interval_days": 30, "occurrences": 12, "status": "planned"}
                     for action in range(limits.MAX_ACTIONS_PER_GOAL if goal < full_goals
                                         else 0)]}
        for goal in range(limits.MAX_GOALS)]
    content["team"] = [{"provider_id": provider_id, "role": text(limits.MEMBER_TEXT["role"])}
                       for provider_id in [gp_id, *provider_ids]]
    return content


def as_json(content: dict) -> dict:
    """The same content as an API body (dates as ISO text)."""
    def iso(value):
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, dict):
            return {key: iso(item) for key, item in value.items()}
        if isinstance(value, list):
            return [iso(item) for item in value]
        return value

    return iso(content)
