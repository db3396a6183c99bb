"""Evaluation of one trained run on the test patients (paper section 4, "Evaluation metrics").

Each test case (an ACDC patient x ED/ES frame, or a Left-Atrium volume) is segmented (2D: slice
by slice, stacked into its volume; 3D: sliding window, ``infer``);
DSC and HD95 are computed in 3D on the preprocessed grid with its voxel spacing, so HD95 is in
mm (``metrics.py`` documents the empty-prediction policy). Every head of the run is evaluated:
``teacher`` (single-branch models have only this one), ``student`` and ``ensemble``, each with
the weights ``train.select_head`` gives it (``load_head_models``: one set for every head under
``evaluated``, each head's own under ``each``). The rule is the run's own, or another one
asked for: a dual-branch run keeps each head's weights either way, so ``pipeline/evaluate.py``
evaluates a run under ``each`` without training it again.

Outputs: a per-case CSV (one row per case and head), a summary JSON with, per head, the mean
and the (population) standard deviation over test cases (tables average these over seeds), and
the qualitative slices of the figures (``mixseg.slices``), taken from the same predictions.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mixseg import atomic, slices
from mixseg.data import datasets
from mixseg.heads import heads_of, inference_head
from mixseg.infer import predict_heads, to_labels
from mixseg.metrics import case_metrics
from mixseg.models import build_model
from mixseg.selection import own_weights


def load_model(
    model_file: Path, device: torch.device | None = None
) -> tuple[torch.nn.Module, dict]:
    """Rebuild a trained network from ``model.pt`` (loaded with ``weights_only=True``), with
    its usual weights (those of the evaluated head).

    Returns:
        (model in eval mode, resolved configuration of its run).
    """
    state = torch.load(model_file, map_location=device or "cpu", weights_only=True)
    return _network(state, state["model"], device), state["config"]


def load_record(model_file: Path) -> tuple[dict, dict[str, dict[str, Any]]]:
    """What ``model.pt`` records of its run, without building the network: (resolved
    configuration, ``head_steps``: head -> step and score of its own best validation, empty
    but for a dual-branch run with ``select: best``)."""
    state = torch.load(model_file, map_location="cpu", mmap=True, weights_only=True)
    return state["config"], state.get("head_steps", {})


def load_head_models(
    model_file: Path, device: torch.device | None = None, select_head: str | None = None
) -> tuple[dict[str, torch.nn.Module], dict]:
    """Each head's network from ``model.pt`` under ``select_head`` (None: the run's own):
    under ``each`` a head listed in ``head_weights`` gets a network of its own weights; every
    other head shares the network of the usual weights (all of them under ``evaluated``).

    Returns:
        (head -> model in eval mode, for every head of the network; resolved configuration).

    Raises:
        ValueError: ``each`` for a dual-branch run without ``head_weights``
            (``selection.own_weights``).
    """
    state = torch.load(model_file, map_location=device or "cpu", weights_only=True)
    main = _network(state, state["model"], device)
    own = own_weights(state, select_head)
    models = {
        h: _network(state, own[h], device) if h in own else main for h in heads_of(main.n_decoders)
    }
    return models, state["config"]


def _network(
    state: dict[str, Any], weights: dict[str, torch.Tensor], device: torch.device | None
) -> torch.nn.Module:
    """The network ``state`` (a loaded ``model.pt``) describes, holding ``weights``."""
    tp = state["config"]["train"]
    dims = state.get("dims", 2)
    model = build_model(
        dims=dims,
        base=tp["base"],
        n_decoders=state["n_decoders"],
        padding=tp["padding"],
        n_networks=state.get("n_networks", 1),
    )
    model.load_state_dict(weights)
    layout = torch.channels_last if dims == 2 else torch.contiguous_format
    model.to(device or "cpu", memory_format=layout).eval()
    return model


def _by_network(models: dict[str, torch.nn.Module]) -> list[tuple[torch.nn.Module, list[str]]]:
    """The distinct networks of ``models`` with the heads each one predicts, in head order:
    one forward pass per network and case serves all its heads."""
    groups: dict[int, tuple[torch.nn.Module, list[str]]] = {}
    for head, model in models.items():
        groups.setdefault(id(model), (model, []))[1].append(head)
    return list(groups.values())


def evaluate_run(
    dataset: str, model_file: Path, split: str = "test", select_head: str | None = None
) -> tuple[list[dict], dict, list[dict]]:
    """Per-case rows, the summary and the qualitative slice records (``slices.pick``) of one
    run (see module docstring), its heads under ``select_head`` (None: the run's own)."""
    models, cfg = load_head_models(model_file, select_head=select_head)
    meta = datasets.read_splits(dataset)
    cases = datasets.val_cases(dataset, meta, split)
    heads = tuple(models)
    tp = cfg["train"]
    rows: list[dict[str, Any]] = []
    head_shown = inference_head(models[heads[0]].n_decoders)
    shown, kept = slices.chosen_cases(meta), []
    for case in cases:
        probs: dict[str, np.ndarray] = {}
        for model, its_heads in _by_network(models):
            probs |= predict_heads(
                model, case.image, its_heads, window=tp.get("patch"), stride=tp.get("stride")
            )
        if case.case_id in shown:
            kept.append(
                slices.pick(case.case_id, case.image, case.label, head_shown, probs[head_shown])
            )
        for head in heads:
            m = case_metrics(to_labels(probs[head]), case.label, case.spacing)
            rows.append({"case": case.case_id, "head": head, **m})
    rows.sort(key=lambda r: heads.index(r["head"]))  # grouped by head, cases in order
    summary: dict[str, Any] = {
        "run": cfg["run"],
        "method": cfg["method"],
        "setting": cfg["setting"],
        "seed": cfg["seed"],
        "split": split,
        "n_cases": len(cases),
        "heads": {},
    }
    for head in heads:
        sel = [r for r in rows if r["head"] == head]
        summary["heads"][head] = {
            "dsc": float(np.mean([r["dsc"] for r in sel])),
            "dsc_std": float(np.std([r["dsc"] for r in sel])),
            "hd95": float(np.mean([r["hd95"] for r in sel])),
            "hd95_std": float(np.std([r["hd95"] for r in sel])),
            "n_pred_empty": int(sum(bool(r["pred_empty"]) for r in sel)),
        }
    return rows, summary, kept


def write_outputs(rows: list[dict], summary: dict, kept: list[dict], out_dir: Path) -> None:
    """``cases.csv``, ``metrics.json`` and the slices (``slices.save``) in ``out_dir``, each
    atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    for r in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    for name, text in (
        ("cases.csv", buf.getvalue()),
        ("metrics.json", json.dumps(summary, indent=1) + "\n"),
    ):
        atomic.write_text(out_dir / name, text)
    slices.save(out_dir, kept)
