"""``python -m governance`` runs the CLI."""

from governance.cli.entry import main

main()
