"""`python -m ecr_token_rotator …`: the operator CLI (see cli.py)."""

from .cli import main

raise SystemExit(main(prog="python -m ecr_token_rotator"))
