"""The one exception type our code raises for bad input or a failed step."""


class ProjectError(Exception):
    """A problem the user can fix: the message names the file, row and field where it has them.

    The CLI prints it as one line, without a traceback, and exits with status 2.
    """

    def __init__(self, message: str, *, path=None, row: int | None = None, field: str | None = None):
        where = []
        if path is not None:
            where.append(str(path))
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field {field!r}")
        self.path, self.row, self.field = path, row, field
        super().__init__(f"{': '.join([', '.join(where), message]) if where else message}")
