"""python -m gradcheck: the gradient-check command."""

import sys

from .cli import main

sys.exit(main())
