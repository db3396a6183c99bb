"""The experiment catalog: every group of training runs, and every report row and sweep that
reads them, declared once.

The generated training stages (``pipeline/make_dvc_yaml.py``: one DVC matrix per ``Group``),
``make repro``'s plan (``pipeline/repro.py``) and the report (tables and figures) all read this
module; the values themselves (settings, seeds, swept values) stay in ``params.yaml``, named
here by their dotted keys. A new swept value is a ``params.yaml`` edit; a new sweep or table row
is one entry here; a new method is its file plus one line of the registry (``mixseg.methods``).

Run names (``results/<ds>/<setting>/<run>/seed<k>/``) follow from a group's method, overrides
and ``--pseudo-from`` run (``mixseg.runs``): ``kl_ent``, ``kl_ent-lkd10``, ``proposals-kl``.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Mapping
from typing import Any

from mixseg import runs
from mixseg.config import lookup, preset_key

# The generated pipeline files and the title of each.
FILES = {
    "train-baselines": "Single-branch baselines and Decoupled (Table 1, Appendix A.1, A.3)",
    "train-ours": "The proposed dual-branch models (Tables 1, 4, 5, 6, Appendix A.2, Fig. 7)",
    "train-compare": "Proposals, self-training and the semi-supervised baselines "
    "(Tables 2, 3, B.4-B.6, Fig. 5)",
    "train-la": "The Left-Atrium track: 3D VNet, every model of Table 7",
    "train-studies": "Studies behind the cpu preset: the mixed-batch ablation and the "
    "convergence study (README Ambiguities)",
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Group:
    """Runs of one method on one dataset that share one DVC matrix (stage ``train-<name>``,
    ``train-la-<name>`` on LA): one run per swept value x setting x seed.

    ``settings`` and ``seeds`` are params.yaml keys of lists (``settings`` may instead be a
    fixed tuple, e.g. ``("all",)``); ``sweep`` maps each overridden key to the params.yaml key
    of its values; ``pinned`` keys are overridden with their params.yaml default, written into
    the command by the generator (a row of a grid whose other key is at its default).

    ``evaluates``: the group (same dataset, method, settings and seeds, nothing swept) whose
    trained runs this one evaluates under each swept ``select_head`` instead of training them
    again (stage ``eval-<name>``, ``pipeline/evaluate.py``): ``select_head`` decides only which
    of the weights a run kept each head is evaluated with, the training is the same.

    Raises:
        ValueError: ``evaluates`` with a swept key other than ``select_head``, pinned keys or
            pseudo-masks: those change the training.
    """

    name: str
    file: str  # a key of FILES
    dataset: str
    method: str
    comment: str
    settings: str | tuple[str, ...] = "runs.settings"
    seeds: str = "runs.seeds"
    sweep: Mapping[str, str] = dataclasses.field(default_factory=dict)
    pinned: tuple[str, ...] = ()
    pseudo_from: str | None = None  # the run whose pseudo-masks it trains on (proposals)
    evaluates: str | None = None  # the group whose runs it evaluates, without training

    def __post_init__(self) -> None:
        if self.evaluates is not None and (
            set(self.sweep) != {"select_head"} or self.pinned or self.pseudo_from
        ):
            raise ValueError(
                f"group {self.name!r} evaluates {self.evaluates!r}: it may sweep select_head "
                f"only (sweep {sorted(self.sweep)}, pinned {self.pinned}, pseudo-masks "
                f"{self.pseudo_from})"
            )

    @property
    def stage(self) -> str:
        kind = "train" if self.evaluates is None else "eval"
        return (
            f"{kind}-{self.name}"
            if self.dataset == "acdc"
            else f"{kind}-{self.dataset}-{self.name}"
        )

    @property
    def run(self) -> str:
        """The run name without overrides (the run of a group that sweeps nothing)."""
        return runs.stage_run_name(self.method, {}, self.pseudo_from)

    def runs(self, params: dict[str, Any]) -> list[tuple[str, str, str, int]]:
        """(dataset, setting, run, seed) of every run of the group, as its DVC matrix expands
        it (run names spell swept values as ``str`` of the YAML value, as DVC renders
        ``${item.x}``; pinned keys as the generator writes them, ``spell``)."""
        settings = (
            lookup(params, self.settings) if isinstance(self.settings, str) else self.settings
        )
        pinned = {k: spell(lookup(params, k)) for k in self.pinned}
        seeds = lookup(params, self.seeds)
        out = []
        for combo in itertools.product(*(lookup(params, v) for v in self.sweep.values())):
            overrides = pinned | {k: str(v) for k, v in zip(self.sweep, combo, strict=True)}
            name = runs.stage_run_name(self.method, overrides, self.pseudo_from)
            out += [(self.dataset, st, name, int(k)) for st in settings for k in seeds]
        return out


def spell(value: Any) -> str:
    """A params.yaml value as a command-line override (``1.0`` -> ``1``, as DVC spells it)."""
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def _table1(file: str, ds: str, seeds: str, title: str) -> list[Group]:
    """Table 1's runs (Table 7 on LA): the bounds, Single (+Ent), Decoupled."""
    rows = [
        ("lower", "lower", "Lower bound (Set-N fully labelled images only)"),
        ("upper", "upper", "Upper bound (Set-N): every image of the setting, full masks"),
        ("upper-all", "upper", "Upper bound with all training images"),
        ("single", "single", "Single"),
        ("single-ent", "single_ent", "Single + Ent"),
        ("decoupled", "decoupled", "Decoupled (dual branch, no coupling term)"),
    ]
    return [
        Group(
            name=name,
            file=file,
            dataset=ds,
            method=method,
            comment=f"{title}: {text}",
            settings=("all",) if name == "upper-all" else "runs.settings",
            seeds=seeds,
        )
        for name, method, text in rows
    ]


