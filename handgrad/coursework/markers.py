"""Solution markers in Python source: find them, cut them out, splice answers back.

The instructor's source marks what students write::

    # BEGIN SOLUTION relu_backward
    # HINT: the gradient passes where the input was positive
    dx = dout * (x > 0)
    # END SOLUTION

Any number of leading '#' is accepted (nbgrader's '### BEGIN SOLUTION' works),
the id may be written bare or in brackets ('[relu_backward]') or left out (it
is then the enclosing function's name). Markers are found with the tokenizer,
so a marker inside a string literal never counts. The student version keeps
the hints and raises at the block's indentation, between guards that
`splice` later uses to take the student's code back out::

    # BEGIN YOUR CODE relu_backward
    # HINT: the gradient passes where the input was positive
    raise NotImplementedError("relu_backward in layers/activations.py")
    # END YOUR CODE
"""

import io
import re
import tokenize
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

_ID = r"(?:\s+\[?(?P<id>[A-Za-z_][\w.-]*)\]?)?"
SOLUTION = (re.compile(rf"^#+\s*BEGIN SOLUTION{_ID}\s*$"), re.compile(r"^#+\s*END SOLUTION\s*$"))
GUARD = (re.compile(rf"^#+\s*BEGIN YOUR CODE{_ID}\s*$"), re.compile(r"^#+\s*END YOUR CODE\s*$"))
HINT = re.compile(r"^\s*#+\s*HINT:")
_DEF = re.compile(r"^(?P<indent>\s*)(?:async\s+)?def\s+(?P<name>\w+)")
MAGIC = re.compile(r"^\s*[%!]")  # IPython magics in notebook cells

# The message of a released blank's raise: "<id> in <file>" (a notebook adds " cell N").
_STUB = r"(?P<id>[A-Za-z_][\w.-]*) in (?P<file>[\w./-]+(?: cell \d+)?)"
STUB_MESSAGE = re.compile(rf"^{_STUB}$")
# How gradcheck reports a check that met such a raise (verdict not_attempted).
CHECK_HINT = re.compile(rf"not implemented yet: {_STUB}")
NOT_ATTEMPTED = "not attempted: "


def blank_behind(error):
    """(id, file) of the unfilled blank behind error, else None.

    The error itself, an exception it was raised while handling, or one of its group
    may be a NotImplementedError carrying a blank's message; a failed assertion on a
    gradcheck result names the blank in the check's hint.
    """
    seen, todo = set(), [error]
    while todo:
        err = todo.pop()
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        if isinstance(err, NotImplementedError):
            match = STUB_MESSAGE.match(str(err).strip())
        else:
            match = CHECK_HINT.search(str(err))
        if match:
            return match["id"], match["file"]
        todo += [err.__cause__, err.__context__, *getattr(err, "exceptions", ())]
    return None


def not_attempted(error):
    """'not attempted: implement <id> in <file>' when error comes from an unfilled blank,
    else None. One wording for every place a student meets an unfilled blank: pytest's
    skip reason, `handgrad train`, the notebooks."""
    found = blank_behind(error)
    return f"{NOT_ATTEMPTED}implement {found[0]} in {found[1]}" if found else None


def still_blank(root, blank, relpath):
    """True when root/relpath still holds the release's raise for blank (not attempted)."""
    path = Path(root) / relpath
    stub = f'raise NotImplementedError("{blank} in {relpath}")'
    return path.is_file() and stub in path.read_text(encoding="utf-8", errors="replace")


class MarkerError(ValueError):
    """A malformed marker: unclosed, nested, stray END, duplicate id."""


@dataclass(frozen=True)
class Block:
    """One marked region. Lines are 1-based; begin/end are the marker lines."""

    id: str
    begin: int
    end: int
    indent: str
    body: tuple  # the lines strictly between the markers, newlines kept

    @property
    def hints(self):
        return tuple(line for line in self.body if HINT.match(line))


def _marker_comments(source, where):
    """Yield (line number, comment text) of every comment that stands alone on its line."""
    lines = source.splitlines(keepends=True)
    # Magics are not Python: blank them for the tokenizer, keeping line numbers.
    masked = "".join("\n" if MAGIC.match(line) else line for line in lines)
    try:
        for tok in tokenize.generate_tokens(io.StringIO(masked).readline):
            row, col = tok.start
            if tok.type == tokenize.COMMENT and not lines[row - 1][:col].strip():
                yield row, tok.string.strip()
    except (tokenize.TokenError, SyntaxError) as err:
        raise MarkerError(f"{where}: cannot tokenize ({err})") from err


