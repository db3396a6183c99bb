"""The names of a model's predictions ("heads", paper Table 1) and the outputs each one uses.

One module, so that training (validation), evaluation, inference, pseudo-labelling, ``mixseg
segment`` and the command line cannot disagree on what a head is. It imports nothing: the CLI
reads it without loading torch.

- ``teacher``: output 0, the upper branch of a dual model (full masks); the only output of a
  single network.
- ``student``: output 1, the lower branch (partial labels): the branch the paper uses at test
  time.
- ``ensemble``: the mean of the two softmax maps.

The outputs are a dual model's decoders or a co-training model's networks (``models.CoNets``).
"""

from __future__ import annotations

TEACHER, STUDENT, ENSEMBLE = "teacher", "student", "ensemble"
HEADS = (TEACHER, STUDENT, ENSEMBLE)
OUTPUTS = {TEACHER: (0,), STUDENT: (1,), ENSEMBLE: (0, 1)}  # head -> outputs it averages


def heads_of(n_outputs: int) -> tuple[str, ...]:
    """The heads of a network with ``n_outputs`` outputs: ``teacher`` alone, or all three.

    Raises:
        ValueError: ``n_outputs`` is not 1 or 2.
    """
    if n_outputs not in (1, 2):
        raise ValueError(f"a model has 1 or 2 outputs, got {n_outputs}")
    return (TEACHER,) if n_outputs == 1 else HEADS


def inference_head(n_outputs: int) -> str:
    """The head a run is used with: ``student`` of a two-output model, else ``teacher``."""
    return STUDENT if STUDENT in heads_of(n_outputs) else TEACHER
