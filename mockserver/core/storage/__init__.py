"""Where a fake's state lives: the `State` a call changes (ids, images, attachments, the journal)
and its two homes, memory (the default) or a SQLite state file that survives a restart, with the
file's own rules: locking, damage, space, and what a record looks like on disk.
"""
