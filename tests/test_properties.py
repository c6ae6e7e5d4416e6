"""Property tests on random small images (hypothesis)."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import kmseg

images = st.tuples(st.integers(1, 8), st.integers(1, 8), st.sampled_from([None, 3])).flatmap(
    lambda s: arrays(np.uint8, (s[0], s[1]) if s[2] is None else (s[0], s[1], 3),
                     elements=st.integers(0, 255)))
SETTINGS = settings(max_examples=40, deadline=None)


def _segment(img, k, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kmseg.KmsegWarning)  # fewer colours than k: fewer clusters
        return kmseg.segment(img, k, **kw)


@SETTINGS
@given(images, st.integers(1, 5))
def test_labels_in_range_and_shapes_kept(img, k):
    seg = _segment(img, k)
    assert seg.labels.shape == img.shape[:2]
    assert seg.labels.max() < seg.n_clusters <= k
    assert seg.counts.sum() == img.shape[0] * img.shape[1]
    assert np.all(seg.counts > 0)
    assert seg.recolor().shape == img.shape
    assert np.isfinite(seg.inertia) and seg.inertia >= 0


@SETTINGS
@given(images, st.integers(1, 4), st.integers(0, 2**16))
def test_same_seed_same_bytes(img, k, seed):
    a, b = _segment(img, k, random_state=seed), _segment(img, k, random_state=seed)
    assert a.labels.tobytes() == b.labels.tobytes()
    assert a.centers.tobytes() == b.centers.tobytes()


@SETTINGS
@given(images, st.integers(1, 4), st.randoms(use_true_random=False))
def test_permuting_pixels_permutes_labels(img, k, rnd):
    flat = img.reshape(img.shape[0] * img.shape[1], -1)
    perm = np.array(rnd.sample(range(len(flat)), len(flat)))
    shuffled = flat[perm].reshape(img.shape)
    a, b = _segment(img, k), _segment(shuffled, k)
    assert np.array_equal(a.labels.reshape(-1)[perm], b.labels.reshape(-1))


@SETTINGS
@given(images, st.integers(1, 4))
def test_histogram_path_equals_every_pixel(img, k):
    seg = _segment(img, k, n_init=1, random_state=3)
    pixels = img.reshape(img.shape[0] * img.shape[1], -1).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate pixels: fewer distinct clusters
        every = kmseg.KMeans(seg.n_clusters, n_init=1, random_state=3).fit(pixels)
    assert seg.inertia == pytest.approx(every.inertia_, rel=1e-9, abs=1e-9)
