"""Write pipelines/train-*/dvc.yaml from the table of run groups below, and the code deps of the
root dvc.yaml's stages: every stage's code deps are what its script can import (``mixseg.deps``).

Each group is one DVC matrix (values from params.yaml ``runs.*``) and gives one stage that
trains each run and evaluates it on the test cases (``pipeline/train.py``). A group exists per
*set of inherited top-level params*: a DVC stage can only declare a fixed list of params, and a
run must declare exactly the Eq. 5 keys it inherits (``mixseg.runs.inherited_keys``), so runs
that inherit different keys cannot share a matrix. ``tests/unit/test_dvc_yaml.py`` checks the
files are up to date and correct.

Usage: python pipelines/make_dvc_yaml.py
"""

import re
from pathlib import Path

import yaml

HERE = Path(__file__).parent
S, SEEDS, SW = "${runs.settings}", "${runs.seeds}", "${runs.sweep_seeds}"
SS = "${runs.sweeps.settings}"  # settings of the sweeps without their own list
CS, LS = "${runs.compare_seeds}", "${runs.la_seeds}"
BS = "${runs.sweeps.b_settings}"  # settings of the Appendix B sweeps
KD = ["divergence", "kd"]
ENT = ["lambda_ent", "entropy_on"]
UAMT = ["lambda_c", "uamt"]
GLMI = ["lambda_gmi", "lambda_lmi", "lambda_cons", "glmi"]
SSCO = ["lambda_sp", "lambda_sc", "ssco"]
# Self-training iterations: one generated stage each (iteration t depends on t - 1).
SELFTRAIN = yaml.safe_load((HERE.parent / "params.yaml").read_text())["runs"]["selftrain"]


def _table1(file: str, ds: str, seeds: str, title: str) -> list[tuple]:
    """Table 1's rows (Table 7 on LA): bounds, Single (+Ent), Decoupled, KL, KL+Ent."""
    return [
        (
            file,
            ds,
            "lower",
            f"{title}: Lower bound (Set-N fully labelled images only)",
            {"setting": S, "seed": seeds},
            "lower",
            [],
            [],
        ),
        (
            file,
            ds,
            "upper",
            f"{title}: Upper bound (Set-N): every image of the setting, full masks",
            {"setting": S, "seed": seeds},
            "upper",
            [],
            [],
        ),
        (
            file,
            ds,
            "upper-all",
            f"{title}: Upper bound with all training images",
            {"setting": "[all]", "seed": seeds},
            "upper",
            [],
            [],
        ),
        (
            file,
            ds,
            "single",
            f"{title}: Single",
            {"setting": S, "seed": seeds},
            "single",
            [],
            ["lambda_w"],
        ),
        (
            file,
            ds,
            "single-ent",
            f"{title}: Single + Ent",
            {"setting": S, "seed": seeds},
            "single_ent",
            [],
            ["lambda_w", *ENT],
        ),
        (
            file,
            ds,
            "decoupled",
            f"{title}: Decoupled (dual branch, no coupling term)",
            {"setting": S, "seed": seeds},
            "decoupled",
            [],
            ["lambda_w"],
        ),
    ]


def _ours(file: str, ds: str, seeds: str, title: str) -> list[tuple]:
    return [
        (
            file,
            ds,
            "kl",
            f"{title}: Ours (KL)",
            {"setting": S, "seed": seeds},
            "kl",
            [],
            ["lambda_w", "lambda_kd", *KD],
        ),
        (
            file,
            ds,
            "kl-ent",
            f"{title}: Ours (KL+Ent), the full objective of Eq. 5",
            {"setting": S, "seed": seeds},
            "kl_ent",
            [],
            ["lambda_w", "lambda_kd", *KD, *ENT],
        ),
    ]


