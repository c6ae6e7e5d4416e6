"""Reader for the human segmentations of the Berkeley Segmentation Dataset (BSDS500).

A ground-truth file ``groundTruth/{train,val,test}/<id>.mat`` holds one variable,
``groundTruth``: a 1 x G cell array of structs, one per human, with the fields
``Segmentation`` (an (H, W) uint16 label map, labels from 1) and ``Boundaries``
(an (H, W) uint8 map of its boundary pixels).
"""

import os

import numpy as np

from .._validation import ImageReadError


def _unwrap(value):
    """The content of the 1 x 1 object arrays ``scipy.io.loadmat`` wraps cells and fields in."""
    while isinstance(value, np.ndarray) and value.dtype == object and value.size == 1:
        value = value.ravel()[0]
    return value


def _field(name, cell, index, field):
    """Field ``field`` of the struct in cell ``index``, as an array."""
    struct = np.asarray(cell)
    names = struct.dtype.names
    if not names:
        raise ImageReadError(
            f"{name}: groundTruth{{{index + 1}}} is not a struct (got a {struct.dtype} array "
            f"of shape {struct.shape}); not a BSDS ground-truth file"
        )
    if field not in names:
        raise ImageReadError(
            f"{name}: groundTruth{{{index + 1}}} has no field {field!r} "
            f"(fields: {', '.join(names)}); not a BSDS ground-truth file"
        )
    return np.asarray(_unwrap(struct.ravel()[0][field]))


def read_bsds_ground_truth(path, *, boundaries=False):
    """Read the human segmentations of one image from a BSDS500 ground-truth file.

    Parameters
    ----------
    path : str or os.PathLike
        A BSDS500 ``groundTruth/*/*.mat`` file: a MATLAB file whose variable
        ``groundTruth`` is a cell array of structs with a ``Segmentation`` field
        (and a ``Boundaries`` field, read when ``boundaries`` is True).
    boundaries : bool, default False
        Also return the stored boundary maps.

    Returns
    -------
    segmentations : list of (H, W) ndarray of int64
        One label map per human, labels as stored (from 1 in BSDS500).
    boundary_maps : list of (H, W) ndarray of bool
        Only when ``boundaries`` is True, returned as ``(segmentations,
        boundary_maps)``: the stored ``Boundaries``, which equal
        ``kmseg.metrics.boundary_map`` of each segmentation.

    Raises
    ------
    ImageReadError
        Naming the file and the reason: no such file, not a MATLAB file, no
        ``groundTruth`` variable, a missing field, maps of different shapes or
        non-integer labels.

    See Also
    --------
    kmseg.metrics.evaluate : scores a segmentation against these maps.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from scipy.io import savemat
    >>> cells = np.empty((1, 2), dtype=object)  # a 1 x 2 cell array of structs
    >>> for i, seg in enumerate([[[1, 1, 2]], [[1, 2, 2]]]):
    ...     cells[0, i] = {"Segmentation": np.array(seg, np.uint16),
    ...                    "Boundaries": np.zeros((1, 3), np.uint8)}
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "12003.mat")
    ...     savemat(path, {"groundTruth": cells})
    ...     segmentations = read_bsds_ground_truth(path)
    >>> [seg.tolist() for seg in segmentations]
    [[[1, 1, 2]], [[1, 2, 2]]]
    """
    from scipy.io import loadmat

    name = repr(os.fspath(path))
    if not os.path.exists(path):
        raise ImageReadError(f"{name}: no such file")
    if os.path.isdir(path):
        raise ImageReadError(f"{name}: is a folder, not a BSDS ground-truth .mat file")
    try:
        with open(path, "rb") as stream:
            mat = loadmat(stream)
    except Exception as exc:  # scipy raises ValueError, IndexError, MatReadError, ...
        raise ImageReadError(
            f"{name}: not a MATLAB .mat file scipy can read ({type(exc).__name__}: {exc})"
        ) from exc
    if "groundTruth" not in mat:
        found = ", ".join(k for k in mat if not k.startswith("__")) or "none"
        raise ImageReadError(
            f"{name}: no 'groundTruth' variable (variables: {found}); not a BSDS ground-truth file"
        )
    cells = mat["groundTruth"]
    is_cells = isinstance(cells, np.ndarray) and (cells.dtype == object or cells.dtype.names)
    if not is_cells or cells.size == 0:
        raise ImageReadError(
            f"{name}: 'groundTruth' must be a non-empty cell array of structs, "
            f"got {getattr(cells, 'dtype', type(cells).__name__)} of shape "
            f"{getattr(cells, 'shape', ())}"
        )
    segmentations, boundary_maps = [], []
    for index, cell in enumerate(cells.ravel()):
        seg = _field(name, cell, index, "Segmentation")
        label = f"groundTruth{{{index + 1}}}.Segmentation"
        if seg.ndim != 2 or seg.size == 0:
            raise ImageReadError(f"{name}: {label} must be a 2-D label map, got shape {seg.shape}")
        if not np.issubdtype(seg.dtype, np.integer):
            if not (np.issubdtype(seg.dtype, np.floating) and np.all(seg == np.round(seg))):
                raise ImageReadError(f"{name}: {label} must hold integer labels, got {seg.dtype}")
        if segmentations and seg.shape != segmentations[0].shape:
            raise ImageReadError(
                f"{name}: {label} has shape {seg.shape}, unlike groundTruth{{1}} "
                f"{segmentations[0].shape}"
            )
        segmentations.append(seg.astype(np.int64))
        if boundaries:
            bdry = _field(name, cell, index, "Boundaries")
            if bdry.shape != seg.shape:
                raise ImageReadError(
                    f"{name}: groundTruth{{{index + 1}}}.Boundaries has shape {bdry.shape}, "
                    f"unlike its Segmentation {seg.shape}"
                )
            boundary_maps.append(bdry.astype(bool))
    if boundaries:
        return segmentations, boundary_maps
    return segmentations
