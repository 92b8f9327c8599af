"""``python -m simulator``: the same as the ``axis-sim`` command."""
import sys

from .cli import main

sys.exit(main())
