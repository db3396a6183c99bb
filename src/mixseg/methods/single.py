"""Single-branch mixed supervision (Table 1, Appendix A.1 and A.3).

- ``single``: one network "receives both fully and partial labeled images without making
  distinction between them": L = Ls (Eq. 1) + λw·Lw (Eq. 2).
- ``single_ent``: Single + λent·Shannon entropy (Eq. 4) of its predictions on the partially
  labelled images (Appendix A.3: Ls + λw Lw + λent H(p)).
"""

from mixseg.losses import entropy
from mixseg.methods.base import Method, supervised_terms


def _single(logits, batch, hp, ctx=None):
    return supervised_terms(logits[0], batch, hp.lambda_w)


def _single_ent(logits, batch, hp, ctx=None):
    terms = supervised_terms(logits[0], batch, hp.lambda_w)
    rows = ~batch.is_full if hp.entropy_on == "partial" else slice(None)
    terms["ent"] = hp.lambda_ent * entropy(logits[0][rows])
    return terms


SINGLE = Method(
    name="single",
    n_decoders=1,
    full_pool="full",
    other_rows="partial",
    reads=frozenset({"lambda_w"}),
    objective=_single,
)
SINGLE_ENT = Method(
    name="single_ent",
    n_decoders=1,
    full_pool="full",
    other_rows="partial",
    reads=frozenset({"lambda_w", "lambda_ent", "entropy_on"}),
    objective=_single_ent,
)
