"""The one marker of errors a user can cause and fix (a bad config, data file, Hub id, resource
request, damaged or unwritable file), shared by every command line.

Every such exception derives from :class:`UserError`; :func:`harness.cli.run` prints it as one
``error:`` line and exits 2 (the traceback only with ``-v``). Anything else is a bug and keeps
its traceback. This module imports nothing, so ``analysis`` may use it too.
"""

from __future__ import annotations


class UserError(Exception):
    """An error the user can fix; its message names the key, file or row at fault."""


class DamagedFileError(UserError, ValueError):
    """A stored file does not match the checksum it was written with (or cannot be read)."""


class TextDecodeError(UserError, ValueError):
    """A text file (YAML, JSON lines, CSV) that is not UTF-8; the message names file and line."""


class NotWritableError(UserError, OSError):
    """A results or artifacts folder that cannot be written to."""
