"""The command-line interface: thin commands over the core (the only package importing typer)."""
