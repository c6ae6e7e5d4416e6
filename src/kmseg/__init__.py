"""kmseg: exact, fast k-means image segmentation and colour quantization.

Every pixel is clustered: an image is reduced to its distinct colours and their
counts, which are clustered as weighted samples, the same objective as
clustering all pixels. Heavy modules load on first use, so ``import kmseg`` is cheap.
"""

import os as _os
from importlib import import_module as _import_module

from ._version import __version__

# The kernels' OpenMP threads (GNU OpenMP) otherwise spin
# between parallel regions, taking the CPU from the Python code between kernel
# calls: on a busy 2-core machine a fit in the main thread ran 5-10x slower.
# Set before any OpenMP runtime starts a team; a value the user set is kept.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__all__ = [
    "KMeans",
    "MiniBatchKMeans",
    "Segmentation",
    "Quantized",
    "segment",
    "quantize",
    "prepare",
    "Prepared",
    "segment_large",
    "LargeSegmentation",
    "read_image",
    "segment_regions",
    "Regions",
    "region_hierarchy",
    "RegionHierarchy",
    "segment_many",
    "fit_palette",
    "Palette",
    "PaletteFitter",
    "color_error",
    "mask_colors",
    "palette_order",
    "elbow",
    "Elbow",
    "find_knee",
    "Knee",
    "KneeWarning",
    "plot_segmentation",
    "plot_elbow",
    "plot_palette",
    "plot_color_scatter",
    "plot_centers",
    "plot_labels",
    "set_config",
    "get_config",
    "config_context",
    "KmsegError",
    "KmsegWarning",
    "ImageReadError",
    "read_bsds_ground_truth",
    "evaluate_segmentation",
    "__version__",
]

_LAZY = {
    "KMeans": "kmseg.cluster._estimator",
    "MiniBatchKMeans": "kmseg.cluster._minibatch",
    "Segmentation": "kmseg.pipeline._result",
    "Quantized": "kmseg.pipeline._result",
    "segment": "kmseg.pipeline._segment",
    "quantize": "kmseg.pipeline._quantize",
    "prepare": "kmseg.pipeline._prepare",
    "Prepared": "kmseg.pipeline._prepare",
    "segment_large": "kmseg.pipeline._large",
    "LargeSegmentation": "kmseg.pipeline._result",
    "read_image": "kmseg.io._read",
    "segment_regions": "kmseg.regions._pipeline",
    "Regions": "kmseg.regions._pipeline",
    "region_hierarchy": "kmseg.regions._pipeline",
    "RegionHierarchy": "kmseg.regions._pipeline",
    "segment_many": "kmseg.batch._run",
    "fit_palette": "kmseg.batch._run",
    "Palette": "kmseg.pipeline._palette",
    "PaletteFitter": "kmseg.pipeline._palette",
    "color_error": "kmseg.color._error",
    "mask_colors": "kmseg.color._select",
    "palette_order": "kmseg.color._select",
    "elbow": "kmseg.pipeline._elbow",
    "Elbow": "kmseg.choose._sweep",
    "find_knee": "kmseg.choose._knee",
    "Knee": "kmseg.choose._knee",
    "KneeWarning": "kmseg.choose._knee",
    **{name: "kmseg.plot._figures" for name in (
        "plot_segmentation", "plot_elbow", "plot_palette", "plot_color_scatter", "plot_centers",
        "plot_labels")},
    "set_config": "kmseg._config",
    "get_config": "kmseg._config",
    "config_context": "kmseg._config",
    "KmsegError": "kmseg._validation",
    "KmsegWarning": "kmseg._validation",
    "ImageReadError": "kmseg._validation",
    "read_bsds_ground_truth": "kmseg.metrics._bsds",
    "evaluate_segmentation": "kmseg.metrics._evaluate",
}


def __getattr__(name):
    if name in _LAZY:
        value = getattr(_import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kmseg' has no attribute {name!r}")


def __dir__():
    # the public names, the sub-packages loaded and the module's dunders; not its private helpers
    shown = {name for name in globals() if not name.startswith("_") or name.startswith("__")}
    return sorted(shown | set(__all__))
