"""Question banks: YAML files → validated, typed questions; lint rules against source texts.

Nothing in this package imports Flask or the database, so banks can be checked anywhere.
"""
