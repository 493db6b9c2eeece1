"""Where a fake's state lives: memory (the default) or a SQLite state file."""
