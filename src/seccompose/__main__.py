"""``python -m seccompose``: the command line."""

import sys

from seccompose.cli import main

sys.exit(main())
