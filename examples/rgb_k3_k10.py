"""An RGB photo (scikit-image's astronaut) segmented with k=3 and with k=10."""

import os

from matplotlib.figure import Figure
from skimage import data

import kmseg
from _common import output_dir

out = output_dir(__doc__)
photo = data.astronaut()
fig = Figure(figsize=(12, 4.3), layout="constrained")
axes = fig.subplots(1, 3)
axes[0].imshow(photo)
axes[0].set_title("original")
for ax, k in zip(axes[1:], (3, 10)):
    seg = kmseg.segment(photo, k)
    ax.imshow(seg.recolor())
    ax.set_title(f"k={k}, inertia {seg.inertia:.3g}")
    print(f"k={k}: palette {[('#%02x%02x%02x' % tuple(c)) for c in seg.palette]}")
for ax in axes:
    ax.set_axis_off()
path = os.path.join(out, "rgb_k3_k10.png")
fig.savefig(path)
print("wrote", path)
