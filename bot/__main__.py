"""`python -m bot` is the `chatops` command."""

import sys

from bot.cli import main

sys.exit(main())
