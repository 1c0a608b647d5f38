"""python -m handgrad: the same as the handgrad command."""

import sys

from handgrad.cli import main

sys.exit(main())
