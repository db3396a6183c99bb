"""`make repro`'s plan (pipeline/repro.py) on the real DVC graph: an item needs no stage of an
item it does not wait for, no stage is in two items, every training stage is in the plan; and
the scheduler that runs the items, with a fake `dvc repro`."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def plan():
    spec = importlib.util.spec_from_file_location("repro", ROOT / "pipeline" / "repro.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["repro"] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def repo():
    from dvc.repo import Repo

    return Repo(str(ROOT))


@pytest.fixture(scope="module")
def graph(repo):
    return repo.index.graph


def _matches(target: str, stage) -> bool:
    """Whether `dvc repro -s <target>` runs ``stage``: a whole pipeline file, one stage group
    of a file (``file:group``), or a stage group of the root dvc.yaml (``group``)."""
    group = stage.addressing.split(":")[-1].split("@")[0]
    if target.endswith("dvc.yaml"):
        return stage.relpath == target
    if ":" in target:
        file, name = target.split(":")
        return stage.relpath == file and group == name
    return stage.relpath == "dvc.yaml" and group == target


def _where(plan, stage) -> str | None:
    """The item that runs ``stage``, or None for the final plain `dvc repro`."""
    items = [it.name for it in plan.PLAN if any(_matches(t, stage) for t in it.targets)]
    assert len(items) <= 1, (stage.addressing, items)  # no stage in two items
    return items[0] if items else None


def _before(plan, name: str) -> set[str]:
    """Every item that ``name`` comes after, directly or not."""
    after = {it.name: set(it.after) for it in plan.PLAN}
    out, todo = set(), list(after[name])
    while todo:
        a = todo.pop()
        if a not in out:
            out.add(a)
            todo.extend(after[a])
    return out


def _upstream(graph, stage):
    # DVC's graph has an edge from a stage to each stage it depends on.
    return nx.descendants(graph, stage)


def test_graph_orientation(graph):
    by_name = {s.addressing: s for s in graph.nodes}
    kl = by_name["pipeline/groups/train-ours/dvc.yaml:train-kl@set3-0"]
    prop = by_name["pipeline/groups/train-compare/dvc.yaml:train-proposals-kl@set3-0"]
    assert kl in _upstream(graph, prop) and prop not in _upstream(graph, kl)


def test_items_need_only_what_they_come_after(plan, graph):
    for stage in graph.nodes:
        here = _where(plan, stage)
        if here is None:
            continue
        for up in _upstream(graph, stage):
            there = _where(plan, up)
            assert there is not None, (stage.addressing, up.addressing)
            # Upstream work is done by an item this one waits for, or by this very process.
            assert there == here or there in _before(plan, here), (stage.addressing, up.addressing)


def test_each_item_lists_its_stages_upstream_first(plan, repo, graph):
    """`dvc repro -s` runs an item's stages in the order DVC collects them (file order)."""
    for item in plan.PLAN:
        order = [s for t in item.targets for s in repo.stage.collect(t)]
        assert order, item.name  # every target names stages
        seen: set = set()
        for stage in order:
            inside = [u for u in _upstream(graph, stage) if u in set(order)]
            assert all(u in seen for u in inside), stage.addressing
            seen.add(stage)


def test_every_training_and_data_stage_is_in_an_item(plan, graph):
    left = sorted(s.addressing for s in graph.nodes if _where(plan, s) is None)
    assert left == ["complexity", "figures", "tables"]


def test_dry_run_prints_the_plan(plan, capsys):
    plan.main(["--dry", "--jobs", "2"])
    out = capsys.readouterr().out
    assert "train-baselines" in out and "proposals (after baselines, ours)" in out
    assert "evaluations (after baselines): dvc repro -s" in out
    assert out.rstrip().endswith("then: dvc repro")
    with pytest.raises(SystemExit):
        plan.main(["--jobs", "0"])


def _record(plan, items, jobs, fail=(), seconds=0.05):
    """Run ``items`` with a fake `dvc repro` that sleeps; the (event, name) sequence."""
    events, lock = [], threading.Lock()

    def run(item):
        with lock:
            events.append(("start", item.name))
        time.sleep(seconds)
        with lock:
            events.append(("end", item.name))
        return 1 if item.name in fail else 0

    plan._run_plan(items, jobs, run)
    return events


def test_scheduler_waits_for_prerequisites_and_fills_free_workers(plan):
    Item = plan.Item
    items = [
        Item("a", ("x",), ()),
        Item("late", ("x",), ("a", "b")),  # first in line once ready
        Item("b", ("x",), ()),
        Item("c", ("x",), ()),
    ]
    events = _record(plan, items, jobs=2)
    starts = [n for e, n in events if e == "start"]
    assert starts[:2] == ["a", "b"]  # "late" is skipped while not ready
    pos = {(e, n): i for i, (e, n) in enumerate(events)}
    assert pos[("start", "late")] > max(pos[("end", "a")], pos[("end", "b")])
    assert pos[("start", "c")] < pos[("start", "late")]  # a free worker does not wait idle
    assert sorted(starts) == ["a", "b", "c", "late"]


def test_scheduler_starts_nothing_after_a_failure(plan):
    Item = plan.Item
    items = [Item("a", ("x",), ()), Item("b", ("x",), ("a",)), Item("c", ("x",), ("a",))]
    with pytest.raises(SystemExit, match="failed for: \\['a'\\]"):
        _record(plan, items, jobs=2, fail={"a"})


def test_scheduler_rejects_unknown_and_circular_prerequisites(plan):
    Item = plan.Item
    with pytest.raises(ValueError, match="unknown"):
        plan._run_plan([Item("a", ("x",), ("nope",))], 2, lambda item: 0)
    with pytest.raises(SystemExit, match="never ready"):
        plan._run_plan([Item("a", ("x",), ("b",)), Item("b", ("x",), ("a",))], 2, lambda item: 0)
