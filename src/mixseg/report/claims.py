"""The paper's main claims, checked on our numbers with their uncertainty.

A claim "A > B" is judged on the test volumes both runs scored (``mixseg.report.paired``: the
mean paired DSC difference and its 95 % bootstrap interval): ``holds`` if the interval lies
above 0, ``fails`` if below, ``inconclusive`` if it contains 0, ``not run`` if a run it needs
has no per-case evaluation (``cases.csv``). A chain A > B > C holds if every adjacent pair
holds, fails if one fails. The evidence gives the tables' means (± std over seeds, the paper's
value) and each pair's difference. Each claim has a stable ``id``, the key of its diagnosis
in ``reports/diagnoses.yaml`` (written by hand, shown under a failing claim).

The claims are pure functions of the tables' long-format rows and of the per-volume DSCs;
``read_volumes`` and ``read_diagnoses`` are the only functions that read files.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import yaml

from mixseg import experiments, paths
from mixseg.config import lookup
from mixseg.report import sweeps
from mixseg.report.paired import FAILS, HOLDS, INCONCLUSIVE, NOT_RUN, Volumes, combine, compare

__all__ = ["FAILS", "HOLDS", "INCONCLUSIVE", "NOT_RUN", "Claim", "evaluate_claims"]

# (setting, run, head) -> that head's DSC % per (seed, case)
VolumeMap = Mapping[tuple[str, str, str], Volumes]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Claim:
    id: str  # stable key of reports/diagnoses.yaml, e.g. "student_ordering/set3"
    claim: str
    status: str  # HOLDS | FAILS | INCONCLUSIVE | NOT_RUN
    evidence: str


@dataclasses.dataclass(frozen=True)
class _Entry:
    """One side of a comparison: its name in the evidence, its table row, its volume key."""

    name: str
    row: dict | None
    key: tuple[str, str, str]


@dataclasses.dataclass(frozen=True)
class Source:
    """The table a claim reads: its rows' ``table`` key, its name in the claim's text, and the
    prefix of the claim's id (Table 1's ids have none, so ``diagnoses.yaml`` keys stay)."""

    table: str
    title: str
    prefix: str = ""


ACDC = Source("1", "Table 1")
LA = Source("7", "Table 7, Left Atrium", "la/")


def _value(
    rows: list[dict], table: str, setting: str, run: str, head: str, metric: str = "dsc"
) -> dict | None:
    for r in rows:
        if (r["table"], r["setting"], r["run"], r["head"], r["metric"]) == (
            table,
            setting,
            run,
            head,
            metric,
        ):
            return r
    return None


def _fmt(name: str, r: dict | None) -> str:
    if r is None or r["ours_mean"] is None:
        return f"{name} not run"
    paper = "" if r.get("paper") is None else f" (paper {float(r['paper']):.2f})"
    spread = " (1 seed)" if r.get("n_seeds") == 1 else f" ± {r['ours_std']:.2f}"
    return f"{name} {r['ours_mean']:.2f}{spread}{paper}"


def _pair(a: _Entry, b: _Entry, volumes: VolumeMap) -> tuple[str, str]:
    """(status, evidence) of "a > b" on the paired volumes."""
    c = compare(volumes.get(a.key, {}), volumes.get(b.key, {}))
    if c is None:
        return NOT_RUN, f"{a.name} − {b.name}: no paired volumes (cases.csv missing)"
    return c.status, f"{a.name} − {b.name}: {c.text()}"


def _chain(claim_id: str, claim: str, entries: list[_Entry], volumes: VolumeMap) -> Claim:
    """``entries[0] > entries[1] > ...``, each adjacent pair on its paired volumes."""
    means = "; ".join(_fmt(e.name, e.row) for e in entries) + " (DSC %)"
    pairs = [_pair(a, b, volumes) for a, b in zip(entries[:-1], entries[1:], strict=True)]
    evidence = "; ".join([means] + [text for _, text in pairs])
    return Claim(id=claim_id, claim=claim, status=combine([s for s, _ in pairs]), evidence=evidence)


def _title(setting: str) -> str:
    return setting.replace("set", "Set-")


def _entry(
    rows: list[dict], name: str, setting: str, run: str, head: str, source: Source = ACDC
) -> _Entry:
    return _Entry(name, _value(rows, source.table, setting, run, head), (setting, run, head))


def student_ordering(
    rows: list[dict], volumes: VolumeMap, setting: str, source: Source = ACDC
) -> Claim:
    """Table 1 (and Table 7): KL+Ent student > KL student > Decoupled student."""
    return _chain(
        f"{source.prefix}student_ordering/{setting}",
        f"{_title(setting)}: KL+Ent student > KL student > Decoupled student ({source.title})",
        [
            _entry(rows, n, setting, run, "student", source)
            for n, run in (("KL+Ent", "kl_ent"), ("KL", "kl"), ("Decoupled", "decoupled"))
        ],
        volumes,
    )


def student_beats_teacher(
    rows: list[dict], volumes: VolumeMap, setting: str, source: Source = ACDC
) -> Claim:
    """Table 1 (and Table 7): the KL+Ent student beats its teacher."""
    return _chain(
        f"{source.prefix}student_beats_teacher/{setting}",
        f"{_title(setting)}: KL+Ent student > KL+Ent teacher ({source.title})",
        [_entry(rows, h, setting, "kl_ent", h, source) for h in ("student", "teacher")],
        volumes,
    )


def entropy_hurts_single(rows: list[dict], volumes: VolumeMap, setting: str = "set3") -> Claim:
    """Table 1: adding the entropy term to Single lowers DSC at Set-3 (Single > Single + Ent)."""
    return _chain(
        f"entropy_hurts_single/{setting}",
        f"{_title(setting)}: Single + Ent < Single (Table 1)",
        [
            _entry(rows, n, setting, run, "teacher")
            for n, run in (("Single", "single"), ("Single + Ent", "single_ent"))
        ],
        volumes,
    )


def best_sweep_value(
    rows: list[dict],
    volumes: VolumeMap,
    table: str,
    setting: str,
    best: float,
    key: str,
    title: str,
) -> Claim:
    """The row ``value == best`` beats every other row of a sweep that ran, each on their
    paired volumes: holds if it beats all, fails if one beats it, else inconclusive; not run
    if it or fewer than two rows ran (rows that did not run are listed, not judged)."""
    claim_id = f"best_row/{table}/{setting}"
    claim = f"{_title(setting)}: {key} = {best:g} is the best row of {title}"
    sel = [
        r for r in rows if r["table"] == table and r["setting"] == setting and r["metric"] == "dsc"
    ]
    ran = [r for r in sel if r["ours_mean"] is not None]
    not_ran = [f"{r['value']}" for r in sel if r["ours_mean"] is None]
    evidence = "; ".join(_fmt(f"{key}={r['value']}", r) for r in ran) or "no row ran"
    if not_ran:
        evidence += f"; not run: {', '.join(not_ran)}"
    target = [r for r in ran if float(r["value"]) == best]
    if not target or len(ran) < 2:
        return Claim(id=claim_id, claim=claim, status=NOT_RUN, evidence=evidence)
    t = _Entry(
        f"{key}={target[0]['value']}", target[0], (setting, target[0]["run"], target[0]["head"])
    )
    others = [
        _Entry(f"{key}={r['value']}", r, (setting, r["run"], r["head"]))
        for r in ran
        if r is not target[0]
    ]
    pairs = [_pair(t, o, volumes) for o in others]
    evidence = "; ".join([evidence] + [text for _, text in pairs])
    return Claim(id=claim_id, claim=claim, status=combine([s for s, _ in pairs]), evidence=evidence)


def parameter_counts(rows: list[dict]) -> Claim:
    """Table 8: our parameter counts equal the paper's (rows of ``complexity.table8``), an
    exact check: no uncertainty."""
    claim_id, claim = "parameter_counts", "Parameter counts equal Table 8"
    if not rows:
        return Claim(
            id=claim_id, claim=claim, status=NOT_RUN, evidence="the complexity stage has not run"
        )
    evidence = "; ".join(
        f"{r['model']} {int(r['params_ours']):,} (paper {int(r['params_paper']):,})" for r in rows
    )
    ok = all(int(r["params_ours"]) == int(r["params_paper"]) for r in rows)
    return Claim(id=claim_id, claim=claim, status=HOLDS if ok else FAILS, evidence=evidence)


def evaluate_claims(
    table1_rows: list[dict],
    table4_rows: list[dict],
    volumes: VolumeMap,
    settings: list[str],
    table4_settings: list[str],
    table8_rows: list[dict],
    table7_rows: Sequence[dict] = (),
    la_volumes: VolumeMap | None = None,
) -> list[Claim]:
    """Every claim of the README section "Paper claims on this data", in order: Table 1's,
    Table 4's, Table 7's (the Left Atrium: the same two claims as Table 1's, which the paper's
    Table 7 also shows; none if ``table7_rows`` is empty), the parameter counts.

    Args:
        volumes: the per-volume DSCs of the runs the claims compare (``read_volumes``).
        la_volumes: the same for the Left Atrium runs of ``table7_rows``.
    """
    out = [student_ordering(table1_rows, volumes, s) for s in settings]
    out += [student_beats_teacher(table1_rows, volumes, s) for s in settings]
    out.append(entropy_hurts_single(table1_rows, volumes, "set3"))
    out += [
        best_sweep_value(table4_rows, volumes, "table4", s, 50, "λkd", "Table 4")
        for s in table4_settings
    ]
    rows7 = list(table7_rows)
    la_settings = list(dict.fromkeys(r["setting"] for r in rows7 if r["run"] == "kl_ent"))
    for claim in (student_ordering, student_beats_teacher):
        out += [claim(rows7, la_volumes or {}, s, LA) for s in la_settings]
    out.append(parameter_counts(table8_rows))
    return out


def _table_runs(params: dict, table: experiments.Table) -> list[tuple[str, str, tuple[int, ...]]]:
    """(setting, run, seeds) of every line of ``table``, at the seeds the table reads."""
    seeds = tuple(int(s) for s in lookup(params, table.seeds))
    settings = list(lookup(params, "runs.settings"))
    return [(s, run, seeds) for s, _, run in table.entries(settings)]


def claim_runs(params: dict) -> list[tuple[str, str, tuple[int, ...]]]:
    """(setting, run, seeds) of the runs the claims compare, at the seeds their tables read:
    Table 1's runs (``experiments.TABLE1``) and Table 4's rows (``sweeps.sweep_rows``)."""
    out = _table_runs(params, experiments.TABLE1)
    sw = experiments.sweep("table4")
    for s in lookup(params, experiments.group(sw.groups[0]).settings):
        for _, name, run in sweeps.sweep_rows(sw, params):
            out.append(
                (s, run, tuple(int(k) for k in lookup(params, experiments.group(name).seeds)))
            )
    return list(dict.fromkeys(out))


def la_claim_runs(params: dict) -> list[tuple[str, str, tuple[int, ...]]]:
    """(setting, run, seeds) of the Left Atrium runs the claims compare: Table 7's
    (``experiments.TABLE7``) at ``runs.la_seeds``."""
    return list(dict.fromkeys(_table_runs(params, experiments.TABLE7)))


def read_volumes(
    dataset: str, runs: Iterable[tuple[str, str, Iterable[int]]]
) -> dict[tuple[str, str, str], Volumes]:
    """The per-volume DSCs (in %) of ``runs`` (setting, run, seeds) as a ``VolumeMap``, from
    each seed's ``cases.csv`` (``paths.eval_dir``); a seed without one is left out, a run
    without any has no key."""
    out: dict[tuple[str, str, str], Volumes] = {}
    for setting, run, seeds in runs:
        for seed in seeds:
            f = paths.eval_dir(dataset, setting, run, seed) / "cases.csv"
            if not f.exists():
                continue
            with f.open(newline="") as fh:
                for r in csv.DictReader(fh):
                    vols = out.setdefault((setting, run, r["head"]), {})
                    vols[(seed, r["case"])] = 100.0 * float(r["dsc"])
    return out


def read_diagnoses(file: Path) -> dict[str, str]:
    """``reports/diagnoses.yaml``: claim id -> one sentence diagnosing why it fails.

    Raises:
        ValueError: the file is not a mapping of ids to non-empty strings.
    """
    data = yaml.safe_load(file.read_text()) or {}
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in data.items()
    ):
        raise ValueError(f"{file}: expected a mapping of claim ids to one sentence each")
    return data
