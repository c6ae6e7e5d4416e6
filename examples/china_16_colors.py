"""china.jpg compressed to 16 colours, every pixel clustered, with the colour-space scatter."""

import os

import numpy as np
from sklearn.datasets import load_sample_image

import kmseg
from _common import output_dir

out = output_dir(__doc__)
china = load_sample_image("china.jpg")
image, palette = kmseg.quantize(china, 16)
n_before = len(np.unique(china.reshape(-1, 3), axis=0))
print(f"{n_before:,} colours -> {len(palette)}; mean CIEDE2000 error "
      f"{kmseg.color_error(china, image):.2f}")
kmseg.plot_segmentation(china, kmseg.segment(china, 16), boundaries=False).savefig(
    os.path.join(out, "china_16_colors.png"))
kmseg.plot_color_scatter(china, image).savefig(os.path.join(out, "china_16_scatter.png"))
kmseg.plot_palette(kmseg.segment(china, 16)).savefig(os.path.join(out, "china_16_palette.png"))
print("wrote", ", ".join(os.path.join(out, f"china_16_{n}.png") for n in ("colors", "scatter", "palette")))
