"""`python -m hampshire_research ...`: the command without relying on the console script."""

import sys

from .cli import main

sys.exit(main())
