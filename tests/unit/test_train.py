"""The training loop on a tiny prepared dataset: it trains, logs, saves, and a run interrupted
and resumed ends with exactly the weights of an uninterrupted run."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
import torch

from mixseg import paths, runs, train
from mixseg.config import PreprocessParams, SettingsParams, SplitParams, TrainParams, read_params
from mixseg.data.prepare import prepare_acdc
from mixseg.data.weak_labels import write_weak_labels
from mixseg.evaluate import evaluate_run, load_model
from mixseg.heads import inference_head
from mixseg.methods import METHODS
from mixseg.methods.base import HyperParams, KDParams
from mixseg.train import fit

TP = TrainParams(
    base=4,
    padding="same",
    batch_full=2,
    batch_weak=2,
    batch_unlabeled=2,
    patch=None,
    stride=None,
    steps=6,
    epochs=None,
    optimizer="adam",
    lr=1e-3,
    lr_schedule="cosine",
    weight_decay=0.0,
    log_every=1,
    val_every=3,
    checkpoint_every=2,
    threads=None,
    select="last",
    select_head="evaluated",
    select_ties="last",
    precision="mixed",
)
HP = HyperParams(
    lambda_w=0.1,
    lambda_kd=5.0,
    lambda_ent=1.0,
    divergence="kl",
    kd=KDParams(smoothing=True, temperature=1.0, direction="teacher_student", detach_teacher=False),
    entropy_on="partial",
)
PRE = PreprocessParams(mode="crop", size=(16, 16), spacing_mm=3.0, percentiles=(0.0, 100.0))
ROOT = Path(__file__).resolve().parents[2]
PARAMS = read_params(ROOT / "params.yaml")
EVAL_FILES = ("cases.csv", "metrics.json", "slice_images.npz", "slices.npz")


@pytest.fixture
def project(acdc_root, tmp_path, monkeypatch):
    """A working directory holding data/processed/acdc and data/weak/acdc."""
    monkeypatch.chdir(tmp_path)
    meta = prepare_acdc(
        acdc_root,
        paths.processed_dir("acdc"),
        PRE,
        SplitParams(0.8, 0.1, 0.1, 0),
        SettingsParams(n_full=(1,), ratios=(2,), default_ratio=2),
    )
    ids = [c for p in meta["train"] for c in meta["patients"][p]["cases"]]
    write_weak_labels(paths.cases_dir("acdc"), ids, paths.weak_dir("acdc"), 2, 3, 2, True)
    return tmp_path


def _fit(
    name: str,
    method: str = "kl_ent",
    tp: TrainParams = TP,
    max_steps: int | None = None,
    hp: HyperParams = HP,
    pseudo_from: str | None = None,
):
    return fit(_run(name, method, tp, hp, pseudo_from), max_steps=max_steps)


def _run(
    name: str,
    method: str = "kl_ent",
    tp: TrainParams = TP,
    hp: HyperParams = HP,
    pseudo_from: str | None = None,
) -> runs.Run:
    """The Set-1, seed-0 ACDC run of the test preset these tests train."""
    return runs.Run(
        dataset="acdc",
        method=method,
        name=name,
        setting="set1",
        seed=0,
        ratio=2,
        overrides={},
        pseudo_from=pseudo_from,
        hp=hp,
        tp=tp,
        train_key="presets.test.acdc.train",
        preprocess=PRE,
    )


def _weights(name: str) -> dict[str, torch.Tensor]:
    return torch.load(paths.run_dir("acdc", "set1", name, 0) / "model.pt", weights_only=True)[
        "model"
    ]


@pytest.mark.parametrize("method", sorted(METHODS))
def test_two_steps_of_every_method(project, method):
    tp = dataclasses.replace(TP, steps=2, val_every=2)
    hp = runs.resolve_hyper(PARAMS, METHODS[method], {})
    pseudo = None
    if METHODS[method].other_rows == "pseudo":
        _fit("teacher", "lower", tp=tp)
        pseudo = "teacher"
    summary = _fit(method, method, tp=tp, hp=hp, pseudo_from=pseudo)
    out = paths.run_dir("acdc", "set1", method, 0)
    results = paths.results_dir("acdc", "set1", method, 0)
    assert (out / "model.pt").exists() and (out / "timing.json").exists()
    assert json.loads((results / "train.json").read_text())["steps"] == 2
    final = summary["final"]
    assert final["step"] == 2
    assert all(torch.isfinite(torch.tensor(v)) for k, v in final.items() if k.startswith("train/"))
    n_heads = METHODS[method].outputs()
    assert sum(k.startswith("val/dsc_") for k in final) == (1 if n_heads == 1 else 3)
    assert (paths.live_plots_dir("acdc", "set1", method, 0) / "train" / "loss.tsv").exists()
    rows, ev, kept = evaluate_run("acdc", out / "model.pt")
    assert kept and kept[0]["head"] == inference_head(n_heads)
    assert set(ev["heads"]) == set(METHODS[method].heads())


def test_resume_equals_uninterrupted(project):
    _fit("straight")
    assert _fit("resumed", max_steps=4) == {"interrupted_at": 4}
    assert (paths.scratch_dir("acdc", "set1", "resumed", 0) / "checkpoint.pt").exists()
    summary = _fit("resumed")
    assert summary["resumed_from"] == 4
    a, b = _weights("straight"), _weights("resumed")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert not paths.scratch_dir("acdc", "set1", "resumed", 0).exists()
    # Stable hashes: the git-tracked outputs are byte-identical (model.pt differs only by the
    # run name in its config); the wall-clock values are all in timing.json.
    assert _results_bytes("straight") == _results_bytes("resumed")
    timing = json.loads(paths.timing_file("acdc", "set1", "resumed", 0).read_text())
    assert set(timing) == {"resumed_from", "seconds", "seconds_per_step", "images_per_second"}


def test_a_run_whose_loss_turns_non_finite_stops_without_a_model(project, monkeypatch):
    """Weights poisoned by the third update (as a bad bfloat16 gradient did on LA): the loss of
    step 4 is NaN, fit raises naming the run and the step, writes no model.pt, and keeps the
    scratch checkpoint of step 2 (the last finite one)."""
    step = train.Trainer.step

    def poisoned(self, batch, i, *args):
        out = step(self, batch, i, *args)
        if i == 2:
            with torch.no_grad():
                next(self.model.parameters()).fill_(float("nan"))
        return out

    monkeypatch.setattr(train.Trainer, "step", poisoned)
    with pytest.raises(
        FloatingPointError, match=r"acdc set1 nan seed 0: training loss nan at step 4"
    ):
        _fit("nan", "lower")
    assert not (paths.run_dir("acdc", "set1", "nan", 0) / "model.pt").exists()
    saved = torch.load(
        paths.scratch_dir("acdc", "set1", "nan", 0) / "checkpoint.pt", weights_only=False
    )
    assert saved["step"] == 2


def test_device_and_amp_follows_precision_and_the_cpu():
    native = torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    device, dtype = train.device_and_amp("mixed")
    if device.type == "cpu":
        assert dtype == (torch.bfloat16 if native else None)
    else:
        assert dtype == torch.float16
    assert train.device_and_amp("float32")[1] is None


@pytest.mark.parametrize("precision", ["mixed", "float32"])
def test_precision_is_what_train_json_records_and_runs_repeat(project, precision):
    tp = dataclasses.replace(TP, steps=3, precision=precision)
    _fit(f"p-{precision}-a", tp=tp)
    _fit(f"p-{precision}-b", tp=tp)
    a, b = _weights(f"p-{precision}-a"), _weights(f"p-{precision}-b")
    assert all(torch.equal(a[k], b[k]) for k in a)  # deterministic in either precision
    summary = json.loads(
        (paths.results_dir("acdc", "set1", f"p-{precision}-a", 0) / "train.json").read_text()
    )
    expected = train.device_and_amp(precision)[1]
    assert summary["amp"] == (None if expected is None else str(expected).split(".")[1])


def test_bfloat16_step_is_close_to_float32_and_has_no_scaler():
    if train.device_and_amp("mixed")[1] != torch.bfloat16:
        pytest.skip("this CPU has no native bfloat16: mixed precision is float32 here")
    from mixseg.data.batch import IGNORE, Batch

    method = METHODS["kl_ent"]
    tp = dataclasses.replace(TP, precision="mixed")
    torch.manual_seed(0)
    x = torch.randn(4, 1, 32, 32)
    mask = torch.randint(0, 2, (4, 32, 32))
    mask[2:] = IGNORE
    weak = torch.full((4, 32, 32), IGNORE)
    weak[2:, 8:12, 8:12], weak[2:, 20:24, 20:24] = 1, 0
    batch = Batch(image=x, mask=mask, weak=weak, is_full=torch.tensor([True, True, False, False]))
    losses = {}
    for dtype in (None, torch.bfloat16):
        trainer = train.build_trainer(2, method, HP, tp, 0, 2, torch.device("cpu"), dtype)
        assert not trainer.scaler.is_enabled()
        losses[dtype] = float(trainer.loss(batch, 0)[0].detach())
    assert losses[None] != losses[torch.bfloat16]  # autocast ran in bfloat16 ...
    assert losses[torch.bfloat16] == pytest.approx(losses[None], rel=2e-2)  # ... and is close


def _results_bytes(name: str) -> dict[str, bytes]:
    """Every file of a run's git-tracked results, by path relative to its folder."""
    root = paths.results_dir("acdc", "set1", name, 0)
    return {str(f.relative_to(root)): f.read_bytes() for f in root.rglob("*") if f.is_file()}


