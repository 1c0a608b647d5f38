"""What a blank's code may not reach, checked in its source and again at run time.

coursework.toml names what would give a blank's answer away:

    [course]
    forbid = ["scipy.*", "gradcheck.*"]          # every graded blank
    [forbid]
    batchnorm_backward = ["batchnorm_backward_alt", "layernorm_backward"]

A plain name is a function or class of the course's packages, matched by its
name however it is reached (`layers.x`, `from layers.conv import x as y`,
`getattr(layers, "x")`); `pkg.mod.*` is a module and everything in it.

Static (`scan`): the grader parses the student's region of the blank (between
its guards) in the blank's own tree, outside any sandbox, and reports every
forbidden name the region reaches: directly, through an alias bound anywhere in
the file (imports, `f = x`), through an import, `getattr`, `importlib.import_module`
or `__import__` with a constant string, a string that names it, or a function of
the tree that the region calls (followed into its body). Code that looks names
up or runs code at run time (exec, eval, compile, getattr with a computed name,
globals(), __dict__, ...) cannot be checked, and no blank of a numpy course
needs it: in the region it is a violation too.

Run time (`disable`): in the blank's tree the bodies of the forbidden functions
(and every method of a forbidden class) are replaced by a raise that names them,
so a call by any route the source does not show (a computed name, a helper in
another file) fails inside that blank's tests.
"""

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from . import markers, spec

# Calls that run code or look names up at run time: nothing a static check can follow.
DYNAMIC = {"exec", "eval", "compile", "__import__", "globals", "vars", "locals", "breakpoint",
           "open", "getattr", "setattr", "delattr", "operator.attrgetter",
           "operator.methodcaller", "importlib.import_module"}
# These take the name to look up as their first (getattr: second) argument.
LOOKUPS = {"getattr": 1, "setattr": 1, "delattr": 1, "operator.attrgetter": 0,
           "operator.methodcaller": 0, "importlib.import_module": 0, "__import__": 0}
# Attributes that reach into modules, functions and objects by reflection.
REFLECTION = {"__dict__", "__globals__", "__builtins__", "__code__", "__closure__",
              "__import__", "__loader__", "__spec__", "__subclasses__", "__getattribute__",
              "__wrapped__", "__self__", "__func__", "__defaults__", "__kwdefaults__"}
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_WORD = re.compile(r"[A-Za-z_][\w.]*")


@dataclass(frozen=True)
class Rule:
    """One blank's forbid list: names of the course's functions, and modules (without .*)."""

    names: frozenset
    modules: tuple

    @classmethod
    def of(cls, entries):
        return cls(frozenset(e for e in entries if not e.endswith(".*")),
                   tuple(e[:-2] for e in entries if e.endswith(".*")))

    def hit(self, dotted, modules=True):
        """The forbidden entry that the dotted path reaches, or None."""
        for module in self.modules if modules else ():
            if dotted == module or dotted.startswith(module + "."):
                return module + ".*"
        return next((part for part in dotted.split(".") if part in self.names), None)


def _const(node):
    """The value of a string built from constants ('a' + 'b', f'{"a"}b'), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _const(node.left), _const(node.right)
        return left + right if left is not None and right is not None else None
    if isinstance(node, ast.JoinedStr):
        parts = [_const(v.value if isinstance(v, ast.FormattedValue) else v) for v in node.values]
        return "".join(parts) if None not in parts else None
    return None


class Source:
    """One Python file of a tree: its AST, top-level definitions and the names it binds."""

    def __init__(self, tree, rel):
        self.rel = rel
        self.text = (Path(tree) / rel).read_text(encoding="utf-8")
        self.module = ast.parse(self.text, rel)
        parts = rel[:-3].split("/")
        self.package = ".".join(parts if parts[-1] == "__init__" else parts[:-1])
        self.defs = {node.name: node for node in self.module.body if isinstance(node, _DEFS)}
        self.aliases = {}
        for _ in range(2):  # twice, so that `f = g` after `from m import g as g` resolves
            for node in ast.walk(self.module):
                self._bind(node)

    def _bind(self, node):
        if isinstance(node, ast.Import):
            for a in node.names:
                top = a.name.split(".")[0]
                self.aliases[a.asname or top] = a.name if a.asname else top
        elif isinstance(node, ast.ImportFrom):
            base = self.absolute(node.module, node.level)
            for a in node.names:
                self.aliases[a.asname or a.name] = f"{base}.{a.name}"
        elif (isinstance(node, ast.Assign) and len(node.targets) == 1
              and isinstance(node.targets[0], ast.Name)):
            target, value = node.targets[0].id, self.dotted(node.value)
            if value and value != target:
                self.aliases[target] = value

    def absolute(self, module, level):
        """The absolute name of `from .module import` written in this file."""
        if not level:
            return module or ""
        base = self.package.split(".")[: len(self.package.split(".")) - level + 1]
        return ".".join([*base, *([module] if module else [])])

    def dotted(self, node):
        """'pkg.mod.name' that an expression stands for (through aliases), or None."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self.dotted(node.value)
            return base and f"{base}.{node.attr}"
        if isinstance(node, ast.Call):
            where = LOOKUPS.get(self.dotted(node.func))
            if where is None or len(node.args) <= where:
                return None
            name = _const(node.args[where])
            if name is None or not where:
                return name
            base = self.dotted(node.args[0])
            return base and f"{base}.{name}"
        return None


