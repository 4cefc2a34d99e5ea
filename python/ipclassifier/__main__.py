"""``python -m ipclassifier``: see :mod:`ipclassifier.cli`."""

import sys

from .cli import main

sys.exit(main())
