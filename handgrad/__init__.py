"""The handgrad command: train models, release and grade coursework.

The library itself lives in the top-level packages layers, models, solver,
gradcheck and datasets; this package only holds the command-line front end.
The version is read from one place, the installed package's metadata.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("handgrad")
except PackageNotFoundError:            # a checkout used without installing it
    __version__ = "unknown"
