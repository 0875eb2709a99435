"""User-facing errors: the CLI prints their message and exits non-zero, without a traceback."""


class RagtuneError(Exception):
    """Base class for errors caused by the user's input or environment."""


class ConfigError(RagtuneError):
    """The project configuration is missing or invalid."""


class InputError(RagtuneError):
    """An input path or value is missing, unreadable or invalid."""


class ModelError(RagtuneError):
    """A model could not be found, loaded or reached."""
