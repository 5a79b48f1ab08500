"""`sys.exit(0)` at module level."""

import sys

sys.exit(0)
