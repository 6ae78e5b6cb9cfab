"""Replaces this Python process with the virnucpro binary, passing every argument through, so that tools which
call virnucpro-broad as `python -m virnucpro predict ...` run the C implementation unchanged.

The binary: $VIRNUCPRO_BIN when set, else the first `virnucpro` on PATH that is a compiled program (a script named
virnucpro, such as virnucpro-broad's own console script, is passed over)."""
import os
import sys

from . import __version__


def _is_program(path):
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return head == b"\x7fELF" and os.access(path, os.X_OK)


def find_binary():
    env = os.environ.get("VIRNUCPRO_BIN")
    if env:
        return env
    for d in os.environ.get("PATH", "").split(os.pathsep):
        p = os.path.join(d or ".", "virnucpro")
        if os.path.isfile(p) and _is_program(p):
            return p
    return None


def main(argv=None):
    args = sys.argv[1:] if argv is None else list(argv)
    binary = find_binary()
    if binary is None:
        sys.stderr.write("python -m virnucpro: error: no virnucpro binary found: put it on PATH or set "
                         "VIRNUCPRO_BIN to its path\n")
        return 2
    if args[:1] in (["--version"], ["-V"]):
        sys.stdout.write("python -m virnucpro %s: runs %s\n" % (__version__, os.path.abspath(binary)))
        sys.stdout.flush()
    try:
        os.execv(binary, [binary] + args)
    except OSError as e:
        sys.stderr.write("python -m virnucpro: error: cannot run '%s': %s\n" % (binary, e.strerror))
        return 2


if __name__ == "__main__":
    sys.exit(main())
