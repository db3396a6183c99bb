"""Write pipelines/train-*/dvc.yaml from the table of run groups below.

Each group is one DVC matrix (values from params.yaml ``runs.*``) and gives two stages: the
training and the evaluation of its runs. A group exists per *set of inherited top-level params*:
a DVC stage can only declare a fixed list of params, and a run must declare exactly the Eq. 5
keys it inherits (``mixseg.runs.inherited_keys``), so runs that inherit different keys cannot
share a matrix. ``tests/unit/test_dvc_yaml.py`` checks the files are up to date and correct.

Usage: python pipelines/make_dvc_yaml.py
"""

from pathlib import Path

HERE = Path(__file__).parent
S, SEEDS, SW = "${runs.settings}", "${runs.seeds}", "${runs.sweep_seeds}"
SS = "${runs.sweeps.settings}"  # settings of the sweeps without their own list
KD = ["divergence", "kd"]
ENT = ["lambda_ent", "entropy_on"]

# (file, group, comment, matrix, method, --set overrides, run name, inherited params)
GROUPS = [
    ("train-baselines", "lower", "Table 1: Lower bound (Set-N fully labelled images only)",
     {"setting": S, "seed": SEEDS}, "lower", [], "lower", []),
    ("train-baselines", "upper", "Table 1: Upper bound (Set-N): every image of the setting, full masks",
     {"setting": S, "seed": SEEDS}, "upper", [], "upper", []),
    ("train-baselines", "upper-all", "Table 1: Upper bound with all training images",
     {"setting": "[all]", "seed": SEEDS}, "upper", [], "upper", []),
    ("train-baselines", "single", "Table 1: Single", {"setting": S, "seed": SEEDS},
     "single", [], "single", ["lambda_w"]),
    ("train-baselines", "single-ent", "Table 1: Single + Ent", {"setting": S, "seed": SEEDS},
     "single_ent", [], "single_ent", ["lambda_w", *ENT]),
    ("train-baselines", "decoupled", "Table 1: Decoupled (dual branch, no coupling term)",
     {"setting": S, "seed": SEEDS}, "decoupled", [], "decoupled", ["lambda_w"]),
    ("train-baselines", "single-lw", "Appendix A.1: lambda_w of Single",
     {"lambda_w": "${runs.sweeps.a1_lambda_w}", "setting": SS, "seed": SW},
     "single", ["lambda_w=${item.lambda_w}"], "single-lw${item.lambda_w}", []),
    ("train-baselines", "single-ent-lent", "Appendix A.3: lambda_ent of Single + Ent",
     {"lambda_ent": "${runs.sweeps.a3_lambda_ent}", "setting": "${runs.sweeps.a3_settings}",
      "seed": SW},
     "single_ent", ["lambda_ent=${item.lambda_ent}"], "single_ent-lent${item.lambda_ent}",
     ["lambda_w", "entropy_on"]),
    ("train-ours", "kl", "Table 1: Ours (KL)", {"setting": S, "seed": SEEDS},
     "kl", [], "kl", ["lambda_w", "lambda_kd", *KD]),
    ("train-ours", "kl-ent", "Table 1: Ours (KL+Ent), the full objective of Eq. 5",
     {"setting": S, "seed": SEEDS}, "kl_ent", [], "kl_ent", ["lambda_w", "lambda_kd", *KD, *ENT]),
    ("train-ours", "kl-lkd", "Appendix A.2: lambda_kd of KL",
     {"lambda_kd": "${runs.sweeps.a2_lambda_kd}", "setting": SS, "seed": SW},
     "kl", ["lambda_kd=${item.lambda_kd}"], "kl-lkd${item.lambda_kd}", ["lambda_w", *KD]),
    ("train-ours", "kl-ent-lkd", "Table 4: lambda_kd of KL+Ent",
     {"lambda_kd": "${runs.sweeps.t4_lambda_kd}", "setting": SS, "seed": SW},
     "kl_ent", ["lambda_kd=${item.lambda_kd}"], "kl_ent-lkd${item.lambda_kd}",
     ["lambda_w", *KD, *ENT]),
    ("train-ours", "kl-ent-lw", "Table 5: lambda_w of KL+Ent",
     {"lambda_w": "${runs.sweeps.t5_lambda_w}", "setting": SS, "seed": SW},
     "kl_ent", ["lambda_w=${item.lambda_w}"], "kl_ent-lw${item.lambda_w}",
     ["lambda_kd", *KD, *ENT]),
    ("train-ours", "kl-ent-div", "Table 6: divergences of KL+Ent",
     {"divergence": "${runs.sweeps.t6_divergence}", "setting": "${runs.sweeps.t6_settings}",
      "seed": SW},
     "kl_ent", ["divergence=${item.divergence}"], "kl_ent-${item.divergence}",
     ["lambda_w", "lambda_kd", "kd", *ENT]),
    ("train-ours", "kl-ent-ratio", "Fig. 7: ratio of partially to fully labelled patients",
     {"ratio": "${runs.sweeps.f7_ratio}", "setting": "${runs.sweeps.f7_settings}", "seed": SW},
     "kl_ent", ["ratio=${item.ratio}"], "kl_ent-r${item.ratio}",
     ["lambda_w", "lambda_kd", *KD, *ENT]),
]
WEAK_METHODS = {"single", "single_ent", "decoupled", "kl", "kl_ent"}
TRAIN_CODE = ["pipeline/train.py", "src/mixseg/config.py", "src/mixseg/runs.py",
              "src/mixseg/train.py", "src/mixseg/infer.py", "src/mixseg/losses.py",
              "src/mixseg/metrics.py", "src/mixseg/models", "src/mixseg/methods",
              "src/mixseg/data/datasets.py", "src/mixseg/data/canonical.py"]
