"""The 8x8 digits clustered into 10 groups: centres drawn as digits, and the accuracy
once each cluster is matched to the digit most of its members are."""

import os

import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import accuracy_score

import kmseg
from _common import output_dir

out = output_dir(__doc__)
X, y = load_digits(return_X_y=True)
km = kmseg.KMeans(n_clusters=10, n_init=10, random_state=0).fit(X)
# each cluster takes the digit most of its members are (the usual tutorial matching)
mode = np.array([np.bincount(y[km.labels_ == c]).argmax() for c in range(10)])
accuracy = accuracy_score(y, mode[km.labels_])
print(f"accuracy after matching clusters to digits: {accuracy:.3f}")
path = os.path.join(out, "digits_centers.png")
kmseg.plot_centers(km.cluster_centers_, (8, 8), titles=[f"-> {d}" for d in mode]).savefig(path)
print("wrote", path)
