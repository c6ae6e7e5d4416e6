"""A CT-like volume split into tissue classes (channel_axis=None), drawn as orthogonal slices;
a 6-band raster split into land-cover-like classes, its bands and classes drawn.

The volume is a phantom made here (ellipsoids of three tissues in air, with noise), so the script
needs no download; scikit-image's ``data.cells3d()[:, 1]`` (nuclei; it needs pooch and a download)
goes in its place as it is.
"""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from skimage import data  # noqa: E402

import kmseg  # noqa: E402
from _common import output_dir  # noqa: E402

out = output_dir(__doc__)


def phantom(n=96, seed=0):
    """(n, n, n) uint16: air, soft tissue, a dense shell and a core; and the true classes."""
    rng = np.random.default_rng(seed)
    z, y, x = np.meshgrid(*(np.linspace(-1, 1, n),) * 3, indexing="ij")
    truth = np.zeros((n, n, n), np.uint8)
    body = (x / 0.8) ** 2 + (y / 0.65) ** 2 + (z / 0.9) ** 2 <= 1
    truth[body] = 1
    truth[body & ((x / 0.7) ** 2 + (y / 0.55) ** 2 + (z / 0.8) ** 2 > 1)] = 3
    truth[((x - 0.2) / 0.25) ** 2 + ((y + 0.1) / 0.2) ** 2 + (z / 0.3) ** 2 <= 1] = 2
    levels = np.array([8000, 21000, 30000, 42000])
    return np.clip(levels[truth] + rng.normal(0, 700, truth.shape), 0, 65535).astype(np.uint16), truth


volume, truth = phantom()
name = "phantom"

seg = kmseg.segment(volume, 4, channel_axis=None)  # the optimal 4-class split of its levels
print(f"{name} {volume.shape} {volume.dtype}: class means {np.round(seg.centers.ravel()).tolist()}, "
      f"voxels {seg.counts.tolist()}")
if truth is not None:
    from sklearn.metrics import adjusted_rand_score

    print(f"agreement with the phantom's true classes (adjusted Rand): "
          f"{adjusted_rand_score(truth.ravel(), seg.labels.ravel()):.3f}")

fig, axes = plt.subplots(2, 3, figsize=(10, 6.6), layout="constrained")
middle = [s // 2 for s in volume.shape]
views = [("axial", np.s_[middle[0], :, :]), ("coronal", np.s_[:, middle[1], :]),
         ("sagittal", np.s_[:, :, middle[2]])]
for col, (title, where) in enumerate(views):
    axes[0, col].imshow(volume[where], cmap="gray")
    axes[0, col].set_title(f"{title} slice")
    axes[1, col].imshow(seg.palette[seg.labels[where]])
    axes[1, col].set_title(f"{title}: 4 classes")
for ax in axes.ravel():
    ax.set_axis_off()
path = os.path.join(out, "volume_classes.png")
fig.savefig(path, dpi=80)
print("wrote", path)

# a multi-band raster: a photo's colours mixed into six bands, with noise
rng = np.random.default_rng(0)
photo = data.astronaut()[::2, ::2].astype(np.float64) / 255
raster = (photo @ rng.uniform(0, 1, (3, 6)) + rng.normal(0, 0.01, photo.shape[:2] + (6,))).astype(np.float32)
cover = kmseg.segment(raster, 5)  # channel_axis=-1: six bands a pixel
print(f"raster {raster.shape}: 5 classes, pixels {cover.counts.tolist()}, inertia {cover.inertia:.4g}")
fig, axes = plt.subplots(1, 7, figsize=(14, 2.4), layout="constrained")
for b in range(6):
    axes[b].imshow(raster[..., b], cmap="gray")
    axes[b].set_title(f"band {b + 1}")
axes[6].imshow(cover.palette[cover.labels])
axes[6].set_title("5 classes")
for ax in axes:
    ax.set_axis_off()
path = os.path.join(out, "raster_classes.png")
fig.savefig(path, dpi=80)
print("wrote", path)
