"""The time-to-quality benchmark's pure parts (``benchmarks/bench_ttq.py``,
``benchmarks/repro_schedule.py``): the list-scheduling simulation of `make repro`'s plan and the
time-to-quality function, on hand-computed numbers; the plain loop's loss against ours."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
import torch

from benchmarks import repro_schedule
from benchmarks.common import load_params
from benchmarks.ttq_loops import Plain, time_to_quality

pytestmark = pytest.mark.usefixtures("one_thread")


@dataclass(frozen=True)
class It:
    name: str
    after: tuple[str, ...] = ()


@pytest.mark.parametrize(
    ("items", "secs", "workers", "makespan"),
    [
        # a and b start; c waits for b (7 s), then runs 5 s: 12 s; a ends at 10
        ([It("a"), It("b"), It("c", ("b",))], {"a": 10, "b": 7, "c": 5}, 2, 12),
        ([It("a"), It("b"), It("c", ("b",))], {"a": 10, "b": 7, "c": 5}, 1, 22),
        ([It("a"), It("b"), It("c", ("b",))], {"a": 10, "b": 7, "c": 5}, 8, 12),
        # list order among the ready items: at 3 s, d (ready) is taken before b (waits for a);
        # b starts when a ends at 4 and ends at 5; d ends at 6
        ([It("a"), It("b", ("a",)), It("c"), It("d")], {"a": 4, "b": 1, "c": 3, "d": 3}, 2, 6),
    ],
)
def test_simulate_hand_computed(items, secs, workers, makespan) -> None:
    out = repro_schedule.simulate(items, secs, workers)
    assert out["makespan"] == makespan
    starts = {e["item"]: e["start"] for e in out["schedule"]}
    ends = {e["item"]: e["end"] for e in out["schedule"]}
    for it in items:  # every item once, after its prerequisites
        assert all(ends[a] <= starts[it.name] for a in it.after)
    assert sorted(starts) == sorted(it.name for it in items)


def test_simulate_schedule_of_the_example() -> None:
    items = [It("a"), It("b"), It("c", ("b",))]
    out = repro_schedule.simulate(items, {"a": 10, "b": 7, "c": 5}, 2)
    assert out["schedule"] == [
        {"item": "a", "start": 0.0, "end": 10.0, "worker": 0},
        {"item": "b", "start": 0.0, "end": 7.0, "worker": 1},
        {"item": "c", "start": 7.0, "end": 12.0, "worker": 1},
    ]


@pytest.mark.parametrize(
    "items",
    [[It("a", ("x",))], [It("a", ("b",)), It("b", ("a",))]],
    ids=["unknown", "cycle"],
)
def test_simulate_rejects_impossible_plans(items) -> None:
    with pytest.raises(ValueError):
        repro_schedule.simulate(items, {it.name: 1 for it in items}, 2)


def test_every_catalog_group_expands_to_repro_run_count() -> None:
    """``Group.runs`` (the runs whose timing.json is read) agrees with repro.py's count."""
    from mixseg import experiments

    params = load_params()
    repro = repro_schedule.load_repro()
    plan = repro.make_plan(params)
    for g in experiments.groups(params):
        runs = g.runs(params)
        assert len(runs) == len(set(runs)) == repro._runs(g, params), g.stage
    covered = {g.stage for it in plan for g in repro_schedule.item_groups(it, params)}
    assert covered == {g.stage for g in experiments.groups(params) if repro._runs(g, params)}


CURVE = [
    {"step": 10, "core_seconds": 1.0, "dsc": 0.2},
    {"step": 20, "core_seconds": 2.0, "dsc": math.nan},
    {"step": 30, "core_seconds": 3.0, "dsc": 0.78},
    {"step": 40, "core_seconds": 4.0, "dsc": 0.8},
    {"step": 50, "core_seconds": 5.0, "dsc": 0.79},
]


def test_time_to_quality_on_a_fabricated_curve() -> None:
    # best 0.8 -> bar 0.76, first reached at step 30 (0.78), 3 core-seconds
    t = time_to_quality(CURVE)
    assert t["converged"] == 0.8 and t["threshold"] == pytest.approx(0.76)
    assert (t["step"], t["core_seconds"]) == (30, 3.0)
    assert time_to_quality(CURVE, fraction=1.0)["step"] == 40
    assert time_to_quality(CURVE, bar=0.1)["step"] == 10
    assert time_to_quality(CURVE, bar=0.9)["step"] is None  # above the best: never reached


