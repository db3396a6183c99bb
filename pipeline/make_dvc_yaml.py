"""Write the training stages' pipeline/groups/<file>/dvc.yaml from the experiment catalog
(``mixseg.experiments``), and the code deps of the root dvc.yaml's stages.

Each catalog group is one DVC matrix (values from params.yaml ``runs.*``) and gives one stage
that trains each run and evaluates it on the test cases (``pipeline/train.py``). Its outputs
are ``paths.run_outputs``: weights and timings DVC-cached, the small results ``cache: false``
(git-tracked), the loss and validation history also declared as plots (``dvc plots show``).
A group that ``evaluates`` another gives an evaluation-only stage instead
(``pipeline/evaluate.py``: deps the other group's model.pt and train.json, outs
``paths.eval_outputs``, no params: its rule is on the command line).
A group exists per *set of inherited top-level params*: a DVC stage can only declare a fixed
list of params, and a run must declare exactly the Eq. 5 keys it inherits
(``mixseg.runs.inherited_keys``), so runs that inherit different keys cannot share a matrix.
Every stage's code deps are what its script can import (``mixseg.deps``). This reads
params.yaml for what shapes the graph rather than a run (``runs.selftrain.iterations``, the
default a pinned key is set to).
``tests/unit/test_dvc_yaml.py`` checks the files are up to date and correct.

Usage: python pipeline/make_dvc_yaml.py
"""

import re
from pathlib import Path

import yaml

from mixseg import experiments, paths, runs
from mixseg.config import lookup
from mixseg.deps import stage_code
from mixseg.experiments import Group, spell
from mixseg.methods import get_method, method_module
from mixseg.methods.base import HYPER_KEYS

HERE = Path(__file__).parent
ROOT = HERE.parent
GIT = "          cache: false"  # a git-tracked output's option line


def _list(items: list[str], indent: int = 6) -> str:
    return "\n".join(" " * indent + f"- {x}" for x in items)


def _overrides(g: Group, params: dict) -> dict[str, str]:
    """The ``--set`` overrides of a group's command: pinned keys at their params.yaml default,
    then each swept key as DVC's ``${item.<key>}`` placeholder."""
    out = {k: spell(lookup(params, k)) for k in g.pinned}
    return out | {k: f"${{item.{k}}}" for k in g.sweep}


def _deps(g: Group) -> list[str]:
    """Code (``pipeline/train.py``'s imports and the method's module, which the registry
    imports by name: not every method, so adding one re-runs nothing else), then data."""
    deps = stage_code("pipeline/train.py", [method_module(g.method)])
    deps.append(f"data/processed/{g.dataset}")
    m = get_method(g.method)
    if m.other_rows == "partial":  # batches hold partial labels
        deps.append(f"data/weak/{g.dataset}")
    if g.pseudo_from:  # the teacher run: changing it re-runs this one
        deps.append(
            f"data/runs/{g.dataset}/${{item.setting}}/{g.pseudo_from}/seed${{item.seed}}/model.pt"
        )
    return deps


def _head(g: Group, params: dict) -> tuple[list[str], str, str]:
    """The comment, name and matrix lines of a group's stage; its command's arguments; its
    run name (``${item.x}`` left in place)."""
    settings = g.settings if isinstance(g.settings, str) else None
    matrix = {k: f"${{{v}}}" for k, v in g.sweep.items()}
    matrix["setting"] = f"${{{settings}}}" if settings else f"[{', '.join(g.settings)}]"
    matrix["seed"] = f"${{{g.seeds}}}"
    overrides = _overrides(g, params)
    item = "--setting ${item.setting} --seed ${item.seed}"
    cli = f"--dataset {g.dataset} --method {g.method} {item}"
    cli += "".join(f" --set {k}={v}" for k, v in overrides.items())
    cli += f" --pseudo-from {g.pseudo_from}" if g.pseudo_from else ""
    lines = [
        f"  # {g.comment}",
        f"  {g.stage}:",
        "    matrix:",
        "\n".join(f"      {k}: {v}" for k, v in matrix.items()),
        "    wdir: ../../..",
    ]
    return lines, cli, runs.stage_run_name(g.method, overrides, g.pseudo_from)


