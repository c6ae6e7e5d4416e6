"""Stages 0 and 5: images in, files out, as ``kmseg``'s command line and web page use them.

Every file is written atomically (a temporary file beside it, then renamed):
a file that exists is a complete one. Importing this package loads NumPy only;
Pillow and tifffile load when a file is read or written.
"""

from ._palette_files import (PALETTE_TEXT_FORMATS, hex_color, palette_csv, palette_record, palette_table,
                             palette_text, quantized_record)
from ._arrays import array_suffix, is_array_file, read_array, save_array
from ._palette_read import read_palette
from ._read import read_bytes, read_image, thread_warnings
from ._write import (INDEXED_FORMATS, display_image, encode_image, encode_indexed, image_format, label_png,
                     palette_image, save_figure, save_image, save_indexed, save_json, save_segmentation, save_text)

__all__ = [
    "read_image",
    "read_array",
    "save_array",
    "is_array_file",
    "array_suffix",
    "read_bytes",
    "thread_warnings",
    "save_image",
    "save_indexed",
    "encode_indexed",
    "palette_image",
    "INDEXED_FORMATS",
    "read_palette",
    "encode_image",
    "display_image",
    "image_format",
    "label_png",
    "save_segmentation",
    "save_figure",
    "save_text",
    "save_json",
    "palette_record",
    "quantized_record",
    "palette_text",
    "palette_csv",
    "palette_table",
    "PALETTE_TEXT_FORMATS",
    "hex_color",
]
