"""``python -m governance`` runs the CLI."""

from governance.cli.app import main

main()