def _ours(file: str, ds: str, seeds: str, title: str) -> list[Group]:
    rows = [
        ("kl", "kl", "Ours (KL)"),
        ("kl-ent", "kl_ent", "Ours (KL+Ent), the full objective of Eq. 5"),
    ]
    return [
        Group(name=n, file=file, dataset=ds, method=m, comment=f"{title}: {t}", seeds=seeds)
        for n, m, t in rows
    ]


def _sweep(name: str, file: str, method: str, comment: str, **kw: Any) -> Group:
    """A sweep on ACDC: settings ``runs.sweeps.settings`` and seeds ``runs.sweep_seeds`` unless
    given."""
    kw.setdefault("settings", "runs.sweeps.settings")
    kw.setdefault("seeds", "runs.sweep_seeds")
    return Group(name=name, file=file, dataset="acdc", method=method, comment=comment, **kw)


def _compare(name: str, method: str, comment: str, **kw: Any) -> Group:
    """A run of Tables 2, 3 on ACDC: seeds ``runs.compare_seeds``."""
    return Group(
        name=name,
        file="train-compare",
        dataset="acdc",
        method=method,
        comment=comment,
        seeds="runs.compare_seeds",
        **kw,
    )


SELFTRAIN_SETTINGS = "runs.selftrain.settings"


def _selftrain(iterations: int) -> list[Group]:
    """Fig. 5: self-training iterations 2..``iterations`` (iteration 1 is ``proposals-kl``),
    each trained on the pseudo-masks of the one before: one stage each."""
    return [
        _compare(
            f"selftrain-it{t}",
            "proposals",
            f"Fig. 5: self-training iteration {t}, on the masks of iteration {t - 1}",
            settings=SELFTRAIN_SETTINGS,
            pseudo_from="proposals-kl" if t == 2 else f"selftrain-it{t - 1}",
        )
        for t in range(2, iterations + 1)
    ]


