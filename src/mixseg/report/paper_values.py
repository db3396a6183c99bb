"""Values reported in the paper (ACDC, test set, mean of 3 runs), transcribed from its tables.

Only ever shown *beside* our numbers and labelled as the paper's; never used as a result.
Keys: (setting, run) -> {head: (DSC %, HD95)}; heads as in mixseg (teacher = the paper's "Top",
student = "Bottom", ensemble).
"""

from __future__ import annotations

TABLE1: dict[tuple[str, str], dict[str, tuple[float, float]]] = {
    ("set3", "lower"): {"teacher": (54.66, 80.05)},
    ("set3", "single"): {"teacher": (57.42, 78.80)},
    ("set3", "single_ent"): {"teacher": (43.01, 83.98)},
    ("set3", "upper"): {"teacher": (87.17, 5.34)},
    ("set3", "decoupled"): {"teacher": (56.61, 74.95), "student": (5.01, 120.06)},
    ("set3", "kl"): {"teacher": (68.25, 63.15), "student": (71.49, 63.51)},
    ("set3", "kl_ent"): {
        "teacher": (78.38, 46.73), "student": (86.94, 8.84), "ensemble": (86.35, 11.97)
    },
    ("set5", "lower"): {"teacher": (69.71, 51.75)},
    ("set5", "single"): {"teacher": (70.73, 51.34)},
    ("set5", "single_ent"): {"teacher": (74.92, 55.24)},
    ("set5", "upper"): {"teacher": (87.69, 4.93)},
    ("set5", "decoupled"): {"teacher": (70.96, 54.42), "student": (4.29, 127.68)},
    ("set5", "kl"): {"teacher": (80.64, 23.25), "student": (79.06, 34.83)},
    ("set5", "kl_ent"): {
        "teacher": (85.57, 20.68), "student": (88.77, 5.40), "ensemble": (88.54, 5.49)
    },
    ("set10", "lower"): {"teacher": (78.28, 44.16)},
    ("set10", "single"): {"teacher": (78.17, 42.99)},
    ("set10", "single_ent"): {"teacher": (80.63, 37.75)},
    ("set10", "upper"): {"teacher": (91.18, 3.71)},
    ("set10", "decoupled"): {"teacher": (77.53, 32.23), "student": (4.58, 125.36)},
    ("set10", "kl"): {"teacher": (88.29, 12.47), "student": (88.68, 11.93)},
    ("set10", "kl_ent"): {
        "teacher": (86.53, 5.64), "student": (90.92, 1.39), "ensemble": (90.75, 1.55)
    },
    ("all", "upper"): {"teacher": (93.31, 3.46)},
}
