"""Proposals (Table 2) and self-training (Fig. 5): a single network trained from scratch on the
fully labelled images plus the pseudo-masks that a trained run gives the partially labelled
patients' images ("an augmented dataset composed by the available labeled images and the
proposals", section 4.2). The partial labels themselves are not used.

Each batch holds ``batch_full`` ground-truth rows and ``batch_weak`` pseudo-labelled rows (the
proportion of our model's batches); one cross-entropy over every pixel of both, as plain full
supervision on the augmented dataset. Which run gives the pseudo-masks is the stage's
``--pseudo-from`` (a DVC dependency): Lower bound or KL for Table 2, the previous iteration for
self-training.
"""

import torch

from mixseg.losses import cross_entropy
from mixseg.methods.base import Method


def _objective(logits, batch, hp, ctx=None):
    rows = batch.is_full.view(-1, *[1] * (batch.mask.ndim - 1))
    target = torch.where(rows, batch.mask, batch.weak)
    return {"ce": cross_entropy(logits[0], target)}


PROPOSALS = Method(
    name="proposals",
    n_decoders=1,
    full_pool="full",
    other_rows="pseudo",
    reads=frozenset(),
    objective=_objective,
)