def test_changed_config_does_not_resume(project):
    _fit("cfg", max_steps=2)
    tp = dataclasses.replace(TP, lr=5e-4)
    summary = _fit("cfg", tp=tp)
    assert summary["resumed_from"] == 0


def test_model_file_loads_weights_only(project):
    _fit("load", tp=dataclasses.replace(TP, steps=1))
    model, cfg = load_model(paths.run_dir("acdc", "set1", "load", 0) / "model.pt")
    assert model.n_decoders == 2 and cfg["run"] == "load"


def test_resume_restores_the_ema_teacher(project):
    """UA-MT's EMA teacher (an aux module) is checkpointed: resumed == uninterrupted."""
    hp = runs.resolve_hyper(PARAMS, METHODS["uamt"], {})
    _fit("ema-straight", "uamt", hp=hp)
    assert _fit("ema-resumed", "uamt", hp=hp, max_steps=4) == {"interrupted_at": 4}
    assert _fit("ema-resumed", "uamt", hp=hp)["resumed_from"] == 4
    a, b = _weights("ema-straight"), _weights("ema-resumed")
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_pseudo_masks_are_the_argmax_of_the_inference_head(project):
    from mixseg.data import datasets
    from mixseg.pseudo import pseudo_masks

    _fit("dual", "kl", tp=dataclasses.replace(TP, steps=2))
    model_file = paths.run_dir("acdc", "set1", "dual", 0) / "model.pt"
    meta = datasets.read_splits("acdc")
    images, _ = datasets.load_volumes("acdc", meta, meta["train"][:2], "none")
    masks = pseudo_masks(model_file, images)
    model, _ = load_model(model_file)
    for image, mask in zip(images, masks, strict=True):
        with torch.no_grad():
            logits = model(torch.from_numpy(image)[:, None], heads=(1,))[0]  # the student
        expected = (logits[:, 1] > logits[:, 0]).numpy().astype("uint8")
        assert mask.dtype == expected.dtype and (mask == expected).mean() > 0.999


