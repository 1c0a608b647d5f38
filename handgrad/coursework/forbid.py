"""What a blank's code may not reach, checked in its source and again at run time.

coursework.toml names what would give a blank's answer away:

    [course]
    forbid = ["scipy.*", "gradcheck.*"]          # every graded blank
    [forbid]
    batchnorm_backward = ["batchnorm_backward_alt", "layernorm_backward"]

A plain name is a function or class of the course's packages, matched by its
name however it is reached (`layers.x`, `from layers.conv import x as y`,
`getattr(layers, "x")`); `pkg.mod.*` is a module and everything in it.

Static (`scan`, with reach.py): the grader parses the student's region of the
blank (between its guards) in the blank's own tree, outside any sandbox, and
reports every forbidden name the region reaches: directly, through an alias
bound anywhere in the file (imports, `f = x`), through an import, `getattr`,
`importlib.import_module` or `__import__` with a constant string, a string that
names it, or a function of the tree that the region calls (followed into its
body). Code that looks names up or runs code at run time (exec, eval, compile,
getattr with a computed name, globals(), __dict__, ...) cannot be checked, and
no blank of a numpy course needs it: in the region, and in the student's own
functions it calls, it is a violation too. Code the student added outside the
blanks (lines the release does not hold, new files of the packages) runs at
import and could replace any blank's function: it may not reach the forbidden
modules or run code either, and a violation there costs every blank.

Run time (`disable`): in the blank's tree the bodies of the forbidden functions
(and every method of a forbidden class) are replaced by a raise that names them,
so a call by any route the source does not show (a computed key into a dict of
the library, say) fails inside that blank's tests. In the full pass's tree, where
every graded blank's tests run, what ANY of them may not reach is disabled: a
blank that is itself forbidden to another (batchnorm_backward_alt) fails there
and is graded in its own tree.
"""

import ast
from pathlib import Path

from . import markers, spec
from .reach import DEFS, Rule, Scanner


def _statements(module, first, last):
    """The outermost statements of module that start within lines first..last."""
    out = []

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt) and first <= child.lineno <= last:
                out.append(child)
            else:
                visit(child)

    visit(module)
    return out


def _enclosing(module, row):
    """Names from the outside in of the definitions around line row: ['TwoLayerNet', 'loss']."""
    path, body = [], module.body
    while True:
        node = next((n for n in body if isinstance(n, DEFS)
                     and n.lineno <= row <= n.end_lineno), None)
        if node is None:
            return path
        path.append(node.name)
        body = node.body


def _find(module, path):
    """The definition at path in module, or None."""
    node = module
    for name in path:
        node = next((n for n in node.body if isinstance(n, DEFS) and n.name == name), None)
        if node is None:
            return None
    return node


def region(course, blank, src, guarded=True):
    """The statements of the blank in src: between its guards (solution markers when not
    guarded), else the whole definition that holds the blank in the solution (the student
    deleted its guards)."""
    found = markers.guards if guarded else markers.find_blocks
    block = next((b for b in found(src.text, src.rel) if b.id == blank), None)
    if block is not None:
        return _statements(src.module, block.begin + 1, block.end - 1)
    solution = (Path(course.root) / src.rel).read_text(encoding="utf-8")
    mark = next(b for b in markers.find_blocks(solution, src.rel) if b.id == blank)
    node = _find(src.module, _enclosing(ast.parse(solution), mark.begin))
    return node.body if node is not None else []


def scan(course, blank, tree, guarded=True, pristine=None, shared=None):
    """The violations of the blank's code in tree (messages, [] when clean).

    pristine: {relpath: text} of the release's Python files; when given, the code the
    student wrote outside the guards (lines the release does not hold, files it does not
    have, in the course's packages) may not reach the forbidden modules either: at import,
    it could replace any blank's function. shared: a dict kept across the trees of one
    submission, where that code is the same: it is checked once per list of modules.
    """
    rule = Rule.of(course.forbid.get(blank, ()))
    rel = course.blanks[blank]["file"]
    if not rel.endswith(".py") or not (rule.names or rule.modules):
        return []
    known = {r: {ln.strip() for ln in t.splitlines()} for r, t in (pristine or {}).items()}
    scanner = Scanner(tree, rule, blank, known if pristine is not None else None)
    src = (Path(tree) / rel).is_file() and scanner.source(rel)
    if src:  # a file that does not parse fails at import, where the grader reports it
        scanner.region(src, region(course, blank, src, guarded))
    if pristine is None:
        return scanner.found
    shared = {} if shared is None else shared
    if rule.modules not in shared:
        shared[rule.modules] = _outside(course, tree, rule.modules, known)
    return scanner.found + shared[rule.modules]


def _outside(course, tree, modules, known):
    """What the code added outside the blanks reaches of the forbidden modules."""
    scanner = Scanner(tree, Rule(frozenset(), modules), "code added outside the blanks", known)
    for path in sorted(p for package in course.packages
                       for p in (Path(tree) / package).rglob("*.py")):
        src = scanner.source(path.relative_to(tree).as_posix())
        if src:
            scanner.region(src, _added(src, known.get(src.rel)))
    return scanner.found


def _added(src, known):
    """The outermost statements of src that start on a line the release does not hold
    (all of them in a file it does not have), outside every blank's guards."""
    if known is None:
        return src.module.body
    guarded = {row for b in markers.guards(src.text, src.rel)
               for row in range(b.begin, b.end + 1)}
    lines = src.text.splitlines()
    out = []

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.stmt) or child.lineno in guarded:
                continue
            if lines[child.lineno - 1].strip() not in known:
                out.append(child)
            else:
                visit(child)

    visit(src.module)
    return out


