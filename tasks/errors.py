"""The errors a user can act on: each message says what is wrong and what to do. This module
imports nothing heavy, so the CLI can catch them without loading the pipeline."""


class InputError(Exception):
    """A user mistake about the inputs (for example a path that does not exist)."""


class ModelError(Exception):
    """The requested spaCy pipeline cannot be loaded; the message says how to get one."""


class UserFileError(Exception):
    """An alias or pattern file the user gave is wrong; the message names the file and line."""


class WarehouseError(Exception):
    """A problem with the warehouse a user can act on; the message says what to do."""
