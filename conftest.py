# src/kmseg/__main__.py runs the command when imported: keep doctest collection off it.
collect_ignore = ["src/kmseg/__main__.py"]
