"""Domain values: pure data, no I/O (release, model card, model, config, events, decisions)."""
