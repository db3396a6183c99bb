"""Fully supervised single-branch baselines (Table 1): cross-entropy (Eq. 1) only.

- ``lower``: the setting's N fully labelled patients only ("Lower bound").
- ``upper``: every patient of the setting with its full mask ("Upper bound (Set-N)"); at the
  setting ``all`` (every training patient) it is "Upper bound, all images".
"""

from mixseg.methods.base import Method, supervised_terms


def _objective(logits, batch, hp, ctx=None):
    return supervised_terms(logits[0], batch, weight_w=None)


LOWER = Method("lower", 1, "full", False, frozenset(), _objective)
UPPER = Method("upper", 1, "full+partial", False, frozenset(), _objective)
