"""A greyscale photo (scikit-image's camera) split into foreground and background, k=2."""

import os

from skimage import data

import kmseg
from _common import output_dir

out = output_dir(__doc__)
camera = data.camera()
seg = kmseg.segment(camera, 2)
print(f"grey levels of the two classes: {seg.centers.ravel().round(1).tolist()}, "
      f"pixels: {seg.counts.tolist()}")
path = os.path.join(out, "grey_k2.png")
kmseg.plot_segmentation(camera, seg).savefig(path)
print("wrote", path)
