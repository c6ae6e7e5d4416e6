"""A 4x4 toy image, two grey levels plus a little noise, split into k=2 clusters."""

import numpy as np

import kmseg

image = np.array(
    [
        [10, 12, 200, 205],
        [11, 13, 198, 201],
        [9, 14, 202, 199],
        [12, 10, 203, 204],
    ],
    dtype=np.uint8,
)
seg = kmseg.segment(image, 2)
print("labels:\n", seg.labels)
print("centres:", seg.centers.ravel().round(2).tolist())
assert seg.labels[:, :2].max() == seg.labels[:, :2].min() != seg.labels[:, 2:].min()
