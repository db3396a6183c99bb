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


def _grid(rows: dict, settings: tuple[str, ...]) -> dict:
    """{value: (dsc, hd, dsc, hd, ...)} -> {value: {setting: (dsc, hd)}}."""
    return {v: {s: (r[2 * i], r[2 * i + 1]) for i, s in enumerate(settings)} for v, r in rows.items()}


S3 = ("set3", "set5", "set10")
# Table 4: lambda_KL of KL+Ent (student). Table 5: lambda_w of KL+Ent (student).
TABLE4 = _grid({0.1: (66.36, 51.86, 77.26, 31.30, 81.95, 30.11),
                1: (71.31, 39.67, 83.88, 21.68, 89.73, 7.34),
                10: (85.87, 12.38, 86.52, 7.86, 90.55, 2.84),
                50: (86.94, 8.84, 88.77, 5.40, 90.92, 1.39),
                100: (83.92, 18.17, 87.31, 9.34, 89.38, 1.62),
                1000: (76.20, 29.99, 85.59, 13.93, 88.90, 4.46)}, S3)
TABLE5 = _grid({1: (80.55, 20.35, 84.09, 18.78, 90.26, 6.99),
                0.1: (84.09, 11.46, 87.09, 18.03, 90.17, 4.84),
                0.01: (85.40, 12.05, 87.39, 9.87, 90.14, 2.70),
                0.001: (86.94, 8.84, 88.77, 5.40, 90.92, 1.39),
                0.0001: (81.24, 19.77, 83.68, 15.88, 87.64, 4.39)}, S3)
# Table 6: divergences of KL+Ent on Set-3 (student).
TABLE6 = _grid({"kl": (86.94, 8.84), "bhattacharyya": (86.98, 5.26), "alpha2": (88.04, 6.43),
                "alpha3": (86.89, 10.24), "alpha5": (85.57, 11.77)}, ("set3",))
# Appendix A.1: lambda_w of Single. A.2: lambda_KL of KL (student). A.3: lambda_Ent of Single+Ent.
TABLE_A1 = _grid({1: (22.93, 125.61, 64.21, 64.31, 69.55, 53.10),
                  0.1: (45.20, 92.37, 63.74, 52.01, 75.35, 50.52),
                  0.01: (55.04, 78.15, 65.38, 52.59, 76.94, 48.53),
                  0.001: (57.42, 78.80, 70.73, 51.34, 78.17, 42.99),
                  0.0001: (41.82, 91.17, 60.93, 51.93, 74.18, 50.98)}, S3)
TABLE_A2 = _grid({0.1: (63.37, 87.63, 74.26, 44.63, 84.12, 32.09),
                  1: (65.70, 79.77, 75.21, 52.29, 87.74, 21.10),
                  10: (64.12, 66.47, 75.56, 37.45, 87.04, 27.61),
                  50: (71.41, 61.37, 81.79, 24.07, 89.20, 9.78),
                  100: (71.23, 61.92, 81.52, 27.71, 88.66, 12.01),
                  1000: (63.64, 77.40, 78.60, 26.71, 86.65, 14.05)}, S3)
TABLE_A3 = _grid({0.0: (57.42, 78.80, 70.73, 51.34), 0.1: (51.32, 84.45, 69.62, 48.53),
                  1: (43.01, 83.98, 74.92, 55.24), 10: (38.61, 100.86, 62.66, 54.34)},
                 ("set3", "set5"))