def _stage(g: Group, params: dict) -> list[str]:
    if g.evaluates is not None:
        return _eval_stage(g, params)
    head, cli, run = _head(g, params)
    outs = paths.run_outputs(g.dataset, "${item.setting}", run, "${item.seed}")
    inherited = runs.inherited_keys(get_method(g.method), _overrides(g, params))
    return [
        *head,
        f"    cmd: python pipeline/train.py {cli}",
        "    deps:",
        _list(_deps(g)),
        "    params:",
        _list(
            [
                f"presets.${{preset}}.{g.dataset}.preprocess",
                f"presets.${{preset}}.{g.dataset}.train",
                *sorted(inherited, key=HYPER_KEYS.index),
            ]
        ),
        "    outs:",
        _list([str(f) for f in outs["cached"]]),
        "\n".join(f"      - {f}:\n{GIT}" for f in outs["git"]),
        "    plots:",
        "\n".join(f"      - {f}:\n{GIT}\n          x: step" for f in outs["plots"]),
        "",
    ]


def _eval_stage(g: Group, params: dict) -> list[str]:
    """The evaluation-only stage of a group that ``evaluates`` another: code (what
    ``pipeline/evaluate.py`` imports, and the method's module, which it looks up by name), the
    test cases, and the evaluated run's weights and train.json; no params."""
    head, cli, run = _head(g, params)
    where = (g.dataset, "${item.setting}", g.evaluates, "${item.seed}")
    deps = stage_code("pipeline/evaluate.py", [method_module(g.method)])
    deps += [f"data/processed/{g.dataset}", paths.model_file(*where), paths.train_summary(*where)]
    outs = paths.eval_outputs(g.dataset, "${item.setting}", run, "${item.seed}")
    assert not outs["cached"] and not outs["plots"]  # the outs below are git-tracked only
    return [
        *head,
        f"    cmd: python pipeline/evaluate.py {cli} --weights-of {g.evaluates}",
        "    deps:",
        _list([str(d) for d in deps]),
        "    outs:",
        "\n".join(f"      - {f}:\n{GIT}" for f in outs["git"]),
        "",
    ]


def render(file: str, params: dict) -> str:
    """The dvc.yaml of the catalog's pipeline file ``file`` (a key of ``experiments.FILES``)."""
    out = [
        f"# {experiments.FILES[file]}.",
        "# GENERATED by pipeline/make_dvc_yaml.py from the experiment catalog",
        "# (src/mixseg/experiments.py): edit that, not this file. Matrix values come from",
        "# params.yaml (runs.*).",
        "vars:",
        "  - ../../../params.yaml",
        "stages:",
    ]
    for g in experiments.groups(params):
        if g.file == file:
            out += _stage(g, params)
    return "\n".join(out)


def root_code_deps(text: str) -> str:
    """The hand-written root dvc.yaml (data and report stages) with each stage's code deps
    derived like the training stages': the run of ``pipeline/``, ``src/`` lines that starts
    with the stage's script is replaced by what that script can import. The rest is kept."""
    lines, out = text.split("\n"), []
    code = re.compile(r"(\s*)- ((?:pipeline|src)/\S+)$")
    while lines:
        m = code.match(lines[0])
        if not (m and m.group(2).startswith("pipeline/") and out and out[-1].strip() == "deps:"):
            out.append(lines.pop(0))
            continue
        out += [f"{m.group(1)}- {f}" for f in stage_code(m.group(2))]
        while lines and code.match(lines[0]):
            lines.pop(0)
    return "\n".join(out)


def main() -> None:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for file in experiments.FILES:
        (HERE / "groups" / file).mkdir(parents=True, exist_ok=True)
        (HERE / "groups" / file / "dvc.yaml").write_text(render(file, params))
    root = ROOT / "dvc.yaml"
    root.write_text(root_code_deps(root.read_text()))


if __name__ == "__main__":
    main()
