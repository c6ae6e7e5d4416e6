"""SLIC superpixels (Achanta et al., 2012) over a CIELAB image, on kmseg's kernels.

Centres start on a regular grid of step ``S = sqrt(H W / n_segments)``; each of
``max_iter`` rounds assigns every pixel to the centre minimising
``|Lab - Lab_c|^2 + (compactness / S)^2 |xy - xy_c|^2`` among the centres whose
``2S x 2S`` window holds it, then moves centres to the mean of their pixels.
Finally every 4-connected piece gets its own label, pieces under ``S^2 / 4``
pixels joining a neighbour.
"""

import numpy as np

from ._slic_kernels import ROW_BLOCK, connected_relabel, slic_assign


def slic_superpixels(lab, n_segments, compactness, max_iter=10):
    """Connected SLIC superpixels of a CIELAB image.

    Parameters
    ----------
    lab : (H, W, 3) float64 ndarray
    n_segments : int
        Approximate number of superpixels.
    compactness : float
        Weight of position against colour (the SLIC paper's ``m``).
    max_iter : int, default=10

    Returns
    -------
    (H, W) int64 ndarray
        Superpixels labelled 0..n-1, each 4-connected.
    """
    lab = np.ascontiguousarray(lab, dtype=np.float64)
    h, w = lab.shape[:2]
    step = max(1.0, np.sqrt(h * w / n_segments))
    ny = max(1, min(h, int(round(h / step))))
    nx = max(1, min(w, int(round(w / step))))
    ys = (np.arange(ny) + 0.5) * h / ny
    xs = (np.arange(nx) + 0.5) * w / nx
    gy, gx = np.meshgrid(ys, xs, indexing="ij")
    centers = np.empty((ny * nx, 5))
    centers[:, 3] = gy.ravel()
    centers[:, 4] = gx.ravel()
    centers[:, :3] = lab[gy.ravel().astype(np.int64), gx.ravel().astype(np.int64)]
    cell_of = np.arange(ny * nx, dtype=np.int64).reshape(ny, nx)
    labels = np.empty((h, w), dtype=np.int64)
    sums = np.empty(((h + ROW_BLOCK - 1) // ROW_BLOCK, ny * nx, 6))
    spatial = (compactness / step) ** 2
    for _ in range(max_iter):
        slic_assign(lab, centers, cell_of, step, spatial, labels, sums)
        total = sums.sum(axis=0)
        full = total[:, 5] > 0
        centers[full] = total[full, :5] / total[full, 5:6]
    out = np.empty_like(labels)
    n = connected_relabel(labels, int(step * step / 4), out)
    assert n == int(out.max()) + 1
    return out
