"""How large a care plan may grow: the one list of limits that the service enforces and that
the form's validators and the API's schemas (maxItems, maxLength in the OpenAPI description)
repeat, so that a page, an API call or any other caller is refused the same way, with a message
naming the field, and nothing is written.

The numbers leave room for the largest real PPCS (a dozen goals of a few actions each is
usual) while keeping a plan a document people read, edit in one page, print in seconds and
submit in one form: a plan at every limit at once, in French text, is well under
MAX_CONTENT_LENGTH (2 MB) as a form or as JSON (see tests/careplans/test_limits.py). Text
lengths are in characters, counted once stripped, as stored; the short ones are the sizes of
their columns.
"""

from __future__ import annotations

MAX_GOALS = 50
MAX_ACTIONS_PER_GOAL = 20
MAX_ACTIONS = 200  # in the whole plan: the edit page and the printed summary stay usable
# The whole care team, the patient's GP and the providers of the actions (always on it)
# included.
MAX_TEAM = 40

# The plan's own texts.
PLAN_TEXT = {
    "caregiver_name": 200,
    "caregiver_relation": 100,
    "caregiver_phone": 40,
    "legal_protection_details": 300,
    "expectations": 4_000,
    "priorities": 4_000,
    "life_project": 4_000,
    "current_help": 4_000,
}
# Each domain of the assessment: the summary may hold an evaluation pasted in.
ASSESSMENT_TEXT = {"summary": 10_000, "needs": 4_000}
GOAL_TEXT = {"problem": 2_000, "description": 2_000, "measure": 300, "status_reason": 1_000}
ACTION_TEXT = {"description": 500}
MEMBER_TEXT = {"role": 200}
CLOSE_REASON = 2_000
COMMENT = 4_000


def too_long(text: object, limit: int) -> bool:
    """Whether a text, once stripped as it is stored, is longer than `limit` characters."""
    return isinstance(text, str) and len(text.strip()) > limit