# (file, dataset, group, comment, matrix, method, --set/--pseudo-from args, inherited params)
GROUPS = (
    _table1("train-baselines", "acdc", SEEDS, "Table 1")
    + [
        (
            "train-baselines",
            "acdc",
            "single-lw",
            "Appendix A.1: lambda_w of Single",
            {"lambda_w": "${runs.sweeps.a1_lambda_w}", "setting": SS, "seed": SW},
            "single",
            ["--set lambda_w=${item.lambda_w}"],
            [],
        ),
        (
            "train-baselines",
            "acdc",
            "single-ent-lent",
            "Appendix A.3: lambda_ent of Single + Ent",
            {
                "lambda_ent": "${runs.sweeps.a3_lambda_ent}",
                "setting": "${runs.sweeps.a3_settings}",
                "seed": SW,
            },
            "single_ent",
            ["--set lambda_ent=${item.lambda_ent}"],
            ["lambda_w", "entropy_on"],
        ),
    ]
    + _ours("train-ours", "acdc", SEEDS, "Table 1")
    + [
        (
            "train-ours",
            "acdc",
            "kl-lkd",
            "Appendix A.2: lambda_kd of KL",
            {"lambda_kd": "${runs.sweeps.a2_lambda_kd}", "setting": SS, "seed": SW},
            "kl",
            ["--set lambda_kd=${item.lambda_kd}"],
            ["lambda_w", *KD],
        ),
        (
            "train-ours",
            "acdc",
            "kl-ent-lkd",
            "Table 4: lambda_kd of KL+Ent",
            {"lambda_kd": "${runs.sweeps.t4_lambda_kd}", "setting": SS, "seed": SW},
            "kl_ent",
            ["--set lambda_kd=${item.lambda_kd}"],
            ["lambda_w", *KD, *ENT],
        ),
        (
            "train-ours",
            "acdc",
            "kl-ent-lw",
            "Table 5: lambda_w of KL+Ent",
            {"lambda_w": "${runs.sweeps.t5_lambda_w}", "setting": SS, "seed": SW},
            "kl_ent",
            ["--set lambda_w=${item.lambda_w}"],
            ["lambda_kd", *KD, *ENT],
        ),
        (
            "train-ours",
            "acdc",
            "kl-ent-div",
            "Table 6: divergences of KL+Ent",
            {
                "divergence": "${runs.sweeps.t6_divergence}",
                "setting": "${runs.sweeps.t6_settings}",
                "seed": SW,
            },
            "kl_ent",
            ["--set divergence=${item.divergence}"],
            ["lambda_w", "lambda_kd", "kd", *ENT],
        ),
        (
            "train-ours",
            "acdc",
            "kl-ent-ratio",
            "Fig. 7: ratio of partially to fully labelled patients",
            {
                "ratio": "${runs.sweeps.f7_ratio}",
                "setting": "${runs.sweeps.f7_settings}",
                "seed": SW,
            },
            "kl_ent",
            ["--set ratio=${item.ratio}"],
            ["lambda_w", "lambda_kd", *KD, *ENT],
        ),
        (
            "train-compare",
            "acdc",
            "proposals-lower",
            "Table 2: a network retrained on the Lower bound's pseudo-masks",
            {"setting": S, "seed": CS},
            "proposals",
            ["--pseudo-from lower"],
            [],
        ),
        (
            "train-compare",
            "acdc",
            "proposals-kl",
            "Table 2: a network retrained on the KL model's pseudo-masks "
            "(self-training iteration 1)",
            {"setting": S, "seed": CS},
            "proposals",
            ["--pseudo-from kl"],
            [],
        ),
    ]
    + [
        (
            "train-compare",
            "acdc",
            f"selftrain-it{t}",
            f"Fig. 5: self-training iteration {t}, on the masks of iteration {t - 1}",
            {"setting": "${runs.selftrain.settings}", "seed": CS},
            "proposals",
            [f"--pseudo-from {'proposals-kl' if t == 2 else f'selftrain-it{t - 1}'}"],
            [],
        )
        for t in range(2, SELFTRAIN["iterations"] + 1)
    ]
    + [
        (
            "train-compare",
            "acdc",
            "uamt",
            "Table 3: UA-MT (Yu et al., 2019), λc = 0.1",
            {"setting": S, "seed": CS},
            "uamt",
            [],
            UAMT,
        ),
        (
            "train-compare",
            "acdc",
            "glmi",
            "Table 3: GLMI (Peng et al., 2021), weights 1 / 0.1 / 10",
            {"setting": S, "seed": CS},
            "glmi",
            [],
            GLMI,
        ),
        (
            "train-compare",
            "acdc",
            "ssco",
            "Table 3: SSCO (Wang et al., 2021), λ1 = 0.5, λ2 = 4",
            {"setting": S, "seed": CS},
            "ssco",
            [],
            SSCO,
        ),
        (
            "train-compare",
            "acdc",
            "uamt-lc",
            "Table B.4: λc of UA-MT",
            {"lambda_c": "${runs.sweeps.b4_lambda_c}", "setting": BS, "seed": SW},
            "uamt",
            ["--set lambda_c=${item.lambda_c}"],
            ["uamt"],
        ),
        (
            "train-compare",
            "acdc",
            "glmi-grid",
            "Table B.5: λglobalMI x λlocalMI of GLMI",
            {
                "lambda_gmi": "${runs.sweeps.b5_lambda_gmi}",
                "lambda_lmi": "${runs.sweeps.b5_lambda_lmi}",
                "setting": BS,
                "seed": SW,
            },
            "glmi",
            ["--set lambda_gmi=${item.lambda_gmi}", "--set lambda_lmi=${item.lambda_lmi}"],
            ["lambda_cons", "glmi"],
        ),
        (
            "train-compare",
            "acdc",
            "glmi-lmi",
            "Table B.5: λlocalMI of GLMI at λglobalMI = 1",
            {"lambda_lmi": "${runs.sweeps.b5_lambda_lmi_at_default}", "setting": BS, "seed": SW},
            "glmi",
            ["--set lambda_gmi=1", "--set lambda_lmi=${item.lambda_lmi}"],
            ["lambda_cons", "glmi"],
        ),
        (
            "train-compare",
            "acdc",
            "ssco-grid",
            "Table B.6: λ1 x λ2 of SSCO",
            {
                "lambda_sp": "${runs.sweeps.b6_lambda_sp}",
                "lambda_sc": "${runs.sweeps.b6_lambda_sc}",
                "setting": BS,
                "seed": SW,
            },
            "ssco",
            ["--set lambda_sp=${item.lambda_sp}", "--set lambda_sc=${item.lambda_sc}"],
            ["ssco"],
        ),
        (
            "train-compare",
            "acdc",
            "ssco-lsc",
            "Table B.6: λ2 of SSCO at λ1 = 0.5",
            {"lambda_sc": "${runs.sweeps.b6_lambda_sc_at_default}", "setting": BS, "seed": SW},
            "ssco",
            ["--set lambda_sp=0.5", "--set lambda_sc=${item.lambda_sc}"],
            ["ssco"],
        ),
    ]
    + _table1("train-la", "la", LS, "Table 7")
    + _ours("train-la", "la", LS, "Table 7")
)

