"""The ``mixseg`` command line (also ``python -m mixseg``).

One subcommand per user task, each a pair of functions listed in ``COMMANDS``: one adds the
subcommand's parser (with ``set_defaults(run=...)``), the other runs it and returns the exit
status. The library is imported inside ``run`` so ``mixseg --help`` does not pay torch's import.

Exit status: 0 success, 2 bad usage or an input/run/output problem (one line per problem on
stderr, naming the file, ``errors.one_line``); any other error is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from mixseg import __version__, heads

EXIT_OK, EXIT_ERROR = 0, 2

SEGMENT_EPILOG = """\
RUN is a run directory (holding model.pt), a model.pt file, or a run name looked up as
data/runs/<dataset>/<setting>/<run>/seed<seed> under the current directory.
INPUT is a NIfTI file (.nii, .nii.gz), 3D (x, y, z) or a 4D cine (x, y, z, t) with --frame, or
a folder: every NIfTI inside, recursively, except ground truth (*_gt.nii*). Scans are used in
their stored voxel order: slices along the third axis, as ACDC's short-axis stacks.

Each INPUT gives OUT/<name>_mask.nii.gz (<name>_frameNN_mask.nii.gz for a 4D frame): uint8
0/1 with the input's shape, affine and header. Scans get the run's training preprocessing;
probabilities are mapped back to the scan's grid and thresholded at 0.5.

examples:
  # one ACDC frame with the KL+Ent student trained by `make repro`
  mixseg segment --run data/runs/acdc/set3/kl_ent/seed0 \\
      data/raw/acdc/training/patient001/patient001_frame01.nii.gz --out masks/

  # the same run by name, every scan of a folder, with PNG overlays
  mixseg segment --run kl_ent --setting set3 --seed 0 data/raw/acdc/training --out masks/ --png

  # the ES frame of 4D cines (ED/ES read from the Info.cfg next to each file)
  mixseg segment --run kl_ent --frame ES patient*/patient*_4d.nii.gz --out masks/

exit status: 0 all inputs segmented, 2 bad usage or a problem (one line per problem on stderr).
"""


def _frame(text: str) -> str | int:
    """``--frame``: ``ED``, ``ES`` (any case) or a 1-based frame number."""
    if text.upper() in ("ED", "ES"):
        return text.upper()
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected ED, ES or a frame number >= 1, got {text!r}")
    return number


def _add_segment(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "segment",
        help="segment NIfTI scans with a trained run",
        description="Segment NIfTI scans with a trained run (the LV cavity for ACDC runs).",
        epilog=SEGMENT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="NIfTI files or folders")
    p.add_argument("--run", required=True, help="run directory, model.pt file or run name")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    p.add_argument(
        "--head",
        choices=heads.HEADS,
        help="network head (default: student; teacher if single-branch)",
    )
    p.add_argument(
        "--frame",
        type=_frame,
        metavar="ED|ES|N",
        help="frame of 4D inputs: ED, ES (from Info.cfg) or a number from 1; 3D inputs ignore it",
    )
    p.add_argument("--png", action="store_true", help="also write an overlay montage per input")
    p.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda if available")
    p.add_argument("--keep-going", action="store_true", help="go on after a bad input")
    group = p.add_argument_group("run name lookup (RUN given as a name)")
    group.add_argument("--dataset", default="acdc", help="default: %(default)s")
    group.add_argument("--setting", default="set3", help="default: %(default)s")
    group.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    p.set_defaults(run_command=_run_segment)


INPUT_FIX = "repair or leave out that input (--keep-going segments the others)"


def _error(message: object, to_fix: str = "") -> None:
    """One line on stderr (``errors.one_line``), above the progress bar."""
    from tqdm import tqdm

    from mixseg.data.errors import one_line

    tqdm.write(one_line("mixseg segment", message, to_fix), file=sys.stderr)


def _run_segment(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from mixseg import scans, segment
    from mixseg.data.errors import DataError

    try:
        device = segment.pick_device(args.device)
        model_file = segment.resolve_model_file(args.run, args.dataset, args.setting, args.seed)
        model, cfg = segment.load_checkpoint(model_file, device)
        pre = segment.preprocess_params(cfg, model_file)
        head = segment.resolve_head(model, args.head, model_file)
        model = segment.use_head_weights(model, model_file, head)
        files = scans.collect_inputs(args.inputs, skip_dir=args.out)
    except ValueError as exc:  # DataError included
        _error(exc)
        return EXIT_ERROR
    jobs, errors = scans.plan_jobs(files, args.frame)
    for exc in errors:
        _error(exc, INPUT_FIX)
    if errors and not args.keep_going:
        return EXIT_ERROR
    try:
        out_dir = segment.prepare_out_dir(args.out)
    except DataError as exc:
        _error(exc)
        return EXIT_ERROR
    run = f"{cfg['setting']}/{cfg['run']}/seed{cfg['seed']}"
    print(f"{model_file} ({run}), head {head}, {device.type}: {len(jobs)} file(s)", file=sys.stderr)
    n_done = 0
    for job in tqdm(jobs, desc="segment", unit="file", disable=None):
        try:
            res = segment.segment_file(job, model, pre, head, out_dir, png=args.png)
        except DataError as exc:
            _error(exc, INPUT_FIX)
            errors.append(exc)
            if not args.keep_going:
                break
            continue
        n_done += 1
        tqdm.write(f"{res.path}: {res.voxels} voxels, {res.ml:.1f} mL -> {res.mask_file}")
    if errors:
        _error(f"{len(errors)} input(s) failed, {n_done} segmented into {out_dir}")
        return EXIT_ERROR
    return EXIT_OK


COMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (_add_segment,)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mixseg",
        description="Mixed-supervision segmentation (teacher/student networks): apply trained\n"
        "runs to new scans. Training and evaluation run as a DVC pipeline (`make repro`).",
        epilog="examples:\n  mixseg segment --run kl_ent scan.nii.gz --out masks/\n"
        "  mixseg segment --help",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for add in COMMANDS:
        add(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``mixseg`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit status.
    Usage errors exit through argparse (``SystemExit(2)``)."""
    from mixseg.data.errors import expected_errors, one_line

    args = build_parser().parse_args(argv)
    try:
        return args.run_command(args)
    except expected_errors() as exc:  # one the command did not report itself: still one line
        print(one_line("mixseg", exc), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("mixseg: interrupted", file=sys.stderr)
        return 130
