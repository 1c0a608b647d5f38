"""handgrad layers: every forward returns (out, cache), every backward takes (dout, cache).

All public names of the API contract are importable from here.
"""

from .affine import affine_backward, affine_forward
