"""Dual-branch methods: shared encoder, teacher decoder (full masks), student decoder
(partial labels). Table 1, 4, 5, 6 and Appendix A.2.

- ``decoupled``: the two branches without any coupling term (after Luo and Yang, 2020):
  Ls(teacher, Ds) + λw·Lw(student, Dw).
- ``kl``: + λkd·Lkd, the divergence of Eq. 3 (or Eq. 6/7) from teacher to student predictions
  on the fully labelled images Ds.
- ``kl_ent``: + λent·Lent, the Shannon entropy (Eq. 4) of the student on the partially
  labelled images Dw: the full objective of Eq. 5.
"""

from mixseg.losses import distillation, entropy
from mixseg.methods.base import STUDENT, TEACHER, Method, supervised_terms

KD_READS = frozenset({"lambda_w", "lambda_kd", "divergence", "kd"})


def _decoupled(logits, batch, hp, ctx=None):
    terms = supervised_terms(logits[TEACHER], batch, weight_w=None)
    weak_terms = supervised_terms(logits[STUDENT], batch, hp.lambda_w)
    terms["pce"] = weak_terms["pce"]
    return terms


def _kl(logits, batch, hp, ctx=None):
    terms = _decoupled(logits, batch, hp, ctx)
    kind, alpha = hp.divergence_kind()
    full = batch.is_full
    terms["kd"] = hp.lambda_kd * distillation(
        logits[TEACHER][full],
        logits[STUDENT][full],
        kind=kind,
        alpha=alpha,
        smoothing=hp.kd.smoothing,
        temperature=hp.kd.temperature,
        detach_teacher=hp.kd.detach_teacher,
        direction=hp.kd.direction,
    )
    return terms


def _kl_ent(logits, batch, hp, ctx=None):
    terms = _kl(logits, batch, hp, ctx)
    rows = ~batch.is_full if hp.entropy_on == "partial" else slice(None)
    terms["ent"] = hp.lambda_ent * entropy(logits[STUDENT][rows])
    return terms


DECOUPLED = Method(
    name="decoupled",
    n_decoders=2,
    full_pool="full",
    other_rows="partial",
    full_heads=(TEACHER,),  # the student's loss is on the partially labelled rows only
    other_heads=(STUDENT,),  # the teacher's loss is on the fully labelled rows only
    reads=frozenset({"lambda_w"}),
    objective=_decoupled,
)
KL = Method(
    name="kl",
    n_decoders=2,
    full_pool="full",
    other_rows="partial",
    other_heads=(STUDENT,),  # the teacher's loss is on the fully labelled rows only
    reads=KD_READS,
    objective=_kl,
)
KL_ENT = Method(
    name="kl_ent",
    n_decoders=2,
    full_pool="full",
    other_rows="partial",
    other_heads=(STUDENT,),  # the teacher's loss is on the fully labelled rows only
    reads=KD_READS | {"lambda_ent", "entropy_on"},
    objective=_kl_ent,
)
