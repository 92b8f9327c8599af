"""``python -m simulator``: the same as the ``axis-sim`` command."""
from .cli import command

command()