def test_best_keeps_the_weights_of_the_best_validation(project):
    """``select: best`` saves the weights whose validation Dice (of the student, for a dual
    branch) was the highest: re-validating model.pt gives exactly that score."""
    from mixseg.data import datasets
    from mixseg.train import validate

    tp = dataclasses.replace(TP, val_every=1, select="best")
    summary = _fit("best", tp=tp)
    chosen = summary["selected"]
    out = paths.run_dir("acdc", "set1", "best", 0)
    live = paths.live_dir("acdc", "set1", "best", 0)
    curve = (live / "plots" / "metrics" / "val" / "dsc_student.tsv").read_text()
    scores = [float(line.split("\t")[-1]) for line in curve.splitlines()[1:]]
    assert len(scores) == TP.steps
    logged = json.loads(paths.train_summary("acdc", "set1", "best", 0).read_text())["selected"]
    assert logged == chosen and chosen["select"] == "best" and 1 <= chosen["step"] <= TP.steps
    model, _ = load_model(out / "model.pt")
    val = datasets.val_cases("acdc", datasets.read_splits("acdc"), "val")
    again = validate(model, val, ("student",), tp)["val/dsc_student"]
    assert again == chosen["val/dsc_student"]
    assert chosen["val/dsc_student"] == max(scores)


