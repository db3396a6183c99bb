"""``selection``: which validation's weights ``train.select: best`` keeps, for the evaluated
head (``Best``) or for each head (``EachHead``, every dual-branch run), and which of them an
evaluation uses under ``train.select_head`` (``own_weights``, ``selected_record``)."""

from __future__ import annotations

import dataclasses
import io
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from mixseg.selection import Best, EachHead, own_weights, selected_record

SCORES = [(1, 0.5), (2, 0.7), (3, 0.7), (4, math.nan), (5, 0.6)]


@pytest.mark.parametrize(("ties", "step"), [("last", 3), ("first", 2)])
def test_keeps_the_highest_score_and_a_copy_of_the_weights(ties, step):
    """0.7 at steps 2 and 3: ``ties`` decides which; the NaN at step 4 never wins."""
    net = nn.Linear(1, 1)
    best = Best("val/dsc_student", ties)
    for s, score in SCORES:
        with torch.no_grad():
            net.weight.fill_(s)
        best.offer({"step": s, "val/dsc_student": score}, net)
    best.offer({"step": 6, "train/loss": 0.1}, net)  # a record without validation
    assert (best.step, best.score) == (step, 0.7)
    assert best.weights["weight"].item() == step  # not the network's current weights (6)
    assert best.summary(6) == {"select": "best", "step": step, "val/dsc_student": 0.7}
    net.weight.data.fill_(9.0)
    best.restore(net)
    assert net.weight.item() == step


def test_a_validation_that_never_moves_keeps_the_last_weights_under_ties_last():
    """The Left Atrium's Decoupled student scored 0.242 at every check: with ``first`` the run
    kept step 50's weights for all its heads (the teacher barely trained)."""
    net = nn.Linear(1, 1)
    last, first = Best("val/dsc_student"), Best("val/dsc_student", "first")
    for s in (50, 100, 150):
        net.weight.data.fill_(s)
        for best in (last, first):
            best.offer({"step": s, "val/dsc_student": 0.242}, net)
    assert (last.step, first.step) == (150, 50)
    with pytest.raises(ValueError, match="ties must be last or first"):
        Best("val/dsc_student", "best")


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


# (step, teacher, student, ensemble) validation Dice; step 5 logs no validation.
HISTORY = [(1, 0.2, 0.5, 0.3), (2, 0.4, 0.3, 0.6), (3, 0.8, math.nan, 0.6), (4, 0.8, 0.4, 0.5)]


def _offer_history(each: EachHead, net: nn.Linear, history=HISTORY) -> None:
    """Offer ``history`` with the network's weight set to the step number at each step."""
    for step, *scores in history:
        with torch.no_grad():
            net.weight.fill_(step)
        heads = ("teacher", "student", "ensemble")
        rec = {f"val/dsc_{h}": s for h, s in zip(heads, scores, strict=True)}
        each.offer({"step": step, **rec}, net)


def test_each_head_keeps_its_own_best_step_of_equal_scores_the_last():
    """Teacher: 0.8 at steps 3 and 4; student: 0.5 at step 1 (NaN at 3 never wins); ensemble:
    0.6 at steps 2 and 3."""
    net = nn.Linear(1, 1)
    each = EachHead.of("student", ("teacher", "student", "ensemble"))
    _offer_history(each, net)
    kept = {h: (b.step, b.score, b.weights["weight"].item()) for h, b in each.heads.items()}
    assert kept == {"teacher": (4, 0.8, 4.0), "student": (1, 0.5, 1.0), "ensemble": (3, 0.6, 3.0)}


def test_each_head_keeps_the_weights_of_its_own_best_step():
    """Under ``ties: first``: teacher 0.8 first at step 3 (tie at 4); student: 0.5 at step 1;
    ensemble: 0.6 first at step 2 (tie at 3). Each keeps its own copy of the network."""
    net = nn.Linear(1, 1)
    each = EachHead.of("student", ("teacher", "student", "ensemble"), "first")
    _offer_history(each, net)
    net.weight.data.fill_(5.0)
    each.offer({"step": 5, "train/loss": 0.1}, net)
    kept = {h: (b.step, b.score, b.weights["weight"].item()) for h, b in each.heads.items()}
    assert kept == {"teacher": (3, 0.8, 3.0), "student": (1, 0.5, 1.0), "ensemble": (2, 0.6, 2.0)}
    heads = {
        "teacher": {"step": 3, "val/dsc_teacher": 0.8},
        "student": {"step": 1, "val/dsc_student": 0.5},
        "ensemble": {"step": 2, "val/dsc_ensemble": 0.6},
    }
    assert each.head_steps() == heads
    # train.json: the evaluated head's record under `evaluated` (as a Best of it writes it) ...
    assert each.summary(5) == {"select": "best", "step": 1, "val/dsc_student": 0.5}
    assert selected_record("evaluated", each.summary(5), each.head_steps()) == each.summary(5)
    # ... plus every head's step and score under `each`
    assert selected_record("each", each.summary(5), each.head_steps()) == {
        "select": "best",
        "step": 1,
        "val/dsc_student": 0.5,
        "select_head": "each",
        "heads": heads,
    }
    others = each.others(net)
    assert {h: w["weight"].item() for h, w in others.items()} == {"teacher": 3.0, "ensemble": 2.0}
    each.restore(net)  # the evaluated head's weights go into the network (model.pt's "model")
    assert net.weight.item() == 1.0


