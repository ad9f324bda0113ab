"""``python -m xstilts``: the same as the ``xstilts`` command."""

from xstilts.cli import main

main()