class Scanner:
    """Walks a region and everything of the tree it calls; collects violations."""

    def __init__(self, tree, rule, blank, pristine=None):
        """blank: whose code is checked (named in the messages); pristine: {relpath: lines}
        of the release, to tell the library's own functions (which may use any module)
        from the student's (None: every function is the student's)."""
        self.tree, self.rule, self.blank, self.pristine = Path(tree), rule, blank, pristine
        self.sources, self.seen, self.found = {}, set(), []

    def source(self, rel):
        if rel not in self.sources:
            try:
                self.sources[rel] = Source(self.tree, rel)
            except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
                self.sources[rel] = None
        return self.sources[rel]

    def _report(self, src, node, text):
        entry = f"{text} ({src.rel}:{node.lineno})"
        if entry not in self.found:
            self.found.append(entry)

    def region(self, src, statements):
        """Check the student's own statements: forbidden names and run-time lookups."""
        bound = {n.id for s in statements for n in ast.walk(s)
                 if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        bound |= {n.name for s in statements for n in ast.walk(s) if isinstance(n, _DEFS)}
        for statement in statements:
            for node in ast.walk(statement):
                self._dynamic(src, node)
            self.code(src, statement, bound - set(src.aliases), strings=True)

    @staticmethod
    def _docstring(node):
        return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)

    def _dynamic(self, src, node):
        name = src.dotted(node.func) if isinstance(node, ast.Call) else None
        if name in DYNAMIC and not (name in LOOKUPS and src.dotted(node)):
            self._report(src, node, f"{self.blank} calls {name}() with a name or code the "
                         "grader cannot read; no blank may look names up or run code at run time")
        ident = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
        if ident in REFLECTION:
            self._report(src, node, f"{self.blank} uses {ident}: no blank may reach into "
                         "modules or objects by reflection")

    def students(self, src, node):
        """True unless node (a definition of src) is, line for line, the release's own."""
        if self.pristine is None or src.rel not in self.pristine:
            return True
        lines = src.text.splitlines()[node.lineno - 1:node.end_lineno]
        return any(line.strip() not in self.pristine[src.rel] for line in lines)

    def code(self, src, root, local=frozenset(), via="", strings=False, modules=True):
        """Report what root (a statement or definition of src) reaches; follow tree calls.

        strings: also the names inside string constants (the student's own region only:
        the library's docstrings may name anything); docstrings never count.
        """
        notes = {id(n.value) for n in ast.walk(root) if self._docstring(n)}
        for node in ast.walk(root):
            if (isinstance(node, ast.Name) and node.id in local) or id(node) in notes:
                continue
            for dotted in self._reached(src, node, strings):
                hit = self.rule.hit(dotted, modules)
                if hit:
                    self._report(src, node, f"{self.blank} reaches {hit}{via}")
                elif isinstance(node, (ast.Name, ast.Attribute)):
                    self.follow(src, node, dotted, via)

    def _reached(self, src, node, strings):
        """The dotted names a node reaches: a name, an attribute, an import, a string."""
        if isinstance(node, (ast.Name, ast.Attribute, ast.Call)):
            dotted = src.dotted(node)
            return [dotted] if dotted else []
        if isinstance(node, ast.Import):
            return [a.name for a in node.names]
        if isinstance(node, ast.ImportFrom):
            base = src.absolute(node.module, node.level)
            return [base, *(f"{base}.{a.name}" for a in node.names)]
        text = _const(node) if strings and isinstance(node, (ast.Constant, ast.JoinedStr)) \
            else None
        return _WORD.findall(text) if text else []

    def follow(self, src, node, dotted, via):
        """Scan the body of the tree's function or class that dotted names, once."""
        found = self.locate(src, node.id) if isinstance(node, ast.Name) and \
            node.id in src.defs and dotted == node.id else self.locate_dotted(dotted)
        if found and found not in self.seen:
            self.seen.add(found)
            where, name = found
            src, node = self.sources[where], self.sources[where].defs[name]
            students = self.students(src, node)
            for inner in ast.walk(node) if students else ():
                self._dynamic(src, inner)
            self.code(src, node, via=via or f" through {name}()", modules=students)

    def locate(self, src, name):
        return (src.rel, name) if name in src.defs else None

    def locate_dotted(self, dotted, depth=0):
        """(file, name) of the tree's top-level def that dotted names (re-exports followed)."""
        parts = dotted.split(".")
        for i in range(len(parts) - 1, 0, -1):
            base = "/".join(parts[:i])
            for rel in (f"{base}.py", f"{base}/__init__.py"):
                src = (self.tree / rel).is_file() and self.source(rel)
                if not src:
                    continue
                name = parts[i]
                if name in src.defs:
                    return rel, name
                target = src.aliases.get(name)
                if target and depth < 5 and target != dotted:
                    return self.locate_dotted(target, depth + 1)
                return None
        return None


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
        node = next((n for n in body if isinstance(n, _DEFS)
                     and n.lineno <= row <= n.end_lineno), None)
        if node is None:
            return path
        path.append(node.name)
        body = node.body


