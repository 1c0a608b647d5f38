"""handgrad COMMAND [options]: a thin dispatcher to one module per subcommand."""

import importlib
import sys

COMMANDS = {
    "train": ("handgrad.train", "train a model and write checkpoint, curves and metrics"),
    "release": ("handgrad.release", "write the student version of the coursework"),
    "grade": ("handgrad.grade", "score a student submission, or a whole class"),
    "autograder": ("handgrad.autograder", "build the Gradescope autograder bundle"),
    "submit": ("handgrad.submit", "pack your copy of the course into a zip for the grader"),
}


def usage():
    lines = ["usage: handgrad COMMAND [options]", "", "commands:"]
    lines += [f"  {name:<10} {about}" for name, (_, about) in COMMANDS.items()]
    lines += ["", "handgrad COMMAND --help shows the options of one command; "
              "handgrad --version the version."]
    return "\n".join(lines)


def main(argv=None):
    """Run one subcommand; return its exit code (2 for a usage error)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    if argv[0] == "--version":
        from handgrad import __version__
        print(f"handgrad {__version__}")
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"handgrad: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    return module.main(rest)
