"""Expanding files, folders and glob patterns into a list of image files."""

import glob
import os

from .._validation import KmsegError
from ..io._write import is_temporary

#: File extensions taken from folders.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp", ".ppm", ".pgm",
                    ".npy", ".nii", ".nii.gz")  # the last three: arrays (volumes), see kmseg.io.read_array


def expand_inputs(inputs, recursive=False):
    """Image files named by ``inputs``, each with the sub-folder to mirror in the output.

    Parameters
    ----------
    inputs : iterable of str
        Files (taken whatever their extension), folders (their image files, by
        extension, but not kmseg's temporary files) and glob patterns. A name
        that is no pattern is kept as a file even if it does not exist, so that
        it fails in its own record.
    recursive : bool, default=False
        Descend into sub-folders of folders (and let ``**`` in patterns match folders).

    Returns
    -------
    list of (path, relative_folder)
        In a stable order, without duplicates; ``relative_folder`` is the file's
        sub-folder under the folder it was found in ('' otherwise).

    Raises
    ------
    KmsegError
        A pattern that matches nothing.
    """
    found = []
    seen = set()

    def add(path, rel=""):
        key = os.path.abspath(path)
        if key not in seen:
            seen.add(key)
            found.append((path, rel))

    for item in inputs:
        if os.path.isdir(item):
            walker = os.walk(item) if recursive else [(item, [], os.listdir(item))]
            for folder, dirs, files in walker:
                dirs.sort()
                for name in sorted(files):
                    if name.lower().endswith(IMAGE_EXTENSIONS) and not is_temporary(name):
                        add(os.path.join(folder, name),
                            "" if folder == item else os.path.relpath(folder, item))
        elif os.path.isfile(item) or not glob.has_magic(item):
            add(item)
        else:
            matches = sorted(glob.glob(item, recursive=recursive))
            if not matches:
                raise KmsegError(f"{item!r}: no such file, folder or matching pattern")
            for path in matches:
                if os.path.isfile(path) and not is_temporary(os.path.basename(path)):
                    add(path)
    return found