def _find(module, path):
    """The definition at path in module, or None."""
    node = module
    for name in path:
        node = next((n for n in node.body if isinstance(n, _DEFS) and n.name == name), None)
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


def scan(course, blank, tree, guarded=True, pristine=None):
    """The violations of the blank's code in tree (messages, [] when clean).

    pristine: {relpath: text} of the release's Python files; when given, the code the
    student wrote outside the guards (lines the release does not hold, files it does not
    have, in the course's packages) may not reach the forbidden modules either: at import,
    it could replace any blank's function.
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
    outside = Scanner(tree, Rule(frozenset(), rule.modules), "code added outside the blanks",
                      known)
    for path in sorted(p for package in course.packages
                       for p in (Path(tree) / package).rglob("*.py")):
        src = outside.source(path.relative_to(tree).as_posix())
        if src:
            outside.region(src, _added(src, known.get(src.rel)))
    return scanner.found + outside.found


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


def disable(course, blank, tree):
    """Make every forbidden function and class of the blank's tree raise when called."""
    names = Rule.of(course.forbid.get(blank, ())).names
    for package in course.packages:
        for path in sorted((Path(tree) / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8", errors="replace")
            if any(name in text for name in names):
                rewritten = _disabled(text, names, blank)
                if rewritten != text:  # a new file: the tree's files are shared hard links
                    path.unlink()
                    path.write_text(rewritten, encoding="utf-8")


def _disabled(text, names, blank):
    """text with the bodies of its top-level defs (and methods of classes) named in names
    replaced by a raise; line numbers kept."""
    try:
        module = ast.parse(text)
    except SyntaxError:
        return text
    targets = []
    for node in module.body:
        if isinstance(node, _DEFS) and node.name in names:
            methods = [node] if not isinstance(node, ast.ClassDef) else \
                [m for m in node.body if isinstance(m, _DEFS[:2])]
            targets += [(m, node.name) for m in methods]
    lines = text.splitlines(keepends=True)

    def offset(row, col):
        return sum(map(len, lines[:row - 1])) + len(lines[row - 1].encode()[:col].decode())

    for node, name in sorted(targets, key=lambda t: t[0].lineno, reverse=True):
        first = node.body[0]
        start, end = offset(first.lineno, first.col_offset), offset(node.end_lineno,
                                                                    node.end_col_offset)
        message = (f"forbidden: {name} may not be called from the blank {blank} "
                   f"(coursework.toml forbids it there)")
        text = (text[:start] + f"raise RuntimeError({message!r})"
                + "\n" * (node.end_lineno - first.lineno) + text[end:])
    return text


def enforce(course, blank, tree, pristine=None):
    """Scan the student's code of the blank in its isolated tree (see scan), then disable
    the forbidden functions there; return the violations found in the source."""
    found = scan(course, blank, tree, pristine=pristine)
    disable(course, blank, tree)
    return found


def overrule(test, verdicts, forbidden):
    """A test's verdicts, all failed with the reason when its blank broke the forbid list."""
    found = forbidden.get(test.blank)
    if not found:
        return verdicts
    text = ("forbidden: " + "; ".join(found) + ". coursework.toml forbids what would compute "
            "this blank's answer for it: the blank scores 0.")
    return {key: ("failed", text) for key in verdicts}


def check(course):
    """SpecError unless every plain forbid name is a function or class of the course's
    packages and the solution's own code of each blank reaches nothing it forbids."""
    defined = set()
    for package in course.packages:
        for path in sorted((Path(course.root) / package).rglob("*.py")):
            module = ast.parse(path.read_text(encoding="utf-8"))
            defined |= {n.name for n in module.body if isinstance(n, _DEFS)}
    for blank, entries in course.forbid.items():
        unknown = sorted(Rule.of(entries).names - defined)
        if unknown:
            raise spec.SpecError(f"{spec.SPEC_NAME}: blank {blank!r} forbids {unknown}, which "
                                 f"no module of {', '.join(course.packages)} defines")
        found = scan(course, blank, course.root, guarded=False)
        if found:
            raise spec.SpecError(f"{spec.SPEC_NAME}: the solution of {blank!r} breaks its own "
                                 f"forbid list: {'; '.join(found)}")