TITLES = {
    "train-baselines": "Single-branch baselines and Decoupled (Table 1, Appendix A.1, A.3)",
    "train-ours": "The proposed dual-branch models (Tables 1, 4, 5, 6, Appendix A.2, Fig. 7)",
    "train-compare": "Proposals, self-training and the semi-supervised baselines "
    "(Tables 2, 3, B.4-B.6, Fig. 5)",
    "train-la": "The Left-Atrium track: 3D VNet, every model of Table 7",
}


def _list(items: list[str], indent: int = 6) -> str:
    return "\n".join(" " * indent + f"- {x}" for x in items)


def _reads_partial_labels(method: str) -> bool:
    """Whether a method's batches hold partial labels (then it depends on data/weak/<ds>)."""
    from mixseg.methods import get_method

    m = get_method(method)
    return m.weak_batches and m.other_rows == "partial"


def code_deps(method: str) -> list[str]:
    """The code a stage training ``method`` can run (its training and test evaluation): what
    ``pipeline/train.py`` imports, and the method's own module, which the registry imports by
    name (``mixseg.deps``). Not every method: adding one re-runs nothing else."""
    from mixseg.deps import stage_code
    from mixseg.methods import method_module

    return stage_code("pipeline/train.py", [method_module(method)])


def render(file: str) -> str:
    out = [
        f"# {TITLES[file]}.",
        "# GENERATED by pipelines/make_dvc_yaml.py from its table of run groups: edit",
        "# that table, not this file. Matrix values come from params.yaml (runs.*).",
        "vars:",
        "  - ../../params.yaml",
        "stages:",
    ]
    for f, ds, group, comment, matrix, method, args, params in GROUPS:
        if f != file:
            continue
        m = "\n".join(f"      {k}: {v}" for k, v in matrix.items())
        cli = f"--dataset {ds} --method {method} --setting ${{item.setting}} --seed ${{item.seed}}"
        cli += "".join(f" {a}" for a in args)
        run = _template_run(method, args)
        where = f"${{item.setting}}/{run}/seed${{item.seed}}"
        deps = code_deps(method) + [f"data/processed/{ds}"]
        if _reads_partial_labels(method):
            deps.append(f"data/weak/{ds}")
        pseudo = _pseudo_from(args)
        if pseudo:
            deps.append(f"data/runs/{ds}/${{item.setting}}/{pseudo}/seed${{item.seed}}/model.pt")
        out += [
            f"  # {comment}",
            f"  train-{ds}-{group}:" if ds != "acdc" else f"  train-{group}:",
            "    matrix:",
            m,
            "    wdir: ../..",
            f"    cmd: python pipeline/train.py {cli}",
            "    deps:",
            _list(deps),
            "    params:",
            _list(
                [f"presets.${{preset}}.{ds}.preprocess", f"presets.${{preset}}.{ds}.train", *params]
            ),
            "    outs:",
            _list([f"data/runs/{ds}/{where}", f"data/eval/{ds}/{where}"]),
            "",
        ]
    return "\n".join(out)


def _template_run(method: str, args: list[str]) -> str:
    """The run directory name with DVC's ``${item.x}`` placeholders left in place."""
    from mixseg import runs

    pairs = dict(a.split(" ", 1)[1].split("=", 1) for a in args if a.startswith("--set "))
    return runs.stage_run_name(method, pairs, _pseudo_from(args))


def _pseudo_from(args: list[str]) -> str | None:
    """The run named by a ``--pseudo-from RUN`` argument, if any."""
    return next((a.split(" ", 1)[1] for a in args if a.startswith("--pseudo-from ")), None)


def root_code_deps(text: str) -> str:
    """The hand-written root dvc.yaml (data and report stages) with each stage's code deps
    derived like the training stages': the run of ``pipeline/``, ``src/`` lines that starts
    with the stage's script is replaced by what that script can import. The rest is kept."""
    from mixseg.deps import stage_code

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
    for file in TITLES:
        (HERE / file).mkdir(exist_ok=True)
        (HERE / file / "dvc.yaml").write_text(render(file))
    root = HERE.parent / "dvc.yaml"
    root.write_text(root_code_deps(root.read_text()))


if __name__ == "__main__":
    main()