SCORE = st.sampled_from([0.0, 0.25, 0.5, 0.75, math.nan])  # ties and NaNs are frequent


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(SCORE, SCORE, SCORE), min_size=1, max_size=8),
    st.sampled_from(["last", "first"]),
)
def test_each_head_is_the_best_of_that_head_alone(rows, ties):
    """What ``EachHead`` keeps for a head is what a ``Best`` of that head alone keeps, step
    and weights."""
    history = [(i + 1, *row) for i, row in enumerate(rows)]
    each = EachHead.of("student", ("teacher", "student", "ensemble"), ties)
    _offer_history(each, nn.Linear(1, 1), history)
    for col, head in enumerate(("teacher", "student", "ensemble")):
        alone, net = Best(f"val/dsc_{head}", ties), nn.Linear(1, 1)
        for step, *row in history:
            net.weight.data.fill_(step)
            alone.offer({"step": step, f"val/dsc_{head}": row[col]}, net)
        mine = each.heads[head]
        assert (mine.step, mine.score) == (alone.step, alone.score)
        assert (mine.weights is None) == (alone.weights is None)
        if alone.weights is not None:
            assert torch.equal(mine.weights["weight"], alone.weights["weight"])


def test_a_head_never_scored_keeps_the_last_weights():
    """As ``Best`` without a score restores nothing (the last weights stay)."""
    net = nn.Linear(1, 1)
    each = EachHead.of("student", ("teacher", "student", "ensemble"))
    net.weight.data.fill_(1.0)
    each.offer({"step": 1, "val/dsc_student": 0.5, "val/dsc_ensemble": 0.4}, net)
    net.weight.data.fill_(2.0)
    others = each.others(net)
    assert others["teacher"]["weight"].item() == 2.0 and others["ensemble"]["weight"].item() == 1.0


def test_each_head_resumes_from_its_saved_state():
    """The scratch checkpoint saves ``dataclasses.asdict`` and resumes with ``load``: offering
    the rest of the history then keeps what an uninterrupted tracker keeps."""
    net = nn.Linear(1, 1)
    straight = EachHead.of("student", ("teacher", "student", "ensemble"))
    _offer_history(straight, net)
    first = EachHead.of("student", ("teacher", "student", "ensemble"))
    _offer_history(first, net, HISTORY[:2])
    buf = io.BytesIO()
    torch.save(dataclasses.asdict(first), buf)
    buf.seek(0)
    resumed = EachHead.of("student", ("teacher", "student", "ensemble"))
    resumed.load(torch.load(buf, weights_only=False))
    _offer_history(resumed, net, HISTORY[2:])
    assert resumed.summary(4) == straight.summary(4)
    assert resumed.head_steps() == straight.head_steps()
    for head, best in straight.heads.items():
        assert torch.equal(resumed.heads[head].weights["weight"], best.weights["weight"])


def test_evaluated_head_must_be_one_of_the_heads():
    with pytest.raises(ValueError, match="evaluated head 'student'"):
        EachHead.of("student", ("teacher",))


def test_best_keeps_nothing_for_other_heads():
    assert Best("val/dsc_student").others(nn.Linear(1, 1)) == {}


def test_a_checkpoint_of_one_head_does_not_resume_each_head():
    """A scratch checkpoint of a ``Best`` (one head's weights) cannot give the other heads'."""
    best = Best("val/dsc_student")
    best.offer({"step": 1, "val/dsc_student": 0.5}, nn.Linear(1, 1))
    each = EachHead.of("student", ("teacher", "student", "ensemble"))
    with pytest.raises(ValueError, match="one head's weights only"):
        each.load(dataclasses.asdict(best))


def test_a_single_selection_records_nothing_per_head():
    best = Best("val/dsc_teacher")
    assert best.head_steps() == {} and best.others(nn.Linear(1, 1)) == {}
    summary = {"select": "best", "step": 2, "val/dsc_teacher": 0.7}
    assert selected_record("each", summary, best.head_steps()) == summary


def _state(rule: str | None, head_weights: dict | None, n_decoders: int = 2, n_networks: int = 1):
    """A loaded model.pt's keys that ``own_weights`` reads (``rule`` None: not recorded)."""
    train = {} if rule is None else {"select_head": rule}
    state = {"config": {"run": "r", "train": train}, "n_decoders": n_decoders}
    state["n_networks"] = n_networks
    if head_weights is not None:
        state["head_weights"] = head_weights
    return state


@pytest.mark.parametrize(
    ("recorded", "asked", "expected"),
    [
        (None, None, {}),  # the default rule, not recorded: evaluated
        ("evaluated", None, {}),
        ("each", None, {"teacher": "T"}),
        (None, "each", {"teacher": "T"}),  # a Table 1 run evaluated under each (decoupled-sheach)
        ("each", "evaluated", {}),
    ],
)
def test_own_weights_follow_the_rule_not_the_file(recorded, asked, expected):
    """Every dual-branch model.pt has ``head_weights``; only ``each`` uses them."""
    assert own_weights(_state(recorded, {"teacher": "T"}), asked) == expected


def test_own_weights_under_each_need_head_weights_of_a_dual_branch():
    with pytest.raises(ValueError, match="kept no weights per head"):
        own_weights(_state(None, None), "each")
    assert own_weights(_state(None, None, n_decoders=1), "each") == {}  # one head
    assert own_weights(_state(None, None, n_networks=2), "each") == {}  # co-trained networks
    with pytest.raises(ValueError, match="select_head must be"):
        own_weights(_state(None, None), "best")
