"""The elbow method on a photo: WCSS over k = 1..10, every pixel, with the knee found."""

import os

from sklearn.datasets import load_sample_image

import kmseg
from _common import output_dir

out = output_dir(__doc__)
flower = load_sample_image("flower.jpg")
curve = kmseg.elbow(flower, range(1, 11))
print(curve.table())
path = os.path.join(out, "elbow.png")
curve.plot(title="flower.jpg").savefig(path)
print("wrote", path)
