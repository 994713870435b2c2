"""Fuzz campaign over every entry point (issue 16): see __main__."""
