"""Stage 1: the distinct colours of an image (or of many), as weighted features in a colour space."""

import numpy as np

from ._spaces import to_features


class ColorFeatures:
    """Distinct colours with their pixel counts, as the weighted samples that k-means clusters.

    Parameters
    ----------
    colors : (n,) or (n, 3) ndarray
        Distinct grey values or RGB colours (uint8, uint16 or float in [0, 1]).
    counts : (n,) ndarray
        Pixels of each colour.
    space : {'rgb', 'lab', 'hsv', 'gray'}
        Checked already.
    name : str
        What the colours are of, for messages.

    Attributes
    ----------
    features : (n, d) float64 ndarray
    weights : (n,) float64 ndarray
    n_distinct : int
        Distinct features: the number of colours, but in 'gray', where distinct
        colours can share one luminance.
    """

    def __init__(self, colors, counts, space, name="the image"):
        self.colors = colors
        self.counts = counts
        self.name = name
        self.weights = np.asarray(counts).astype(np.float64)
        self._set_space(space)

    def _set_space(self, space):
        self.space = space
        self.features = to_features(self.colors, space)
        self.n_distinct = (len(np.unique(self.features[:, 0])) if space == "gray"
                           else len(self.features))

    def in_space(self, space):
        """The same colours with features in another (checked) colour space."""
        import copy

        other = copy.copy(self)
        other._set_space(space)
        return other
