"""``python -m pylme4 ...``: the same as the ``pylme4`` command."""

import sys

from .cli import main

sys.exit(main())
