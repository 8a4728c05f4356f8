"""The host agent as its tests load it: each module on its own (`module`), or all of them joined into the one program
text hosts run (`source`, `load`), exactly as `AgentScript.swift` joins them (a Swift test compares the two).

The modules are joined in the order of `PAYLOAD_MODULES` in `pinwheel_agent.py`, each with its top-level imports of
the other agent modules (`from agent_x import a, b`, one line each) left out: in one namespace those names are
already defined.
"""
import ast
import importlib
import os
import sys
import types

AGENT_FOLDER = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Sources",
                                             "PinwheelFleet", "Agent"))
ENTRY = "pinwheel_agent"


def path(name):
    return os.path.join(AGENT_FOLDER, name + ".py")


def read(name):
    with open(path(name), encoding="utf-8") as handle:
        return handle.read()


def module_names():
    """PAYLOAD_MODULES, read from the entry module's source (no import needed)."""
    for node in ast.parse(read(ENTRY)).body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == "PAYLOAD_MODULES"
                                                for target in node.targets):
            return tuple(ast.literal_eval(node.value))
    raise AssertionError("pinwheel_agent.py has no PAYLOAD_MODULES")


def is_sibling_import(line):
    """Whether a line is a top-level import of another agent module, left out of the payload."""
    return line.startswith("from agent_") and " import " in line


def joined(text):
    return "\n".join(line for line in text.split("\n") if not is_sibling_import(line))


def source():
    """The one program text hosts run."""
    return "".join(joined(read(name)) for name in module_names())


def load(name=ENTRY):
    """The payload run as a module named `name` (the loader's namespace is named `pinwheel_agent` too)."""
    module = types.ModuleType(name)
    exec(compile(source(), "pinwheel_agent.py", "exec"), module.__dict__)
    return module


def module(name):
    """The agent module `name`, imported on its own from the source folder (its siblings as real modules too)."""
    if AGENT_FOLDER not in sys.path:
        sys.path.insert(0, AGENT_FOLDER)
    return importlib.import_module(name)


if __name__ == "__main__":
    sys.stdout.write(source())
