"""The exit codes every command uses (and ``deploy`` returns as data)."""

EXIT_OK = 0  # done; for validate, also warnings only
EXIT_FAILED = 1  # the check or the action failed
EXIT_USAGE = 2  # usage or I/O: a missing path, an unknown environment, bad options
