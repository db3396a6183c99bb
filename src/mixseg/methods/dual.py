"""Dual-branch methods: shared encoder, teacher decoder (full masks), student decoder
(partial labels). Table 1, 4, 5, 6 and Appendix A.2.

- ``decoupled``: the two branches without any coupling term (after Luo and Yang, 2020):
  Ls(teacher, Ds) + λw·Lw(student, Dw).
- ``kl``: + λkd·Lkd, the divergence of Eq. 3 (or Eq. 6/7) from teacher to student predictions
  on the fully labelled images Ds.
- ``kl_ent``: + λent·Lent, the Shannon entropy (Eq. 4) of the student on the partially
  labelled images Dw: the full objective of Eq. 5.

``loss_convention: reference`` computes Lkd and Lent as the reference code does
(``base.LOSS_CONVENTIONS``; ``runs.resolve_hyper`` sets its ``kd`` and ``entropy_on``).
"""

from mixseg.losses import distillation, entropy
from mixseg.methods.base import (
    REFERENCE_ALPHA,
    STUDENT,
    TEACHER,
    Method,
    partial_term,
    supervised_terms,
)

KD_READS = frozenset({"lambda_w", "lambda_kd", "divergence", "kd", "loss_convention"})


def _decoupled(logits, batch, hp, ctx=None):
    terms = supervised_terms(logits[TEACHER], batch, weight_w=None)
    terms["pce"] = partial_term(logits[STUDENT], batch, hp.lambda_w)
    return terms


def _kl(logits, batch, hp, ctx=None):
    terms = _decoupled(logits, batch, hp, ctx)
    kind, alpha = hp.divergence_kind()
    full = batch.is_full
    # The reference code's nn.KLDivLoss: alpha T^2 x the mean over classes and pixels.
    scale = 1.0
    if hp.loss_convention == "reference":
        scale = REFERENCE_ALPHA * hp.kd.temperature**2 / logits[STUDENT].shape[1]
    terms["kd"] = (
        hp.lambda_kd
        * scale
        * distillation(
            logits[TEACHER][full],
            logits[STUDENT][full],
            kind=kind,
            alpha=alpha,
            smoothing=hp.kd.smoothing,
            temperature=hp.kd.temperature,
            detach_teacher=hp.kd.detach_teacher,
            direction=hp.kd.direction,
        )
    )
    return terms


def _kl_ent(logits, batch, hp, ctx=None):
    terms = _kl(logits, batch, hp, ctx)
    rows = ~batch.is_full if hp.entropy_on == "partial" else slice(None)
    # The reference code's HLoss: the mean over classes and pixels.
    scale = 1.0 / logits[STUDENT].shape[1] if hp.loss_convention == "reference" else 1.0
    terms["ent"] = hp.lambda_ent * scale * entropy(logits[STUDENT][rows])
    return terms


DECOUPLED = Method(
    name="decoupled",
    n_decoders=2,
    full_pool="full",
    other_rows="partial",
    full_heads=(TEACHER,),  # the student's loss reads the partially labelled rows only
    other_heads=(STUDENT,),  # the teacher's loss reads the fully labelled rows only
    reads=frozenset({"lambda_w"}),
    objective=_decoupled,
)
KL = Method(
    name="kl",
    n_decoders=2,
    full_pool="full",
    other_rows="partial",
    other_heads=(STUDENT,),  # the teacher's loss reads the fully labelled rows only
    reads=KD_READS,
    objective=_kl,
)
KL_ENT = Method(
    name="kl_ent",
    n_decoders=2,
    full_pool="full",
    other_rows="partial",
    other_heads=(STUDENT,),  # the teacher's loss reads the fully labelled rows only
    reads=KD_READS | {"lambda_ent", "entropy_on"},
    objective=_kl_ent,
)
