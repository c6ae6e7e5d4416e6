"""Stages 0 and 5: images in, files out, as ``kmseg``'s command line and web page use them.

Every file is written atomically (a temporary file beside it, then renamed):
a file that exists is a complete one.
"""

from importlib import import_module

__all__ = [
    "read_image",
    "read_bytes",
    "thread_warnings",
    "save_image",
    "encode_image",
    "display_image",
    "image_format",
    "label_png",
    "save_segmentation",
    "save_figure",
    "save_text",
    "save_json",
    "palette_record",
    "palette_text",
    "hex_color",
]

_LAZY = {
    **{name: "kmseg.io._read" for name in ("read_image", "read_bytes", "thread_warnings")},
    **{name: "kmseg.io._write" for name in ("save_image", "encode_image", "display_image", "image_format",
                                            "label_png", "save_segmentation", "save_figure", "save_text",
                                            "save_json")},
    **{name: "kmseg.io._palette_files" for name in ("palette_record", "palette_text", "hex_color")},
}


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kmseg.io' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