_B, _O, _SB = "train-baselines", "train-ours", "runs.sweeps.b_settings"
_BEFORE_SELFTRAIN = [
    *_table1(_B, "acdc", "runs.seeds", "Table 1"),
    _sweep(
        "single-lw",
        _B,
        "single",
        "Appendix A.1: lambda_w of Single",
        sweep={"lambda_w": "runs.sweeps.a1_lambda_w"},
    ),
    _sweep(
        "single-ent-lent",
        _B,
        "single_ent",
        "Appendix A.3: lambda_ent of Single + Ent",
        sweep={"lambda_ent": "runs.sweeps.a3_lambda_ent"},
        settings="runs.sweeps.a3_settings",
    ),
    *_ours(_O, "acdc", "runs.seeds", "Table 1"),
    _sweep(
        "kl-lkd",
        _O,
        "kl",
        "Appendix A.2: lambda_kd of KL",
        sweep={"lambda_kd": "runs.sweeps.a2_lambda_kd"},
    ),
    _sweep(
        "kl-ent-lkd",
        _O,
        "kl_ent",
        "Table 4: lambda_kd of KL+Ent",
        sweep={"lambda_kd": "runs.sweeps.t4_lambda_kd"},
    ),
    _sweep(
        "kl-ent-lw",
        _O,
        "kl_ent",
        "Table 5: lambda_w of KL+Ent",
        sweep={"lambda_w": "runs.sweeps.t5_lambda_w"},
    ),
    _sweep(
        "kl-ent-div",
        _O,
        "kl_ent",
        "Table 6: divergences of KL+Ent",
        sweep={"divergence": "runs.sweeps.t6_divergence"},
        settings="runs.sweeps.t6_settings",
    ),
    _sweep(
        "kl-ent-ratio",
        _O,
        "kl_ent",
        "Fig. 7: ratio of partially to fully labelled patients",
        sweep={"ratio": "runs.sweeps.f7_ratio"},
        settings="runs.sweeps.f7_settings",
    ),
    _compare(
        "proposals-lower",
        "proposals",
        "Table 2: a network retrained on the Lower bound's pseudo-masks",
        pseudo_from="lower",
    ),
    _compare(
        "proposals-kl",
        "proposals",
        "Table 2: a network retrained on the KL model's pseudo-masks (self-training iteration 1)",
        pseudo_from="kl",
    ),
]
_AFTER_SELFTRAIN = [
    _compare("uamt", "uamt", "Table 3: UA-MT (Yu et al., 2019), λc = 0.1"),
    _compare("glmi", "glmi", "Table 3: GLMI (Peng et al., 2021), weights 1 / 0.1 / 10"),
    _compare("ssco", "ssco", "Table 3: SSCO (Wang et al., 2021), λ1 = 0.5, λ2 = 4"),
    _sweep(
        "uamt-lc",
        "train-compare",
        "uamt",
        "Table B.4: λc of UA-MT",
        sweep={"lambda_c": "runs.sweeps.b4_lambda_c"},
        settings=_SB,
    ),
    _sweep(
        "glmi-grid",
        "train-compare",
        "glmi",
        "Table B.5: λglobalMI x λlocalMI of GLMI",
        sweep={
            "lambda_gmi": "runs.sweeps.b5_lambda_gmi",
            "lambda_lmi": "runs.sweeps.b5_lambda_lmi",
        },
        settings=_SB,
    ),
    _sweep(
        "glmi-lmi",
        "train-compare",
        "glmi",
        "Table B.5: λlocalMI of GLMI at λglobalMI = 1",
        sweep={"lambda_lmi": "runs.sweeps.b5_lambda_lmi_at_default"},
        pinned=("lambda_gmi",),
        settings=_SB,
    ),
    _sweep(
        "ssco-grid",
        "train-compare",
        "ssco",
        "Table B.6: λ1 x λ2 of SSCO",
        sweep={"lambda_sp": "runs.sweeps.b6_lambda_sp", "lambda_sc": "runs.sweeps.b6_lambda_sc"},
        settings=_SB,
    ),
    _sweep(
        "ssco-lsc",
        "train-compare",
        "ssco",
        "Table B.6: λ2 of SSCO at λ1 = 0.5",
        sweep={"lambda_sc": "runs.sweeps.b6_lambda_sc_at_default"},
        pinned=("lambda_sp",),
        settings=_SB,
    ),
    *_table1("train-la", "la", "runs.la_seeds", "Table 7"),
    *_ours("train-la", "la", "runs.la_seeds", "Table 7"),
]


