"""The failures a user can act on, all under WasmcmpError."""


class WasmcmpError(Exception):
    """Base class: the CLI prints the message and exits non-zero."""


class GuestNotFound(WasmcmpError):
    """A guest module's file is missing."""


class GuestInvalid(WasmcmpError):
    """A guest module's file is not a valid WebAssembly module."""


class GuestAbiMismatch(WasmcmpError):
    """A guest module lacks an export or an import has the wrong signature."""


class GuestTrap(WasmcmpError):
    """The guest trapped (or a host import failed) during a call."""


class GuestTimeout(WasmcmpError):
    """The guest did not answer within the configured time."""


class UnknownCase(WasmcmpError):
    """A case name or pattern matches no known case."""


class MeasurementFailed(WasmcmpError):
    """The pyperf measurement of a case failed."""


class ResultsError(WasmcmpError):
    """A results file or folder cannot be read."""


class InvalidFactor(WasmcmpError):
    """A --factor value is not a number >= 1 or a PATTERN=NUMBER rule."""


class SiteError(WasmcmpError):
    """The site cannot be written: the output folder or the templates are unusable."""


class OutputLocked(WasmcmpError):
    """Another run is writing the same output file."""


class GuestSpecInvalid(WasmcmpError):
    """A ``--guest NAME=FOLDER`` (or WASMCMP_GUESTS entry) is malformed or its name is taken."""
