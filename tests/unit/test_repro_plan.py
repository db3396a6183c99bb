"""`make repro`'s plan (pipelines/repro.py) on the real DVC graph: pipelines run side by side only
when neither needs a stage of the other, and every training stage is in the plan."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def plan():
    spec = importlib.util.spec_from_file_location("repro", ROOT / "pipelines" / "repro.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def repo():
    from dvc.repo import Repo

    return Repo(str(ROOT))


@pytest.fixture(scope="module")
def graph(repo):
    return repo.index.graph


def _where(plan, stage) -> tuple[int, int] | None:
    """(phase, group) that runs ``stage``, or None for the final plain `dvc repro`."""
    for p, groups in enumerate(plan.PHASES):
        for g, targets in enumerate(groups):
            for t in targets:
                if t.endswith("dvc.yaml"):
                    if stage.relpath == t:
                        return p, g
                elif stage.relpath == "dvc.yaml" and stage.addressing.split("@")[0] == t:
                    return p, g
    return None


def _upstream(graph, stage):
    # DVC's graph has an edge from a stage to each stage it depends on.
    return nx.descendants(graph, stage)


def test_graph_orientation(graph):
    by_name = {s.addressing: s for s in graph.nodes}
    kl = by_name["pipelines/train-ours/dvc.yaml:train-kl@set3-0"]
    prop = by_name["pipelines/train-compare/dvc.yaml:train-proposals-kl@set3-0"]
    assert kl in _upstream(graph, prop) and prop not in _upstream(graph, kl)


def test_side_by_side_pipelines_share_no_stage(plan, graph):
    for stage in graph.nodes:
        here = _where(plan, stage)
        if here is None:
            continue
        for up in _upstream(graph, stage):
            there = _where(plan, up)
            assert there is not None, (stage.addressing, up.addressing)
            # Upstream work is done in an earlier phase or by this very `dvc repro` process.
            assert there[0] < here[0] or there == here, (stage.addressing, up.addressing)


def test_each_group_lists_its_stages_upstream_first(plan, repo, graph):
    """`dvc repro -s` runs a group's stages in the order DVC collects them (file order)."""
    for groups in plan.PHASES:
        for targets in groups:
            order = [s for t in targets for s in repo.stage.collect(t)]
            seen: set = set()
            for stage in order:
                inside = [u for u in _upstream(graph, stage) if u in set(order)]
                assert all(u in seen for u in inside), stage.addressing
                seen.add(stage)


def test_every_training_and_data_stage_is_in_a_parallel_phase(plan, graph):
    left = sorted(s.addressing for s in graph.nodes if _where(plan, s) is None)
    assert left == ["complexity", "figures", "tables"]


def test_dry_run_prints_the_plan(plan, capsys):
    plan.main(["--dry", "--jobs", "2"])
    out = capsys.readouterr().out
    assert "train-baselines" in out and out.rstrip().endswith("then: dvc repro")
    with pytest.raises(SystemExit):
        plan.main(["--jobs", "0"])