def test_resume_keeps_the_best_weights(project):
    tp = dataclasses.replace(TP, val_every=1, select="best")
    _fit("best-straight", tp=tp)
    assert _fit("best-resumed", tp=tp, max_steps=4) == {"interrupted_at": 4}
    assert _fit("best-resumed", tp=tp)["resumed_from"] == 4
    a, b = _weights("best-straight"), _weights("best-resumed")
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_last_keeps_the_last_weights(project):
    summary = _fit("last")
    assert summary["selected"] == {"select": "last", "step": TP.steps}


MODEL_KEYS = {"model", "config", "n_decoders", "n_networks", "dims"}


def test_default_select_head_leaves_train_json_as_it_was(project):
    """``select_head: evaluated`` (the default) writes the train.json it wrote before the
    parameter existed, and the resolved configuration does not name it (so the configuration
    hash is unchanged). model.pt of a dual-branch run has each head's weights and steps too
    (``head_weights``, ``head_steps``: ``pipeline/evaluate.py`` reads them); a single head's
    model.pt has the keys it always had."""
    summary = _fit("default", tp=dataclasses.replace(TP, val_every=1, select="best"))
    state = torch.load(paths.run_dir("acdc", "set1", "default", 0) / "model.pt", weights_only=True)
    assert set(state) == MODEL_KEYS | {"head_weights", "head_steps"}
    assert set(state["head_weights"]) == {"teacher", "ensemble"}
    assert set(state["head_steps"]) == {"teacher", "student", "ensemble"}
    assert "select_head" not in state["config"]["train"]
    assert set(summary["selected"]) == {"select", "step", "val/dsc_student"}
    _fit("one", "lower", tp=dataclasses.replace(TP, val_every=1, select="best"))
    state = torch.load(paths.run_dir("acdc", "set1", "one", 0) / "model.pt", weights_only=True)
    assert set(state) == MODEL_KEYS


def test_each_head_is_saved_and_evaluated_with_its_own_best_weights(project):
    """``select_head: each``: model.pt's usual weights are the student's (the evaluated head),
    ``head_weights`` the teacher's and the ensemble's; re-validating each head with its own
    weights gives exactly the score train.json records for it, at its own step."""
    from mixseg.data import datasets
    from mixseg.evaluate import load_head_models
    from mixseg.train import validate

    tp = dataclasses.replace(TP, val_every=1, select="best", select_head="each")
    chosen = _fit("each", tp=tp)["selected"]
    out = paths.run_dir("acdc", "set1", "each", 0) / "model.pt"
    state = torch.load(out, weights_only=True)
    assert set(state) == MODEL_KEYS | {"head_weights", "head_steps"}
    assert set(state["head_weights"]) == {"teacher", "ensemble"}
    assert state["head_steps"] == chosen["heads"]
    assert state["config"]["train"]["select_head"] == "each"
    curves = paths.live_dir("acdc", "set1", "each", 0) / "plots" / "metrics" / "val"
    models, _ = load_head_models(out)
    val = datasets.val_cases("acdc", datasets.read_splits("acdc"), "val")
    for head in ("teacher", "student", "ensemble"):
        key = f"val/dsc_{head}"
        lines = (curves / f"dsc_{head}.tsv").read_text().splitlines()[1:]
        scores = [float(line.split("\t")[-1]) for line in lines]
        mine = chosen["heads"][head]
        last_best = len(scores) - scores[::-1].index(max(scores))  # select_ties: last
        assert mine[key] == max(scores) and mine["step"] == last_best
        assert validate(models[head], val, (head,), tp)[key] == mine[key]
    assert (chosen["step"], chosen["val/dsc_student"]) == (
        chosen["heads"]["student"]["step"],
        chosen["heads"]["student"]["val/dsc_student"],
    )


