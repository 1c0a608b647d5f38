"""What Python source reaches: the static half of forbid.py.

A Source is one file parsed once: its top-level definitions and every name it
binds to a dotted path (imports, `f = g`, `getattr(m, "x")`,
`importlib.import_module("m")`). A Scanner walks statements and reports, per
Rule, the forbidden functions and modules they reach, following calls into the
tree's own functions, and the run-time lookups no static check can read.
"""

import ast
import functools
import re
from dataclasses import dataclass
from pathlib import Path

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
DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
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


@functools.lru_cache(maxsize=512)
def parse(rel, text):
    """The Source of a file's text (the same files recur in every blank's tree)."""
    return Source(rel, text)


class Source:
    """One Python file of a tree: its AST, top-level definitions and the names it binds.

    Never changed once built: `parse` shares one per text among the trees of a grading.
    """

    def __init__(self, rel, text):
        self.rel, self.text = rel, text
        self.module = ast.parse(self.text, rel)
        parts = rel[:-3].split("/")
        self.package = ".".join(parts if parts[-1] == "__init__" else parts[:-1])
        self.defs = {node.name: node for node in self.module.body if isinstance(node, DEFS)}
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
        """The Source of the tree's file rel, or None when it cannot be read or parsed."""
        if rel not in self.sources:
            try:
                self.sources[rel] = parse(rel, (self.tree / rel).read_text(encoding="utf-8"))
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
        bound |= {n.name for s in statements for n in ast.walk(s) if isinstance(n, DEFS)}
        for statement in statements:
            self._dynamic(src, statement)
            self.code(src, statement, bound - set(src.aliases), strings=True)

    @staticmethod
    def _docstring(node):
        return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)

    def _dynamic(self, src, root):
        """Report every use in root of what looks names up or runs code (a call, or the
        function passed along: `reduce(getattr, ...)`), but for a lookup by a constant name;
        and reflection."""
        constant = {id(n.func) for n in ast.walk(root) if isinstance(n, ast.Call)
                    and src.dotted(n.func) in LOOKUPS and src.dotted(n)}
        for node in ast.walk(root):
            name = src.dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
            if name in DYNAMIC and id(node) not in constant:
                self._report(src, node, f"{self.blank} uses {name}(), which looks names up or "
                             "runs code the grader cannot read; no blank may")
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
            if students:
                self._dynamic(src, node)
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
