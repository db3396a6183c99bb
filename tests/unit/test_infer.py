"""Inference: one forward pass gives every head, 2D slice by slice and 3D by sliding window."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mixseg.heads import HEADS
from mixseg.infer import predict_heads, predict_labels, predict_probs
from mixseg.models import build_model


def _softmax_fg(logits: torch.Tensor) -> np.ndarray:
    return torch.softmax(logits, 1)[:, 1].numpy()


def test_2d_heads_equal_per_decoder_softmax_and_their_mean():
    torch.manual_seed(0)
    model = build_model(dims=2, base=2, n_decoders=2, padding="same").eval()
    volume = np.random.default_rng(0).random((5, 16, 16), dtype=np.float32)
    probs = predict_heads(model, volume, HEADS, batch_size=2)
    with torch.no_grad():
        t, s = model(torch.from_numpy(volume)[:, None])
    np.testing.assert_allclose(probs["teacher"], _softmax_fg(t), atol=1e-6)
    np.testing.assert_allclose(probs["student"], _softmax_fg(s), atol=1e-6)
    np.testing.assert_allclose(probs["ensemble"], (_softmax_fg(t) + _softmax_fg(s)) / 2, atol=1e-6)
    np.testing.assert_allclose(predict_probs(model, volume, "student"), probs["student"], atol=1e-6)
    labels = predict_labels(model, volume, "teacher")
    assert labels.dtype == np.uint8 and set(np.unique(labels)) <= {0, 1}


def test_3d_window_covering_the_volume_equals_one_forward():
    """With one window exactly the volume's size, the sliding window is the plain forward."""
    torch.manual_seed(0)
    model = build_model(dims=3, base=2, n_decoders=2).eval()
    volume = np.random.default_rng(1).random((16, 16, 16), dtype=np.float32)
    probs = predict_heads(model, volume, HEADS, window=(16, 16, 16), stride=(8, 8, 8))
    with torch.no_grad():
        t, s = model(torch.from_numpy(volume)[None, None])
    np.testing.assert_allclose(probs["teacher"], _softmax_fg(t)[0], atol=1e-5)
    np.testing.assert_allclose(probs["student"], _softmax_fg(s)[0], atol=1e-5)


def test_3d_volume_not_divisible_by_the_window_keeps_its_shape():
    torch.manual_seed(0)
    model = build_model(dims=3, base=2, n_decoders=1).eval()
    volume = np.random.default_rng(2).random((20, 13, 35), dtype=np.float32)
    probs = predict_probs(model, volume, "teacher", window=(16, 16, 16), stride=(8, 8, 8))
    assert probs.shape == volume.shape and np.isfinite(probs).all()
    assert ((probs >= 0) & (probs <= 1)).all()


def test_errors_name_the_problem():
    model = build_model(dims=2, base=2, n_decoders=1, padding="same")
    with pytest.raises(ValueError, match="need 2 outputs"):
        predict_heads(model, np.zeros((1, 16, 16), np.float32), ("student",))
    model3 = build_model(dims=3, base=2, n_decoders=1)
    with pytest.raises(ValueError, match="sliding window"):
        predict_heads(model3, np.zeros((16, 16, 16), np.float32), ("teacher",))