def _enclosing_def(lines, row, indent):
    """Name of the nearest def above line `row` that is less indented than the marker."""
    for line in reversed(lines[: row - 1]):
        match = _DEF.match(line)
        if match and len(match["indent"]) < len(indent):
            return match["name"]
    return None


def find_blocks(source, where, markers=SOLUTION, default="block"):
    """Return the Blocks of source in order; where names the file in error messages.

    A block without an id takes its enclosing function's name, else `default`.
    """
    begin_re, end_re = markers
    lines = source.splitlines(keepends=True)
    blocks, open_at, open_id = [], None, None
    for row, text in _marker_comments(source, where):
        begin, end = begin_re.match(text), end_re.match(text)
        if begin:
            if open_at is not None:
                raise MarkerError(f"{where}:{row}: BEGIN inside the block opened at line {open_at}")
            open_at, open_id = row, begin["id"]
        elif end:
            if open_at is None:
                raise MarkerError(f"{where}:{row}: END without a BEGIN")
            first = lines[open_at - 1]
            indent = first[: len(first) - len(first.lstrip())]
            block_id = open_id or _enclosing_def(lines, open_at, indent) or default
            body = tuple(lines[open_at:row - 1])
            blocks.append(Block(block_id, open_at, row, indent, body))
            open_at = None
    if open_at is not None:
        raise MarkerError(f"{where}:{open_at}: BEGIN without an END")
    return _number_repeats(blocks)


def _number_repeats(blocks):
    """Give repeated ids within one file a suffix: conv, conv_2, conv_3."""
    seen, out = {}, []
    for block in blocks:
        seen[block.id] = seen.get(block.id, 0) + 1
        n = seen[block.id]
        out.append(block if n == 1 else replace(block, id=f"{block.id}_{n}"))
    return out


def stub_lines(block, relpath):
    """The student's guarded region for one block (hints kept, a loud raise)."""
    ind = block.indent
    where = str(PurePosixPath(relpath))
    return [
        f"{ind}# BEGIN YOUR CODE {block.id}\n",
        *block.hints,
        f'{ind}raise NotImplementedError("{block.id} in {where}")\n',
        f"{ind}# END YOUR CODE\n",
    ]


def cut(source, relpath, default="block"):
    """Return (student source, blocks, release line ranges) for one Python source."""
    blocks = find_blocks(source, relpath, default=default)
    lines = source.splitlines(keepends=True)
    out, ranges, pos = [], [], 0
    for block in blocks:
        out += lines[pos:block.begin - 1]
        stub = stub_lines(block, relpath)
        ranges.append((len(out) + 1, len(out) + len(stub)))
        out += stub
        pos = block.end
    out += lines[pos:]
    return "".join(out), blocks, ranges


def guards(source, where):
    """The guarded regions of a student source, as Blocks.

    Broken student code must still be spliced and isolated (it then fails at
    import, where the grader reports it), so an untokenizable file falls back
    to line matching.
    """
    try:
        return find_blocks(source, where, GUARD)
    except MarkerError:
        return _find_guards_by_line(source)


def answers(source, where):
    """The student's code inside each guarded region: {id: body lines}."""
    return {block.id: block.body for block in guards(source, where)}


def _find_guards_by_line(source):
    begin_re, end_re = GUARD
    lines = source.splitlines(keepends=True)
    blocks, open_at = [], None
    for row, line in enumerate(lines, 1):
        text = line.strip()
        if begin_re.match(text) and open_at is None:
            open_at, open_id = row, begin_re.match(text)["id"]
        elif end_re.match(text) and open_at is not None:
            body = tuple(lines[open_at:row - 1])
            blocks.append(Block(open_id or "block", open_at, row, "", body))
            open_at = None
    return blocks


def splice(pristine, student_answers, where):
    """Put answers into the guarded regions of a source; return (source, ids used).

    The source is the pristine release (the student's answers go in) or a
    student's file (the solution's bodies go in, to isolate one blank).
    """
    blocks = guards(pristine, where)
    lines = pristine.splitlines(keepends=True)
    out, used, pos = [], [], 0
    for block in blocks:
        out += lines[pos:block.begin]
        if block.id in student_answers:
            body = list(student_answers[block.id])
            if body and not body[-1].endswith("\n"):
                body[-1] += "\n"
            out += body
            used.append(block.id)
        else:
            out += block.body
        pos = block.end - 1
    out += lines[pos:]
    return "".join(out), used
