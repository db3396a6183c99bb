"""``checkpoint.Best``: which validation's weights ``train.select: best`` keeps."""

from __future__ import annotations

import math

import torch
from torch import nn

from mixseg.checkpoint import Best


def test_keeps_the_first_highest_score_and_a_copy_of_the_weights():
    net = nn.Linear(1, 1)
    best = Best("val/dsc_student")
    for step, score in [(1, 0.5), (2, 0.7), (3, 0.7), (4, math.nan), (5, 0.6)]:
        with torch.no_grad():
            net.weight.fill_(step)
        best.offer({"step": step, "val/dsc_student": score}, net)
    best.offer({"step": 6, "train/loss": 0.1}, net)  # a record without validation
    assert (best.step, best.score) == (2, 0.7)
    assert best.weights["weight"].item() == 2.0  # not the network's current weights (6)
    assert best.summary(6) == {"select": "best", "step": 2, "val/dsc_student": 0.7}
    net.weight.data.fill_(9.0)
    best.restore(net)
    assert net.weight.item() == 2.0


def test_last_keeps_nothing():
    net = nn.Linear(1, 1)
    best = Best(None)
    best.offer({"step": 3, "val/dsc_teacher": 0.9}, net)
    assert best.weights is None
    before = net.weight.clone()
    best.restore(net)
    assert torch.equal(net.weight, before)
    assert best.summary(8) == {"select": "last", "step": 8}


def test_nothing_kept_before_a_validation():
    best = Best("val/dsc_teacher")
    best.offer({"step": 1, "val/dsc_teacher": math.nan}, nn.Linear(1, 1))
    assert best.weights is None and best.score == -math.inf
