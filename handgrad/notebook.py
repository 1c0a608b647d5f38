"""What the course notebooks share: an unfilled blank reads as one line, not a traceback.

    from handgrad.notebook import blanks_in_one_line, not_attempted
    blanks_in_one_line()

After that, a cell that reaches a blank still stops there, but prints
"not attempted: implement relu_backward in layers/activations.py" instead of the
traceback; `not_attempted(check.hint)` gives the same line for a gradcheck result.
"""

import sys

from handgrad.coursework.markers import not_attempted

__all__ = ["blanks_in_one_line", "not_attempted"]


def _show(shell, etype, evalue, tb, tb_offset=None):
    """IPython's handler for NotImplementedError: one line for a blank, else the traceback."""
    line = not_attempted(evalue)
    if line is None:
        shell.showtraceback((etype, evalue, tb), tb_offset=tb_offset)
        return None
    print(line)
    return [line]


def blanks_in_one_line():
    """In IPython (Jupyter), show a blank's NotImplementedError as one line; elsewhere nothing."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython else None
    if shell is not None:
        shell.set_custom_exc((NotImplementedError,), _show)
