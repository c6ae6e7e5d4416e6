"""Four Gaussian blobs clustered with k=4; the clusters recover the blobs."""

import os

from matplotlib.figure import Figure
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from kmseg import KMeans
from _common import output_dir

out = output_dir(__doc__)
X, y = make_blobs(n_samples=1000, centers=4, cluster_std=0.8, random_state=3)
km = KMeans(n_clusters=4, n_init=4, random_state=0).fit(X)
ari = adjusted_rand_score(y, km.labels_)
print(f"adjusted Rand index against the true blobs: {ari:.3f}")
fig = Figure(figsize=(5, 4.5), layout="constrained")
ax = fig.subplots()
ax.scatter(X[:, 0], X[:, 1], c=km.labels_, cmap="tab10", vmin=0, vmax=9, s=8)
ax.scatter(*km.cluster_centers_.T, marker="x", s=120, c="k", label="centres")
ax.set_title(f"four blobs, k=4 (ARI {ari:.2f})")
ax.legend()
path = os.path.join(out, "blobs.png")
fig.savefig(path)
print("wrote", path)