def disable(course, blanks, tree, pristine=None):
    """Make every function and class that one of blanks may not reach raise when called in
    tree (a blank's isolated tree: that blank alone; the full pass's tree: every graded blank).

    pristine: {relpath: text} of the release; when given, a definition that holds a blank's
    guards and is the release's, character for character, is left as it is: it is the
    release's stub, and whatever the release's code computes a student may type anyway.
    """
    names = disabled(course, blanks)
    for package in course.packages:
        for path in sorted((Path(tree) / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8", errors="replace")
            if any(name in text for name in names):
                release = (pristine or {}).get(path.relative_to(tree).as_posix())
                rewritten = _disabled(text, names, release)
                if rewritten != text:  # a new file: the tree's files are shared hard links
                    path.unlink()
                    path.write_text(rewritten, encoding="utf-8")


def disabled(course, blanks):
    """{name: the first of blanks that may not reach it}: what disable(course, blanks, tree)
    makes raise, and the blank its message names."""
    names = {}
    for blank in sorted(blanks, reverse=True):
        names.update(dict.fromkeys(Rule.of(course.forbid.get(blank, ())).names, blank))
    return names


def reached(texts, names):
    """Whether texts (a test's verdicts) show a call to one of names' disabled bodies."""
    return any(f"forbidden: {name} may not be called " in text
               for name in names for text in texts)


def disabled_message(name, blank):
    """What a disabled function raises (the grader shows it: its words are the grader's)."""
    return f"forbidden: {name} may not be called from the blank {blank} " \
           "(it computes that blank's answer)"


def messages(course):
    """Every message a disabled function of the course can raise."""
    return frozenset(disabled_message(name, blank) for blank, entries in course.forbid.items()
                     for name in Rule.of(entries).names)


def _disabled(text, names, release=None):
    """text with the bodies of its top-level defs (and methods of classes) named in names
    ({name: blank}) replaced by a raise naming the blank, but those that hold a guard and
    are as in release (the release's text of the file, if given); line numbers kept."""
    try:
        module = ast.parse(text)
    except SyntaxError:
        return text
    stubs = _stubs(release, names) if release else {}
    targets = []
    for node in module.body:
        if isinstance(node, DEFS) and node.name in names and \
                stubs.get(node.name) != ast.get_source_segment(text, node):
            methods = [node] if not isinstance(node, ast.ClassDef) else \
                [m for m in node.body if isinstance(m, DEFS[:2])]
            targets += [(m, node.name) for m in methods]
    lines = text.splitlines(keepends=True)

    def offset(row, col):
        return sum(map(len, lines[:row - 1])) + len(lines[row - 1].encode()[:col].decode())

    for node, name in sorted(targets, key=lambda t: t[0].lineno, reverse=True):
        first = node.body[0]
        start, end = offset(first.lineno, first.col_offset), offset(node.end_lineno,
                                                                    node.end_col_offset)
        message = disabled_message(name, names[name])
        text = (text[:start] + f"raise RuntimeError({message!r})"
                + "\n" * (node.end_lineno - first.lineno) + text[end:])
    return text


def _stubs(release, names):
    """{name: source} of the top-level definitions in names that hold a guard in release."""
    try:
        module = ast.parse(release)
    except SyntaxError:
        return {}
    found = {node.name: ast.get_source_segment(release, node) for node in module.body
             if isinstance(node, DEFS) and node.name in names}
    return {name: source for name, source in found.items()
            if any(markers.GUARD[0].match(line.strip()) for line in source.splitlines())}


def enforce(course, blank, tree, pristine=None, shared=None):
    """Scan the student's code of the blank in its isolated tree (see scan), then disable
    the forbidden functions there; return the violations found in the source."""
    found = scan(course, blank, tree, pristine=pristine, shared=shared)
    disable(course, [blank], tree)
    return found


def overrule(test, verdicts, forbidden):
    """A test's verdicts, all failed with the reason when its blank broke the forbid list."""
    found = forbidden.get(test.blank)
    if not found:
        return verdicts
    text = ("forbidden: " + "; ".join(found) + ". A blank may use numpy and the course's own "
            "functions, but not one that computes its answer for it, another library's "
            "gradients, or code that looks names up or runs code: the blank scores 0 until "
            "that call is gone.")
    return {key: ("failed", text) for key in verdicts}


def check(course):
    """SpecError unless every plain forbid name is a function or class of the course's
    packages and the solution's own code of each blank reaches nothing it forbids."""
    defined = set()
    for package in course.packages:
        for path in sorted((Path(course.root) / package).rglob("*.py")):
            module = ast.parse(path.read_text(encoding="utf-8"))
            defined |= {n.name for n in module.body if isinstance(n, DEFS)}
    for blank, entries in course.forbid.items():
        unknown = sorted(Rule.of(entries).names - defined)
        if unknown:
            raise spec.SpecError(f"{spec.SPEC_NAME}: blank {blank!r} forbids {unknown}, which "
                                 f"no module of {', '.join(course.packages)} defines")
        found = scan(course, blank, course.root, guarded=False)
        if found:
            raise spec.SpecError(f"{spec.SPEC_NAME}: the solution of {blank!r} breaks its own "
                                 f"forbid list: {'; '.join(found)}")
