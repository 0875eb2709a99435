"""The ``ragtune`` command line."""