@pytest.mark.parametrize("select_head", ["evaluated", "each"])
def test_resumed_run_writes_the_same_bytes(project, select_head):
    """A run interrupted after a scratch checkpoint and resumed writes byte-identical model.pt
    and git-tracked results to the same run uninterrupted (same name: model.pt's config too)."""
    tp = dataclasses.replace(TP, val_every=1, select="best", select_head=select_head)
    model_pt = paths.run_dir("acdc", "set1", "again", 0) / "model.pt"
    _fit("again", tp=tp)
    straight = model_pt.read_bytes(), _results_bytes("again")
    assert _fit("again", tp=tp, max_steps=4) == {"interrupted_at": 4}
    assert _fit("again", tp=tp)["resumed_from"] == 4
    assert (model_pt.read_bytes(), _results_bytes("again")) == straight


def test_each_changes_nothing_for_one_head_or_co_trained_networks():
    """``_best``: a dual branch tracks every head under either ``select_head``; a single head
    and co-trained networks (selected on their ensemble) keep their one selection."""
    from mixseg.selection import Best, EachHead
    from mixseg.train import _best

    def best(method: str, **tp) -> Best | EachHead:
        return _best(_run(method, method, dataclasses.replace(TP, **tp)))

    for rule in ("each", "evaluated"):
        dual = best("kl_ent", select="best", select_head=rule)
        assert isinstance(dual, EachHead) and dual.evaluated == "student"
        assert set(dual.heads) == {"teacher", "student", "ensemble"}
    for method, head in (("lower", "teacher"), ("ssco", "ensemble")):
        assert best(method, select="best", select_head="each") == Best(f"val/dsc_{head}")
        assert best(method, select="best") == Best(f"val/dsc_{head}")
    assert best("kl_ent", select="last") == Best(None)


def test_evaluating_a_run_under_each_equals_training_it_under_each(project):
    """Decoupled trained under ``evaluated`` (Table 1's run) and under ``each`` follow the same
    steps and keep the same weights for every head; ``pipeline/evaluate.py`` evaluating the
    first under ``each`` writes byte for byte the evaluation and train.json that training the
    second wrote (the studies' ``decoupled-sheach``, not trained again)."""
    import importlib.util

    from mixseg.evaluate import write_outputs

    tp = dataclasses.replace(TP, val_every=1, select="best")
    hp = runs.resolve_hyper(PARAMS, METHODS["decoupled"], {})
    trained = {}
    for name, rule, overrides in (
        ("decoupled", "evaluated", {}),
        ("decoupled-sheach", "each", {"select_head": "each"}),
    ):
        run = dataclasses.replace(
            _run(name, "decoupled", dataclasses.replace(tp, select_head=rule), hp),
            overrides=overrides,
        )
        fit(run)
        write_outputs(*evaluate_run("acdc", run.out_dir / "model.pt"), run.eval_dir)
        trained[name] = torch.load(run.out_dir / "model.pt", weights_only=True)
    table1, each = trained["decoupled"], trained["decoupled-sheach"]
    assert table1["head_steps"] == each["head_steps"]
    for a, b in [(table1["model"], each["model"])] + [
        (table1["head_weights"][h], each["head_weights"][h]) for h in ("teacher", "ensemble")
    ]:
        assert all(torch.equal(a[k], b[k]) for k in a)
    before = _results_bytes("decoupled-sheach")
    shutil.rmtree(paths.results_dir("acdc", "set1", "decoupled-sheach", 0))
    spec = importlib.util.spec_from_file_location("evaluate_stage", ROOT / "pipeline/evaluate.py")
    stage = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stage)
    stage.main("--dataset acdc --method decoupled --setting set1 --seed 0 --set select_head=each "
               "--weights-of decoupled".split())  # fmt: skip
    after = _results_bytes("decoupled-sheach")
    assert sorted(after) == [f"eval/{f}" for f in EVAL_FILES] + ["train.json"]
    assert after == {f: before[f] for f in after}
    selected = json.loads(after["train.json"])["selected"]
    assert selected["select_head"] == "each" and selected["heads"] == table1["head_steps"]
    # the Table 1 run itself is still evaluated with one set of weights for every head
    _, own, _ = evaluate_run("acdc", paths.model_file("acdc", "set1", "decoupled", 0))
    _, again, _ = evaluate_run(
        "acdc", paths.model_file("acdc", "set1", "decoupled-sheach", 0), select_head="evaluated"
    )
    assert own["heads"] == again["heads"]


