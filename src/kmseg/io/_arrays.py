"""Files of arrays beyond RGB images: NumPy ``.npy``, TIFF stacks (GeoTIFF tags kept)
and NIfTI volumes (its affine kept).

:func:`read_array` reads the whole array as it is stored (a multi-page TIFF as
``(pages, rows, columns[, samples])``); :func:`save_array` writes an array in the
kind of file named, carrying over what places it in space from the file it came
from: a GeoTIFF's georeferencing tags, a NIfTI image's affine and header.
"""

import os

import numpy as np

from .._validation import ImageReadError, KmsegError
from ._write import atomic_path

#: File endings read as arrays whatever ``channel_axis`` says.
ARRAY_SUFFIXES = (".npy", ".nii", ".nii.gz")
#: ... and these too when ``channel_axis`` is given (not -1): stacks of pages.
STACK_SUFFIXES = (".tif", ".tiff")
#: GeoTIFF tags (ModelPixelScale, ModelTiepoint, ModelTransformation, GeoKeyDirectory,
#: GeoDoubleParams, GeoAsciiParams) and GDAL's metadata and no-data tags: what places a
#: raster on the Earth, copied onto the label raster.
GEO_TAGS = (33550, 33922, 34264, 34735, 34736, 34737, 42112, 42113)


def array_suffix(path):
    """The ending of ``path`` that names its kind of array file ('.npy', '.nii.gz',
    '.tif', ...), or None for other files."""
    name = os.fspath(path).lower()
    for suffix in ARRAY_SUFFIXES + STACK_SUFFIXES:
        if name.endswith(suffix):
            return suffix
    return None


def is_array_file(path, channel_axis=-1):
    """Whether ``path`` is read as an array (:func:`read_array`) rather than an image:
    ``.npy`` and NIfTI files always; TIFF files when ``channel_axis`` is not -1, or
    when their first page has more than 4 samples a pixel (a multi-band raster),
    which tifffile (if installed) reads from the header."""
    suffix = array_suffix(path)
    if suffix in ARRAY_SUFFIXES:
        return True
    if suffix not in STACK_SUFFIXES:
        return False
    return channel_axis != -1 or _bands(path) > 4


def _bands(path):
    """Samples a pixel of a TIFF file's first page (0 when it cannot be told)."""
    import logging

    quiet = logging.getLogger("tifffile")  # its complaints about a damaged file: the image reader's to make
    level, quiet.level = quiet.level, logging.CRITICAL + 1
    try:
        import tifffile

        with tifffile.TiffFile(os.fspath(path)) as tif:
            return int(tif.pages[0].samplesperpixel)
    except Exception:  # not installed, not a TIFF, not there: the image reader says why
        return 0
    finally:
        quiet.level = level


def read_array(path):
    """The whole array a file holds.

    Parameters
    ----------
    path : str or os.PathLike
        ``.npy`` (no pickled objects), ``.tif`` / ``.tiff`` (every page, with
        tifffile: ``pip install tifffile``; the samples of a pixel last, also
        where they are stored as planes), ``.nii`` / ``.nii.gz`` (with nibabel:
        ``pip install nibabel``), in its stored dtype.

    Returns
    -------
    ndarray

    Raises
    ------
    ImageReadError
        A file that cannot be read; the message names it and why.

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "v.npy")
    >>> np.save(path, np.arange(24, dtype=np.uint16).reshape(2, 3, 4))
    >>> read_array(path).shape
    (2, 3, 4)
    """
    path = os.fspath(path)
    suffix = array_suffix(path)
    if not os.path.exists(path):
        raise ImageReadError(f"{path!r}: no such file")
    try:
        if suffix == ".npy":
            return np.load(path, allow_pickle=False)
        if suffix in STACK_SUFFIXES:
            with _tifffile().TiffFile(path) as tif:
                array, page = tif.asarray(), tif.pages[0]
                if page.samplesperpixel > 1 and int(page.planarconfig) == 2:  # bands stored as planes
                    array = np.moveaxis(array, -3, -1)
                return array
        if suffix in (".nii", ".nii.gz"):
            nibabel = _nibabel()
            try:
                return np.asarray(nibabel.load(path).dataobj)
            except nibabel.filebasedimages.ImageFileError as exc:
                raise ValueError(str(exc)) from None
    except (ValueError, OSError, EOFError) as exc:
        raise ImageReadError(f"{path!r}: not a readable {suffix} array ({exc})") from None
    raise ImageReadError(f"{path!r}: not an array file (.npy, .tif, .tiff, .nii, .nii.gz)")


def save_array(path, array, like=None):
    """Write ``array`` atomically as the kind of file ``path`` names (see
    :func:`read_array`), with the georeferencing tags (TIFF) or the affine and
    header (NIfTI) of the file ``like`` when it is one of that kind.

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "labels.npy")
    >>> save_array(path, np.zeros((2, 3, 4), np.uint8))
    >>> np.load(path).shape
    (2, 3, 4)
    """
    path = os.fspath(path)
    suffix = array_suffix(path)
    if suffix is None:
        raise KmsegError(f"{path!r}: an array is written as .npy, .tif, .tiff, .nii or .nii.gz")
    array = np.ascontiguousarray(array)
    with atomic_path(path) as tmp:
        if suffix == ".npy":
            with open(tmp, "wb") as fh:
                np.save(fh, array, allow_pickle=False)
        elif suffix in STACK_SUFFIXES:
            tifffile = _tifffile()
            tifffile.imwrite(tmp, array, extratags=_geo_tags(like) if like is not None else ())
        else:
            nibabel = _nibabel()
            affine, header = np.eye(4), None
            if like is not None and array_suffix(like) in (".nii", ".nii.gz"):
                source = nibabel.load(os.fspath(like))
                affine, header = source.affine, source.header.copy()
                header.set_data_dtype(array.dtype)
            image = nibabel.Nifti1Image(array, affine, header)
            nibabel.save(image, tmp)  # the temporary name ends as path does: compressed by it


def _geo_tags(like):
    """The GeoTIFF tags of the first page of the TIFF file ``like`` (none for others),
    as tifffile's ``extratags``."""
    if array_suffix(like) not in STACK_SUFFIXES:
        return ()
    tifffile = _tifffile()
    out = []
    with tifffile.TiffFile(os.fspath(like)) as tif:
        for code in GEO_TAGS:
            tag = tif.pages[0].tags.get(code)
            if tag is None:
                continue
            value = tag.value
            count = len(value) if isinstance(value, (tuple, list, bytes, np.ndarray)) else 1
            if isinstance(value, str):
                count = len(value.encode("ascii", "replace")) + 1
            out.append((code, tag.dtype, count, value, True))
    return out


def _tifffile():
    try:
        import tifffile
    except ImportError:
        raise KmsegError('TIFF stacks need tifffile: pip install tifffile (or pip install ".[big]" in a clone '
                         "of kmseg)") from None
    return tifffile


def _nibabel():
    try:
        import nibabel
    except ImportError:
        raise KmsegError('NIfTI files need nibabel: pip install nibabel (or pip install ".[nifti]" in a clone '
                         "of kmseg)") from None
    return nibabel
