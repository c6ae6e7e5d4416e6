"""Colour classes against connected segments: plain k-means paints every pixel of a colour class alike,
wherever it is; segment_regions returns k connected segments that follow objects."""

import os

from matplotlib.figure import Figure
from scipy import ndimage
from skimage import data
from skimage.segmentation import mark_boundaries

import kmseg
from _common import output_dir

out = output_dir(__doc__)
photo = data.coffee()
classes = kmseg.segment(photo, 6)
regions = kmseg.segment_regions(photo, 6)
pieces = sum(ndimage.label(classes.labels == c)[1] for c in range(classes.n_clusters))
print(f"k-means: 6 colour classes in {pieces} separate pieces; segment_regions: "
      f"{regions.n_segments} connected segments")
fig = Figure(figsize=(12, 3.6), layout="constrained")
axes = fig.subplots(1, 3)
axes[0].imshow(photo)
axes[0].set_title("original")
axes[1].imshow(mark_boundaries(classes.recolor(), classes.labels, color=(1, 1, 0)))
axes[1].set_title(f"6 colour classes ({pieces} pieces)")
axes[2].imshow(mark_boundaries(regions.recolor(), regions.labels, color=(1, 1, 0)))
axes[2].set_title("6 connected segments")
for ax in axes:
    ax.set_axis_off()
path = os.path.join(out, "regions.png")
fig.savefig(path)
print("wrote", path)