EVAL_CODE = ["pipeline/evaluate.py", "src/mixseg/runs.py", "src/mixseg/evaluate.py",
             "src/mixseg/infer.py", "src/mixseg/metrics.py", "src/mixseg/models",
             "src/mixseg/data/datasets.py", "src/mixseg/data/canonical.py"]
TITLES = {
    "train-baselines": "Single-branch baselines and Decoupled (Table 1, Appendix A.1, A.3)",
    "train-ours": "The proposed dual-branch models (Tables 1, 4, 5, 6, Appendix A.2, Fig. 7)",
}


def _list(items: list[str], indent: int = 6) -> str:
    return "\n".join(" " * indent + f"- {x}" for x in items)


def _stages(group, comment, matrix, method, sets, run) -> tuple[str, list[str], str]:
    m = "\n".join(f"      {k}: {v}" for k, v in matrix.items())
    args = f"--dataset acdc --method {method} --setting ${{item.setting}} --seed ${{item.seed}}"
    args += "".join(f" --set {s}" for s in sets)
    where = f"${{item.setting}}/{run}/seed${{item.seed}}"
    return m, args, where


def render(file: str) -> str:
    out = [f"# {TITLES[file]}.", "# GENERATED by pipelines/make_dvc_yaml.py from its table of run groups: edit",
           "# that table, not this file. Matrix values come from params.yaml (runs.*).",
           "vars:", "  - ../../params.yaml", "stages:"]
    for f, group, comment, matrix, method, sets, run, params in GROUPS:
        if f != file:
            continue
        m, args, where = _stages(group, comment, matrix, method, sets, run)
        deps = TRAIN_CODE + ["data/processed/acdc"] + (["data/weak/acdc"] if method in WEAK_METHODS else [])
        out += [f"  # {comment}", f"  train-{group}:", "    matrix:", m, "    wdir: ../..",
                f"    cmd: python pipeline/train.py {args}", "    deps:", _list(deps),
                "    params:", _list(["presets.${preset}.acdc.preprocess", "presets.${preset}.acdc.train", *params]),
                "    outs:", _list([f"data/runs/acdc/{where}"]),
                f"  evaluate-{group}:", "    matrix:", m, "    wdir: ../..",
                f"    cmd: python pipeline/evaluate.py {args}", "    deps:",
                _list(EVAL_CODE + ["data/processed/acdc", f"data/runs/acdc/{where}/model.pt"]),
                "    outs:", _list([f"data/eval/acdc/{where}"]), ""]
    return "\n".join(out)


def main() -> None:
    for file in TITLES:
        (HERE / file).mkdir(exist_ok=True)
        (HERE / file / "dvc.yaml").write_text(render(file))


if __name__ == "__main__":
    main()