_S = "train-studies"
_STUDIES = [
    Group(
        name="single-lw0-mf",
        file=_S,
        dataset="acdc",
        method="single",
        comment="Mixed-batch ablation: Single with the other rows at zero loss weight, "
        "under each mixed_forward",
        settings="runs.studies.settings",
        sweep={
            "lambda_w": "runs.studies.ablation_lambda_w",
            "mixed_forward": "runs.studies.ablation_forward",
        },
    ),
    *(
        Group(
            name=name,
            file=_S,
            dataset="acdc",
            method=method,
            comment=f"Mixed-batch ablation: {label} with one forward pass (split: Table 1's run)",
            settings="runs.studies.settings",
            sweep={"mixed_forward": "runs.studies.ablation_joint"},
        )
        for name, method, label in (
            ("decoupled-mf", "decoupled", "Decoupled"),
            ("kl-ent-mf", "kl_ent", "KL+Ent"),
        )
    ),
    Group(
        name="kl-ent-loss",
        file=_S,
        dataset="acdc",
        method="kl_ent",
        comment="Mixed-batch ablation: KL+Ent with the reference code's losses, under each "
        "mixed_forward (joint: the reference code's training step)",
        settings="runs.studies.settings",
        sweep={
            "loss_convention": "runs.studies.ablation_losses",
            "mixed_forward": "runs.studies.ablation_forward",
        },
    ),
    Group(
        name="decoupled-sh",
        file=_S,
        dataset="acdc",
        method="decoupled",
        comment="Checkpoint per head: Table 1's Decoupled runs evaluated with every head at its "
        "own best validation (select_head: each; evaluated: Table 1's run), not trained again",
        sweep={"select_head": "runs.studies.select_head"},
        evaluates="decoupled",
    ),
    *(
        Group(
            name=name,
            file=_S,
            dataset=ds,
            method=method,
            comment=f"Convergence study ({ds}): {label}, longer than the preset's steps",
            settings=("all",) if name == "upper-all-conv" else f"runs.studies.{prefix}settings",
            seeds="runs.studies.convergence_seeds",
            sweep={"steps": f"runs.studies.{prefix}convergence_steps"},
        )
        for ds, prefix in (("acdc", ""), ("la", "la_"))
        for name, method, label in (
            ("lower-conv", "lower", "Lower bound"),
            ("upper-all-conv", "upper", "Upper bound with all training images"),
            ("kl-ent-conv", "kl_ent", "Ours (KL+Ent)"),
        )
    ),
]


def groups(params: dict[str, Any]) -> list[Group]:
    """Every group of training runs, in the order of the generated files.

    ``runs.selftrain.iterations`` is read here, by the generator, not by a stage: it is the
    number of self-training stages (each depends on the one before), a shape of the DVC graph
    that ``dvc exp run -S`` cannot change; edit it, then re-run ``pipeline/make_dvc_yaml.py``.
    """
    iterations = int(lookup(params, "runs.selftrain.iterations"))
    return [*_BEFORE_SELFTRAIN, *_selftrain(iterations), *_AFTER_SELFTRAIN, *_STUDIES]


def group(name: str, dataset: str = "acdc") -> Group:
    """The group ``name`` of ``dataset`` (not a self-training iteration: see ``groups``).

    Raises:
        KeyError: no such group.
    """
    for g in _BEFORE_SELFTRAIN + _AFTER_SELFTRAIN + _STUDIES:
        if g.name == name and g.dataset == dataset:
            return g
    raise KeyError(f"no group {name!r} of {dataset}")


def selftrain_runs(params: dict[str, Any]) -> list[str]:
    """The runs of self-training iterations I1..IK (Fig. 5); I1 is ``proposals-kl``."""
    its = _selftrain(int(lookup(params, "runs.selftrain.iterations")))
    return [group("proposals-kl").run] + [g.run for g in its]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Row:
    """A report row (or curve, or panel) reading the run of ``group`` (without overrides), of
    the table's dataset: its ``heads`` (a table of one head reads the first)."""

    group: str
    label: str
    heads: tuple[str, ...] = ("teacher",)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Table:
    """Report rows of one dataset whose runs are all read at the seeds ``seeds`` (a params.yaml
    key of a list), in each setting the report shows (a row whose group has fixed settings,
    e.g. the Upper bound with all images, once, after the others)."""

    name: str
    dataset: str
    seeds: str
    rows: tuple[Row, ...]

    def entries(self, settings: list[str]) -> list[tuple[str, Row, str]]:
        """(setting, row, run) of every line of the table, setting by setting."""
        pairs = [(row, group(row.group, self.dataset)) for row in self.rows]
        out = [(s, r, g.run) for s in settings for r, g in pairs if isinstance(g.settings, str)]
        return out + [
            (s, r, g.run) for r, g in pairs if not isinstance(g.settings, str) for s in g.settings
        ]


