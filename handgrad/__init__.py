"""The handgrad command: train models, release and grade coursework.

The library itself lives in the top-level packages layers, models, solver,
gradcheck and datasets; this package only holds the command-line front end.
"""
