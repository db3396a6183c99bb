"""Fully supervised single-branch baselines (Table 1): cross-entropy (Eq. 1) only.

- ``lower``: the setting's N fully labelled patients only ("Lower bound").
- ``upper``: every patient of the setting with its full mask ("Upper bound (Set-N)"); at the
  setting ``all`` (every training patient) it is "Upper bound, all images".

Rows per step: the Lower bound draws ``batch_full`` rows (the teacher's supervision alone); the
Upper bound, by ``upper_batch`` (params.yaml), ``batch_full + batch_weak`` rows (``mixed``: the
mixed methods' batch with every row fully labelled) or ``batch_full`` (``full``). See
``train_data.full_rows``.
"""

from mixseg.methods.base import Method, supervised_terms


def _objective(logits, batch, hp, ctx=None):
    return supervised_terms(logits[0], batch, weight_w=None)


LOWER = Method(
    name="lower",
    n_decoders=1,
    full_pool="full",
    other_rows=None,
    reads=frozenset(),
    objective=_objective,
)
UPPER = Method(
    name="upper",
    n_decoders=1,
    full_pool="full+partial",
    other_rows=None,
    reads=frozenset({"upper_batch"}),
    objective=_objective,
)