ALL_HEADS = ("teacher", "student", "ensemble")
_TABLE1_ROWS = (
    Row(group="lower", label="Lower bound"),
    Row(group="single", label="Single"),
    Row(group="single-ent", label="Single + Ent"),
    Row(group="upper", label="Upper bound (Set-N)"),
    Row(group="decoupled", label="Decoupled", heads=ALL_HEADS),
    Row(group="kl", label="Ours (KL)", heads=ALL_HEADS),
    Row(group="kl-ent", label="Ours (KL+Ent)", heads=ALL_HEADS),
    Row(group="upper-all", label="Upper bound (all images)"),
)
TABLE1 = Table(name="table1", dataset="acdc", seeds="runs.seeds", rows=_TABLE1_ROWS)
TABLE7 = Table(name="table7", dataset="la", seeds="runs.la_seeds", rows=_TABLE1_ROWS)
# reports/metrics.json, the experiments' metric (`dvc exp show`): the student of KL+Ent.
HEADLINE = Table(
    name="metrics",
    dataset="acdc",
    seeds="runs.seeds",
    rows=(Row(group="kl-ent", label="Ours (KL+Ent)", heads=("student",)),),
)
_PROPOSALS = (
    Row(group="proposals-lower", label="Proposals (Lower bound)"),
    Row(group="proposals-kl", label="Proposals (KL)"),
)
TABLE2 = Table(
    name="table2",
    dataset="acdc",
    seeds="runs.compare_seeds",
    rows=(*_PROPOSALS, Row(group="kl-ent", label="Ours (KL+Ent)", heads=("student",))),
)
# SSCO reads its ensemble: the prediction of a co-training method is that of its two networks
# together (``report/comparisons.py``).
TABLE3 = Table(
    name="table3",
    dataset="acdc",
    seeds="runs.compare_seeds",
    rows=(
        Row(group="lower", label="Lower bound"),
        Row(group="uamt", label="UA-MT (Yu et al., 2019)"),
        Row(group="glmi", label="GLMI (Peng et al., 2021)"),
        Row(group="ssco", label="SSCO (Wang et al., 2021)", heads=("ensemble",)),
        Row(group="kl-ent", label="Ours (KL+Ent)", heads=("student",)),
    ),
)
# Fig. 3: validation curves of retraining on pseudo-labels vs ours (the first seed).
FIG3 = Table(
    name="fig3",
    dataset="acdc",
    seeds="runs.compare_seeds",
    rows=(*_PROPOSALS, Row(group="kl-ent", label="Ours (KL+Ent), student", heads=("student",))),
)
# Fig. 8: the models of Table 1, as in the paper; Fig. 9: ours (the first setting and seed).
FIG8 = Table(
    name="fig8",
    dataset="acdc",
    seeds="runs.seeds",
    rows=(
        Row(group="lower", label="Lower bound"),
        Row(group="single", label="Single"),
        Row(group="single-ent", label="Single + Ent"),
        Row(group="upper", label="Upper bound"),
        Row(group="decoupled", label="Decoupled (student)", heads=("student",)),
        Row(group="kl", label="Ours KL (student)", heads=("student",)),
        Row(group="kl-ent", label="Ours KL+Ent (student)", heads=("student",)),
    ),
)
FIG9 = dataclasses.replace(FIG8, name="fig9", rows=FIG8.rows[-2:])


@dataclasses.dataclass(frozen=True, kw_only=True)
class AblationRow:
    """A row of the mixed-batch ablation (``reports/tables/ablation``): ``head`` of the run of
    ``group`` under each ``mixed_forward``. ``label`` may name the group's other swept keys
    (``"Single λw = {lambda_w}"``: a row per value); ``default``: the group whose run is the
    one at params.yaml's ``mixed_forward`` where ``group`` does not sweep that value."""

    group: str
    label: str
    head: str = "teacher"
    default: str | None = None