def _constant_heads(teacher: str, student: str) -> dict[str, torch.Tensor]:
    """Weights of a tiny dual UNet whose every output predicts one class everywhere (final
    convolutions zero, biases 0/5 or 8/0): ``fg`` foreground, ``bg`` background (more surely
    than ``fg`` foreground: their mean is background)."""
    from mixseg.models import build_model

    torch.manual_seed(0)
    weights = build_model(dims=2, base=4, n_decoders=2, padding="same").state_dict()
    for i, cls in enumerate((teacher, student)):
        weights[f"decoders.{i}.final.weight"].zero_()
        weights[f"decoders.{i}.final.bias"].copy_(
            torch.tensor([0.0, 5.0] if cls == "fg" else [8.0, 0.0])
        )
    return weights


def test_evaluate_predicts_each_head_with_its_own_weights(project):
    """model.pt's usual weights (the student's) predict background with the teacher output;
    the teacher's own weights predict foreground with it, and so do the ensemble's with both
    outputs. With ``head_weights`` every head predicts foreground everywhere (no empty
    prediction, one Dice per case for all); without, the teacher and the ensemble (mean of a
    0 and a 1 probability: background) predict nothing."""
    from mixseg.data import datasets

    def model_pt(name: str, head_weights: dict | None, rule: str = "each") -> Path:
        tp = dataclasses.asdict(TP) | {"select_head": rule}
        cfg = {"run": name, "method": "kl_ent", "setting": "set1", "seed": 0, "train": tp}
        state = {"model": _constant_heads("bg", "fg"), "config": cfg, "n_decoders": 2}
        if head_weights is not None:
            state["head_weights"] = head_weights
        path = Path(f"{name}.pt")
        torch.save(state, path)
        return path

    own = {"teacher": _constant_heads("fg", "bg"), "ensemble": _constant_heads("fg", "fg")}
    n = len(datasets.val_cases("acdc", datasets.read_splits("acdc"), "test"))
    rows, each, kept = evaluate_run("acdc", model_pt("each", own))
    dsc = {
        h: [r["dsc"] for r in rows if r["head"] == h] for h in ("teacher", "student", "ensemble")
    }
    assert dsc["teacher"] == dsc["student"] == dsc["ensemble"] and min(dsc["student"]) > 0
    assert all(each["heads"][h]["n_pred_empty"] == 0 for h in dsc)
    assert kept and all(k["head"] == "student" for k in kept)
    _, one, _ = evaluate_run("acdc", model_pt("one", None, "evaluated"))
    assert one["heads"]["student"] == each["heads"]["student"]
    assert one["heads"]["teacher"]["n_pred_empty"] == one["heads"]["ensemble"]["n_pred_empty"] == n
    # A run of `evaluated` keeps head_weights too: used only when `each` is asked for.
    table1 = model_pt("table1", own, "evaluated")
    assert evaluate_run("acdc", table1)[1]["heads"] == one["heads"]
    assert evaluate_run("acdc", table1, select_head="each")[1]["heads"] == each["heads"]


# ``upper_batch``: the Upper bound's fully labelled rows per step (train_data.full_rows).


