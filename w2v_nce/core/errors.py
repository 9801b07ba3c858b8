"""Errors that are the user's to fix (bad input, bad options); the CLI prints them as one line."""


class W2VError(Exception):
    """An expected failure with a message meant for the user."""


class W2VWarning(UserWarning):
    """Something the user should know that does not stop the run (e.g. replaced invalid UTF-8)."""


class NoSpaceError(W2VError):
    """A file system is full (or would be): the job cannot go on anywhere until space is freed."""


class ModelFileError(W2VError):
    """A file given as a model is not one w2v-nce can read: damaged, truncated, foreign, or of a future format."""
