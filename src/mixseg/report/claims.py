"""The paper's main claims, checked on our numbers (the long-format rows of the tables).

Each check compares mean test DSC over seeds (strict inequalities) and returns ``holds``,
``does not hold`` or ``not run`` (some run it needs has no evaluation), with the numbers it
used and the paper's. Pure functions of the table rows: no file is read here.
"""

from __future__ import annotations

import dataclasses

HOLDS, FAILS, NOT_RUN = "holds", "does not hold", "not run"


@dataclasses.dataclass(frozen=True)
class Claim:
    claim: str
    status: str  # HOLDS | FAILS | NOT_RUN
    evidence: str


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


def _chain(claim: str, entries: list[tuple[str, dict | None]]) -> Claim:
    """``entries[0] > entries[1] > ...`` on ``ours_mean``."""
    evidence = "; ".join(_fmt(n, r) for n, r in entries) + " (DSC %)"
    if any(r is None or r["ours_mean"] is None for _, r in entries):
        return Claim(claim, NOT_RUN, evidence)
    means = [r["ours_mean"] for _, r in entries]
    ok = all(a > b for a, b in zip(means[:-1], means[1:], strict=True))
    return Claim(claim, HOLDS if ok else FAILS, evidence)


def _title(setting: str) -> str:
    return setting.replace("set", "Set-")


def student_ordering(rows: list[dict], setting: str) -> Claim:
    """Table 1: KL+Ent student > KL student > Decoupled student."""
    return _chain(
        f"{_title(setting)}: KL+Ent student > KL student > Decoupled student (Table 1)",
        [
            (n, _value(rows, "1", setting, run, "student"))
            for n, run in (("KL+Ent", "kl_ent"), ("KL", "kl"), ("Decoupled", "decoupled"))
        ],
    )


def student_beats_teacher(rows: list[dict], setting: str) -> Claim:
    """Table 1: the KL+Ent student beats its teacher."""
    return _chain(
        f"{_title(setting)}: KL+Ent student > KL+Ent teacher (Table 1)",
        [(f"{h}", _value(rows, "1", setting, "kl_ent", h)) for h in ("student", "teacher")],
    )


def entropy_hurts_single(rows: list[dict], setting: str = "set3") -> Claim:
    """Table 1: adding the entropy term to Single lowers DSC at Set-3 (Single > Single + Ent)."""
    return _chain(
        f"{_title(setting)}: Single + Ent < Single (Table 1)",
        [
            (n, _value(rows, "1", setting, run, "teacher"))
            for n, run in (("Single", "single"), ("Single + Ent", "single_ent"))
        ],
    )


def best_sweep_value(
    rows: list[dict], table: str, setting: str, best: float, key: str, title: str
) -> Claim:
    """The row ``value == best`` has the highest DSC among the rows of a sweep that ran (a tie
    for the top does not count as holding)."""
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
        return Claim(claim, NOT_RUN, evidence)
    top = max(r["ours_mean"] for r in ran)
    ok = target[0]["ours_mean"] == top and sum(r["ours_mean"] == top for r in ran) == 1
    return Claim(claim, HOLDS if ok else FAILS, evidence)


def parameter_counts(rows: list[dict]) -> Claim:
    """Table 8: our parameter counts equal the paper's (rows of ``complexity.table8``)."""
    claim = "Parameter counts equal Table 8"
    if not rows:
        return Claim(claim, NOT_RUN, "the complexity stage has not run")
    evidence = "; ".join(
        f"{r['model']} {int(r['params_ours']):,} (paper {int(r['params_paper']):,})" for r in rows
    )
    ok = all(int(r["params_ours"]) == int(r["params_paper"]) for r in rows)
    return Claim(claim, HOLDS if ok else FAILS, evidence)


def evaluate_claims(
    table1_rows: list[dict],
    table4_rows: list[dict],
    settings: list[str],
    table4_settings: list[str],
    table8_rows: list[dict],
) -> list[Claim]:
    """Every claim of the README section "Paper claims on this data", in order."""
    out = [student_ordering(table1_rows, s) for s in settings]
    out += [student_beats_teacher(table1_rows, s) for s in settings]
    out.append(entropy_hurts_single(table1_rows, "set3"))
    out += [
        best_sweep_value(table4_rows, "table4", s, 50, "λkd", "Table 4") for s in table4_settings
    ]
    out.append(parameter_counts(table8_rows))
    return out