@pytest.mark.parametrize(
    ("preset", "dataset", "lower", "upper_mixed"),
    [("cpu", "acdc", 4, 12), ("paper", "acdc", 8, 24), ("cpu", "la", 2, 6), ("paper", "la", 4, 12)],
)
def test_full_rows_of_each_preset(preset, dataset, lower, upper_mixed):
    """batch_full + batch_weak for the Upper bound under ``mixed`` (params.yaml: 4 + 8, 8 + 16,
    2 + 4, 4 + 8), batch_full under ``full`` and for every other method."""
    from mixseg.train_data import full_rows

    args = dict(dataset=dataset, setting="set3", seed=0, overrides={"ratio": "5"})
    for upper_batch in ("mixed", "full"):
        params = dict(PARAMS, preset=preset, upper_batch=upper_batch)
        upper = runs.resolve_run(params, method="upper", **args)
        assert full_rows(upper) == (upper_mixed if upper_batch == "mixed" else lower)
        for method in ("lower", "single", "kl_ent", "uamt", "proposals"):
            pseudo = "lower" if method == "proposals" else None
            run = runs.resolve_run(params, method=method, pseudo_from=pseudo, **args)
            assert full_rows(run) == lower, method


@pytest.mark.parametrize("upper_batch", ["mixed", "full"])
def test_load_sampler_rows_per_step_at_the_cpu_preset(project, upper_batch):
    """At the cpu preset's sizes (4 fully + 8 partially labelled rows) the Upper bound's batch
    is 12 fully labelled rows under ``mixed``, 4 under ``full``; the Lower bound's is 4 either
    way; the mixed methods' stay 4 + 8. timing.json's images per second counts those rows."""
    from mixseg.train import _timing
    from mixseg.train_data import load_sampler

    params = dict(PARAMS, upper_batch=upper_batch)
    tp = runs.resolve_run(params, dataset="acdc", method="lower", setting="set1", seed=0).tp
    assert (tp.batch_full, tp.batch_weak) == (4, 8)  # what the expected rows assume
    expected = {"upper": 12 if upper_batch == "mixed" else 4, "lower": 4, "single": 4}
    for method, n_full in expected.items():
        run = runs.resolve_run(params, dataset="acdc", method=method, setting="set1", seed=0)
        sampler = load_sampler(run)
        n_other = 8 if method == "single" else 0
        assert (sampler.batch_full, sampler.batch_other) == (n_full, n_other), method
        batch = sampler.batch(3)
        assert batch.image.shape[0] == n_full + n_other, method
        assert int(batch.is_full.sum()) == n_full and bool(batch.is_full[:n_full].all()), method
        timing = _timing(10, 0, sampler, (5.0, 2.0))  # 10 steps in 2 s of training
        assert timing["images_per_second"] == 10 * (n_full + n_other) / 2, method


def test_total_steps_with_epochs_counts_the_rows_drawn_per_step():
    """With ``epochs``, an epoch is n_full_images // (fully labelled rows per step) steps (at
    least 1): 50 images at 12 rows are 4 steps per epoch, at 4 rows 12; ``steps`` ignores it."""
    from mixseg.train import total_steps

    tp = dataclasses.replace(TP, steps=None, epochs=3)
    assert total_steps(tp, 50, 12) == 3 * 4
    assert total_steps(tp, 50, 4) == 3 * 12
    assert total_steps(tp, 10, 12) == 3 * 1  # fewer images than rows: one step per epoch
    assert total_steps(TP, 50, 12) == TP.steps == total_steps(TP, 50, 4)
    with pytest.raises(ValueError, match="exactly one"):
        total_steps(dataclasses.replace(TP, epochs=3), 50, 4)


def test_an_upper_bound_epoch_is_one_pass_at_its_own_batch(project):
    """fit counts an epoch of the Upper bound in steps of the rows its sampler draws
    (TP: 2 + 2 = 4 under ``mixed``), not of ``batch_full`` (2)."""
    tp = dataclasses.replace(TP, steps=None, epochs=1, val_every=100, checkpoint_every=100)
    summary = _fit("upper-epochs", "upper", tp=tp, hp=HyperParams(upper_batch="mixed"))
    n = summary["n_full_images"]
    assert n // 4 != n // 2  # the test tells the two apart
    assert summary["steps"] == max(n // 4, 1)