# ACDC, the studies' settings, the seeds of Table 1 (whose runs are the split column's); a
# column per mixed_forward.
ABLATION_SETTINGS, ABLATION_SEEDS = "runs.studies.settings", "runs.seeds"
ABLATION_COLUMNS = ("split", "joint")
ABLATION_ROWS = (
    AblationRow(group="lower", label="Lower bound"),
    AblationRow(group="single-lw0-mf", label="Single λw = {lambda_w}"),
    AblationRow(group="decoupled-mf", label="Decoupled teacher", default="decoupled"),
    AblationRow(
        group="decoupled-mf", label="Decoupled student", head="student", default="decoupled"
    ),
    AblationRow(group="kl-ent-mf", label="KL+Ent teacher", default="kl-ent"),
    AblationRow(group="kl-ent-mf", label="KL+Ent student", head="student", default="kl-ent"),
    AblationRow(group="kl-ent-loss", label="KL+Ent teacher, {loss_convention} losses"),
    AblationRow(
        group="kl-ent-loss", label="KL+Ent student, {loss_convention} losses", head="student"
    ),
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Study:
    """A table of a study behind the cpu preset (``report/studies.study_table``): each row's
    head under each value of ``key`` (the columns; the CSV names the value ``csv_column``), at
    every setting of ``settings``, over the seeds of ``seeds`` (params.yaml keys of lists);
    ``default(params)``: the value of ``key`` that a run not sweeping it trained with."""

    name: str
    title: str
    key: str
    columns: tuple[str, ...]
    rows: tuple[AblationRow, ...]
    settings: str
    seeds: str
    default: Callable[[dict[str, Any]], str]
    csv_column: str


ABLATION = Study(
    name="ablation",
    title="Mixed-batch ablation",
    key="mixed_forward",
    columns=ABLATION_COLUMNS,
    rows=ABLATION_ROWS,
    settings=ABLATION_SETTINGS,
    seeds=ABLATION_SEEDS,
    default=lambda params: str(lookup(params, "mixed_forward")),
    csv_column="forward",
)
# Which weights each head of a dual-branch run is evaluated with (``train.select_head``):
# ``evaluated``, all at the evaluated head's (the student's) best validation step, as the
# reference code; ``each``, every head at its own. ACDC, Table 1's settings and seeds.
SELECTION = Study(
    name="selection",
    title="Checkpoint per head",
    key="select_head",
    columns=("evaluated", "each"),
    rows=(
        AblationRow(group="lower", label="Lower bound"),
        AblationRow(group="decoupled-sh", label="Decoupled teacher", default="decoupled"),
        AblationRow(
            group="decoupled-sh", label="Decoupled student", head="student", default="decoupled"
        ),
    ),
    settings="runs.settings",
    seeds="runs.seeds",
    default=lambda params: str(
        lookup(params, f"{preset_key(params, 'acdc', 'train')}.select_head")
    ),
    csv_column="select_head",
)
STUDIES = (ABLATION, SELECTION)


def study_lines(
    study: Study, row: AblationRow, params: dict[str, Any]
) -> list[tuple[str, dict[str, str]]]:
    """(label, column value -> run) of each line of a row of ``study``.

    A group that does not sweep ``study.key`` (the Lower bound: no mixed batches, one head)
    reads one run under every column. One that does gives a line per value of its other swept
    keys, each swept value its run (``single-lw0-mfjoint``) and the default value
    (``study.default``), if not swept, ``default``'s run (Table 1's ``decoupled``). A column
    without a run is absent.
    """
    g, key = group(row.group), study.key
    if key not in g.sweep:
        return [(row.label, {c: g.run for c in study.columns})]
    swept = [str(v) for v in lookup(params, g.sweep[key])]
    others = {k: [str(v) for v in lookup(params, p)] for k, p in g.sweep.items()}
    del others[key]
    out = []
    for values in itertools.product(*others.values()):
        fixed = dict(zip(others, values, strict=True))
        line = {v: runs.run_name(g.method, fixed | {key: v}) for v in swept}
        default = study.default(params)
        if row.default is not None and not fixed and default not in line:
            line[default] = group(row.default).run
        out.append((row.label.format(**fixed), {c: line[c] for c in study.columns if c in line}))
    return out


def ablation_lines(row: AblationRow, params: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    """(label, mixed_forward -> run) of each line of a row of the mixed-batch ablation."""
    return study_lines(ABLATION, row, params)


# The convergence study (reports/tables/convergence, reports/figures/convergence.png): per
# dataset, each row's group's runs (one per swept ``steps``), read at the row's head.
CONVERGENCE_DATASETS = ("acdc", "la")
CONVERGENCE_ROWS = (
    Row(group="lower-conv", label="Lower bound"),
    Row(group="upper-all-conv", label="Upper bound (all images)"),
    Row(group="kl-ent-conv", label="Ours (KL+Ent), student", heads=("student",)),
)


def convergence_runs(dataset: str, params: dict[str, Any]) -> list[tuple[Row, str, str, int]]:
    """(row, setting, run, seed) of every convergence run of ``dataset``, row by row."""
    return [
        (row, setting, run, seed)
        for row in CONVERGENCE_ROWS
        for _, setting, run, seed in group(row.group, dataset).runs(params)
    ]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Sweep:
    """A report table of swept values: the runs of ``groups`` (one key swept: one row per
    value; two keys: a grid), the value at params.yaml's default read from the run of group
    ``default``, and ``extra`` values read from another group's run (Table A.3: λEnt = 0 is
    Single)."""

    table: str  # file stem in reports/tables
    title: str
    groups: tuple[str, ...]
    default: str
    head: str
    extra: Mapping[float, str] = dataclasses.field(default_factory=dict)
    # swept key -> params.yaml key of its default, where it is not the key itself
    defaults: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def keys(self) -> tuple[str, ...]:
        """The swept keys (of the first group: the other groups are rows of its grid)."""
        return tuple(group(self.groups[0]).sweep)

    @property
    def method(self) -> str:
        return group(self.default).method


SWEEPS = (
    Sweep(
        table="table4",
        title="Table 4: impact of λKL on KL+Ent (student)",
        groups=("kl-ent-lkd",),
        default="kl-ent",
        head="student",
    ),
    Sweep(
        table="table5",
        title="Table 5: impact of λw on KL+Ent (student)",
        groups=("kl-ent-lw",),
        default="kl-ent",
        head="student",
    ),
    Sweep(
        table="table6",
        title="Table 6: divergences for the Lkd term, KL+Ent (student)",
        groups=("kl-ent-div",),
        default="kl-ent",
        head="student",
    ),
    Sweep(
        table="tableA1",
        title="Table A.1: impact of λw on Single",
        groups=("single-lw",),
        default="single",
        head="teacher",
    ),
    Sweep(
        table="tableA2",
        title="Table A.2: impact of λKL on KL (student)",
        groups=("kl-lkd",),
        default="kl",
        head="student",
    ),
    Sweep(
        table="tableA3",
        title="Table A.3: impact of λEnt on Single + Ent",
        groups=("single-ent-lent",),
        default="single-ent",
        head="teacher",
        extra={0.0: "single"},
    ),
    Sweep(
        table="tableB4",
        title="Table B.4: λc of UA-MT",
        groups=("uamt-lc",),
        default="uamt",
        head="teacher",
    ),
    Sweep(
        table="tableB5",
        title="Table B.5: λglobalMI and λlocalMI of GLMI (DSC)",
        groups=("glmi-grid", "glmi-lmi"),
        default="glmi",
        head="teacher",
    ),
    Sweep(
        table="tableB6",
        title="Table B.6: λ1 and λ2 of SSCO (DSC)",
        groups=("ssco-grid", "ssco-lsc"),
        default="ssco",
        head="ensemble",
    ),
    Sweep(
        table="fig7",
        title="Fig. 7: ratio of partially to fully labelled patients",
        groups=("kl-ent-ratio",),
        default="kl-ent",
        head="student",
        defaults={"ratio": "settings.default_ratio"},
    ),
)


def sweep(table: str) -> Sweep:
    """The sweep of report table (or figure) ``table`` (e.g. ``table4``)."""
    return next(s for s in SWEEPS if s.table == table)


def same_value(a: Any, b: Any) -> bool:
    """Equal as numbers if both are, else as given (``1 == 1.0``; ``"kl" == "kl"``)."""
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return a == b


def sweep_run(sw: Sweep, params: dict[str, Any], values: Mapping[str, Any]) -> str:
    """The run of ``sw`` at ``values`` (swept key -> value; run names spell it as ``str`` of
    the YAML value, as DVC renders ``${item.x}``): an ``extra`` group's run at its value, the
    default group's run where every value is params.yaml's default, else the sweep's run."""
    if len(values) == 1:
        (v,) = values.values()
        extra = next((g for e, g in sw.extra.items() if same_value(v, e)), None)
        if extra is not None:
            return group(extra).run
    if all(same_value(v, lookup(params, sw.defaults.get(k, k))) for k, v in values.items()):
        return group(sw.default).run
    return runs.run_name(sw.method, {k: str(v) for k, v in values.items()})