def test_time_to_quality_rejects_empty_curves() -> None:
    with pytest.raises(ValueError):
        time_to_quality([{"step": 10, "core_seconds": 1.0, "dsc": math.nan}])
    with pytest.raises(ValueError):
        time_to_quality(CURVE, fraction=0)


@pytest.mark.parametrize("method", ["lower", "kl_ent"])
def test_plain_loss_equals_ours(method: str) -> None:
    """Same weights, same batch, eval mode: the plain loop's hand-written loss is ours."""
    from mixseg import runs, train
    from mixseg.data.batch import IGNORE, Batch

    params = load_params()
    run = runs.resolve_run(  # a ratio given: no splits.json needed
        params, dataset="acdc", method=method, setting="set3", seed=0, overrides={"ratio": "5"}
    )
    cpu = torch.device("cpu")
    trainer = train.build_trainer(2, run.recipe, run.hp, run.tp, 0, 10, cpu, None)
    plain = Plain(run, trainer.model.state_dict(), 10)
    g = torch.Generator().manual_seed(0)
    nf, nw = (2, 3) if method == "kl_ent" else (3, 0)
    size = (nf + nw, 32, 32)
    labels = torch.randint(0, 2, size, generator=g)
    is_full = torch.arange(nf + nw) < nf
    mask = torch.where(is_full[:, None, None], labels, IGNORE)
    weak = torch.where(~is_full[:, None, None] & (labels == 1), 1, IGNORE)
    batch = Batch(torch.randn(size, generator=g)[:, None], mask, weak, is_full)
    trainer.model.eval()
    plain.model.eval()
    with torch.no_grad():
        ours, theirs = float(trainer.loss(batch, 0)[0]), float(plain.loss(batch))
    assert ours == pytest.approx(theirs, rel=1e-5, abs=1e-6)


def _fabricate_timings(params, seconds: float, skip: int = 0) -> tuple[int, int]:
    """A timing.json of ``seconds`` for every trained run of the catalog but the first
    ``skip``. Returns (trained runs, evaluation-only runs: they have no timing.json)."""
    import json

    from mixseg import experiments, paths

    groups = experiments.groups(params)
    keys = [k for g in groups if g.evaluates is None for k in g.runs(params)]
    for key in keys[skip:]:
        f = paths.timing_file(*key)
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps({"seconds": seconds, "seconds_per_step": seconds / 500}))
    return len(keys), sum(len(g.runs(params)) for g in groups if g.evaluates is not None)


def test_projection_without_timings_is_skipped(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    out = repro_schedule.project(load_params())
    assert "timing.json" in out["skipped"]


def test_projection_on_fabricated_timings(tmp_path, monkeypatch) -> None:
    """More workers never take longer; the serial sum bounds every projection; the overhead
    implied by a "measured" time made with a known overhead is that overhead; a missing run
    is imputed from its group; an evaluation-only stage costs the overhead alone."""
    monkeypatch.chdir(tmp_path)
    params = load_params()
    n, n_eval = _fabricate_timings(params, 60.0, skip=1)
    assert n_eval == 9  # decoupled-sheach: 3 settings x 3 seeds
    kw = {"data_seconds": 44.0, "tail_seconds": 14.0}
    made = repro_schedule.project(params, stage_overhead=20.0, **kw)
    secs = [p["seconds"] for p in made["projections"].values()]
    assert made["missing_runs"] == 1
    assert made["items"]["evaluations"]["stages"] == n_eval
    assert made["items"]["evaluations"]["seconds"] == n_eval * 20.0
    assert made["assumptions"]["serial_sum_s"] == pytest.approx(44 + n * 80 + n_eval * 20 + 14)
    assert secs[0] >= secs[1] and secs[0] <= made["assumptions"]["serial_sum_s"]
    out = repro_schedule.project(params, stage_overhead=5.0, measured_seconds=secs[0], **kw)
    assert out["measured_seconds"] == secs[0]
    assert out["implied_stage_overhead_s"] == pytest.approx(20.0, abs=0.1)


def test_missing_data_names_the_stage_to_run(tmp_path, monkeypatch) -> None:
    from benchmarks.ttq_loops import check_data

    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"dvc repro erode-labels@acdc"):
        check_data()
