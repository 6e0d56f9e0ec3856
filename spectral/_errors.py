"""Typed exceptions raised by the package."""


class ImageReadError(OSError):
    """An image file is missing, empty, truncated, corrupt or of an unsupported kind.

    The message names the file and the reason; ``path`` holds the file.
    """

    def __init__(self, path, reason):
        self.path = str(path)
        self.reason = str(reason)
        super().__init__(f"cannot read image {self.path!r}: {self.reason}")


class ShapeError(ValueError):
    """An array argument has a shape the function does not accept."""
