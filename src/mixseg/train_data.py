"""What one run trains on: the setting's patients, split by the method into fully labelled images
and the "other rows" (paper section 3.3), loaded once into the run's batch sampler.

Lives beside the training loop rather than in ``data/`` because it asks the method which rows it
wants and, for proposals, runs a trained network to label them (``pseudo``).
"""

from __future__ import annotations

from mixseg.data import datasets
from mixseg.data.sampler import PatchSampler, SliceSampler, Volumes, build_sampler
from mixseg.runs import Run


def full_rows(run: Run) -> int:
    """Fully labelled rows per step of ``run``: ``batch_full``, except for the Upper bound under
    ``upper_batch: mixed``, which draws ``batch_full + batch_weak`` (the mixed methods' batch with
    every row fully labelled: 12 at the cpu preset, 24 at the paper's ACDC preset). Only the
    Upper bound reads ``upper_batch`` (``runs.resolve_hyper``: None for every other method)."""
    if run.hp.upper_batch == "mixed":
        return run.tp.batch_full + run.tp.batch_weak
    return run.tp.batch_full


def load_sampler(run: Run) -> SliceSampler | PatchSampler:
    """The batch sampler of ``run`` (``data.sampler``) over its fully labelled and other images.

    The other rows are, by ``method.other_rows``: the partial labels of every image of the
    setting (the paper adds the partial labels of the fully labelled images to Dw, section 3.3),
    ``batch_weak`` per batch; the unlabelled images of the partially labelled patients
    (semi-supervised baselines), ``batch_unlabeled`` per batch; their pseudo-masks by the run
    ``run.pseudo_from`` (proposals), ``batch_weak`` per batch; or none. The fully labelled
    rows per batch are ``full_rows(run)``.

    Raises:
        ValueError: a pseudo-mask method without ``pseudo_from``; see also ``build_sampler``.
    """
    dataset, method, tp = run.dataset, run.recipe, run.tp
    meta = datasets.read_splits(dataset)
    full_ids, partial_ids = datasets.patients_of(meta, run.setting, method.full_pool, run.ratio)
    full = datasets.load_volumes(dataset, meta, full_ids, "full")
    other: Volumes | None = None
    n_other = 0
    if method.other_rows == "partial":
        other = datasets.load_volumes(dataset, meta, full_ids + partial_ids, "partial")
        n_other = tp.batch_weak
    elif method.other_rows == "none":
        other = datasets.load_volumes(dataset, meta, partial_ids, "none")
        n_other = tp.batch_unlabeled
    elif method.other_rows == "pseudo":
        if run.pseudo_model is None:
            raise ValueError(f"method {method.name} needs the run whose pseudo-masks it uses")
        from mixseg.pseudo import pseudo_masks  # needs evaluate.load_model

        images = datasets.load_images(dataset, meta, partial_ids)
        other = (images, pseudo_masks(run.pseudo_model, images))
        n_other = tp.batch_weak
    return build_sampler(
        datasets.DIMS[dataset],
        full,
        other,
        seed=run.seed,
        batch_full=full_rows(run),
        batch_other=n_other,
        patch=tp.patch,
    )
