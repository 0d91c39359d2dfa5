"""Mutation testing of the rules that must never silently break (`make mutation`, CI).

Cosmic Ray (a maintained mutation tool) makes one small change to a module at a time and runs
that module's own tests; a change no test notices "survives". This script picks the units,
the operators and the tests, runs the mutants on copies of the tree (one per worker, so the
working tree is never touched), and fails when fewer than `--threshold` % are killed.

    python scripts/mutation.py signing lifecycle           # what CI runs
    python scripts/mutation.py --all --threshold 0         # every unit, report only

Mutants that cannot change behaviour (equivalent mutants) are listed with a reason each in
scripts/mutation-equivalents.toml (by module and the changed line as it reads after the change,
and the line before it where that is ambiguous) and left out of the score. Tests run against
the database in DATABASE_URL (one test database per worker: `<name>_mut<n>`).
"""

import argparse
import ast
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import attrs
import parso
from cosmic_ray import plugins
from cosmic_ray.commands.init import init
from cosmic_ray.mutating import mutate_and_test, mutate_code
from cosmic_ray.operators.operator import Example, Operator
from cosmic_ray.work_db import use_db
from cosmic_ray.work_item import TestOutcome, WorkerOutcome

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "scripts" / "mutation-equivalents.toml"


@dataclass(frozen=True)
class Unit:
    """Modules to mutate (optionally only some top-level names in them) and their tests."""

    modules: dict[str, tuple[str, ...] | None]  # path -> top-level names kept (None: all)
    tests: tuple[str, ...]
    extra: tuple[str, ...] = field(default=())


UNITS = {
    "signing": Unit({"gateways/signing.py": None}, ("tests/alerts/test_signing.py",)),
    "lifecycle": Unit(
        {
            "workorders/choices.py": (
                "OPEN_STATUSES",
                "FINAL_STATUSES",
                "TRANSITIONS",
                "PLANNER_ONLY_TRANSITIONS",
                "FAILURE_CODES_REQUIRED",
            ),
            "workorders/policy.py": ("check_transition",),
        },
        ("tests/workorders/test_lifecycle.py",),
        ("--reuse-db",),
    ),
    "schedule": Unit({"pm/schedule.py": None}, ("tests/pm/test_schedule.py",)),
    "schema": Unit(
        {"alerts/schema.py": None, "cmms/body_types.py": None, "cmms/bodies.py": None},
        (
            "tests/alerts/test_schema.py",
            "tests/alerts/test_schema_errors.py",
            "tests/pm/test_readings_schema.py",
        ),
    ),
}

# Cosmic Ray's core operators, with the binary and comparison replacements narrowed to the
# ones that change a rule (as mutmut chooses them) rather than every pair: the others are
# nearly all type errors any test kills, and each mutant costs a test run.
BINARY = {"Add_Sub", "Sub_Add", "Mul_Div", "Div_Mul", "FloorDiv_Mul", "Mod_FloorDiv"}
BINARY |= {"Pow_Mul", "BitOr_BitAnd", "BitAnd_BitOr"}
COMPARISON = {"Eq_NotEq", "NotEq_Eq", "Is_IsNot", "IsNot_Is"}
COMPARISON |= {"Lt_LtE", "LtE_Lt", "Gt_GtE", "GtE_Gt", "Lt_GtE", "GtE_Lt", "Gt_LtE", "LtE_Gt"}
UNARY = {"USub_UAdd", "UAdd_USub", "Delete_Not"}


def _wanted(name: str) -> bool:
    provider, _, operator = name.partition("/")
    if provider == "cmms":
        return True
    kind, _, pair = operator.partition("_")
    if kind == "ReplaceBinaryOperator":
        return pair in BINARY
    if kind == "ReplaceComparisonOperator":
        return pair in COMPARISON
    if kind == "ReplaceUnaryOperator":
        return pair in UNARY
    return operator not in {"VariableReplacer", "VariableInserter"}


# --------------------------------------------------------------------------- our operators


def _status_member(node) -> bool:
    """`X` in `Status.X`."""
    trailer = node.parent
    return (
        node.type == "name"
        and trailer is not None
        and trailer.type == "trailer"
        and trailer.children[0] == "."
        and trailer.get_previous_sibling() is not None
        and getattr(trailer.get_previous_sibling(), "value", None) == "Status"
        and node.value in STATUS_MEMBERS
    )


STATUS_MEMBERS = (
    "REQUESTED",
    "APPROVED",
    "SCHEDULED",
    "IN_PROGRESS",
    "ON_HOLD",
    "COMPLETED",
    "CLOSED",
    "CANCELLED",
)


class ReplaceStatusMember(Operator):
    """`Status.X` becomes the next status: a row or target of the lifecycle swapped."""

    def mutation_positions(self, node):
        if _status_member(node):
            yield (node.start_pos, node.end_pos)

    def mutate(self, node, index):
        following = STATUS_MEMBERS[(STATUS_MEMBERS.index(node.value) + 1) % len(STATUS_MEMBERS)]
        return parso.python.tree.Name(following, node.start_pos, node.prefix)

    @classmethod
    def examples(cls):
        return (Example("x = Status.CLOSED", "x = Status.CANCELLED"),)


def _set_elements(node):
    """The elements of a set display `{a, b}` (not a dict, not a comprehension)."""
    if node.type != "atom" or node.children[0] != "{" or len(node.children) != 3:
        return []
    inner = node.children[1]
    if inner.type == "dictorsetmaker":
        if any(c == ":" or c.type in ("sync_comp_for", "comp_for") for c in inner.children):
            return []
        return [c for c in inner.children if c != ","]
    return [inner]


class RemoveSetElement(Operator):
    """One element left out of a set display: a transition or status forgotten."""

    def mutation_positions(self, node):
        for _ in _set_elements(node):
            yield (node.start_pos, node.end_pos)

    def mutate(self, node, index):
        kept = [e.get_code(include_prefix=False) for i, e in enumerate(_set_elements(node))]
        del kept[index]
        code = "{" + ", ".join(kept) + "}" if kept else "set()"
        new = parso.parse(code).children[0]
        new.get_first_leaf().prefix = node.get_first_leaf().prefix
        return new

    @classmethod
    def examples(cls):
        return (Example("x = {a, b}", "x = {b}"),)


plugins.OPERATOR_PROVIDERS["cmms"] = {
    "ReplaceStatusMember": ReplaceStatusMember,
    "RemoveSetElement": RemoveSetElement,
}


# --------------------------------------------------------------------------- running


def _regions(path: Path, names) -> list[tuple[int, int]] | None:
    """Line ranges of the given top-level definitions or assignments (None: the whole file)."""
    if names is None:
        return None
    ranges = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            defined = {node.name}
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            defined = {t.id for t in targets if isinstance(t, ast.Name)}
        else:
            continue
        if defined & set(names):
            ranges.append((node.lineno, node.end_lineno))
    if len(ranges) < len(names):
        sys.exit(f"mutation: {path} lost one of {names}; update scripts/mutation.py")
    return ranges


def _mutated_line(source: str, spec) -> str:
    """The line a mutant changes, as it reads after the change (how equivalents are listed)."""
    operator = plugins.get_operator(spec.operator_name)(**spec.operator_args)
    mutated = mutate_code(source, operator, spec.occurrence) or source
    return mutated.splitlines()[spec.start_pos[0] - 1].strip()


def _equivalents() -> list[dict]:
    entries = tomllib.loads(EQUIVALENTS.read_text())["equivalent"] if EQUIVALENTS.exists() else []
    for entry in entries:
        if not entry.get("reason", "").strip():
            sys.exit(f"mutation: equivalent mutant without a reason: {entry}")
    return entries


def _copy_tree(into: Path) -> None:
    listed = subprocess.run(  # noqa: S603 (fixed arguments)
        [
            shutil.which("git") or "git",
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        source = ROOT / raw.decode()
        if source.is_file() and not source.is_symlink():
            target = into / raw.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _database_url(worker: int) -> str:
    url = os.environ.get("DATABASE_URL", "")
    return f"{url}_mut{worker}" if url.startswith("postgres") else url


# Plugins these tests do not use; loading them is most of a test run's time.
UNUSED = ("schemathesis", "hypothesispytest", "faker", "anyio", "platformdirs")
UNUSED_PLUGINS = " ".join(f"-p no:{name}" for name in UNUSED)


def _command(copy: Path, worker: int, unit: Unit) -> str:
    env = f"DATABASE_URL={_database_url(worker)}" if _database_url(worker) else ""
    tests = " ".join(unit.tests)
    options = " ".join(unit.extra)
    return (
        f"env -C {copy} {env} {sys.executable} -m pytest -x -q -p no:cacheprovider "
        f"{UNUSED_PLUGINS} {options} {tests}"
    )


@dataclass
class Outcome:
    unit: str
    killed: int = 0
    survived: list = field(default_factory=list)
    equivalent: int = 0

    @property
    def score(self) -> float:
        total = self.killed + len(self.survived)
        return 100.0 * self.killed / total if total else 100.0


def run(names: list[str], *, workers: int, threshold: float) -> int:
    equivalents = _equivalents()
    work = tempfile.mkdtemp(prefix="cmms-mutation-")
    copies = [Path(work) / f"tree{i}" for i in range(workers)]
    for copy in copies:
        _copy_tree(copy)
    outcomes = {}
    try:
        for name in names:
            outcomes[name] = _run_unit(name, UNITS[name], copies, equivalents)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    failed = False
    print("\nmutation score (killed / (killed + survived); equivalent mutants left out):")
    for name, outcome in outcomes.items():
        verdict = "ok" if outcome.score >= threshold else f"FAIL (under {threshold:.0f} %)"
        failed |= outcome.score < threshold
        print(
            f"  {name:10} {outcome.score:5.1f} %  killed {outcome.killed}, survived "
            f"{len(outcome.survived)}, equivalent {outcome.equivalent}  {verdict}"
        )
    return 1 if failed else 0


def _run_unit(name: str, unit: Unit, copies: list[Path], equivalents) -> Outcome:
    outcome = Outcome(name)
    items = _mutants(unit, equivalents, outcome)
    print(f"{name}: {len(items)} mutants, {outcome.equivalent} equivalent left out", flush=True)
    if os.environ.get("MUTATION_LIST_ONLY"):
        for spec in items:
            mutant = _mutated_line((ROOT / spec.module_path).read_text(), spec)
            print(f"  {spec.module_path}:{spec.start_pos[0]} {spec.operator_name}: {mutant}")
        return outcome

    started = time.monotonic()
    commands = [shlex.split(_command(c, i, unit)) for i, c in enumerate(copies)]
    baseline = [subprocess.run(c) for c in commands]  # noqa: S603 (our own command line)
    if any(b.returncode for b in baseline):
        sys.exit(f"mutation: the tests of {name} fail without any mutation")
    timeout = 3 * (time.monotonic() - started) / len(copies) + 30
    _test_mutants(items, unit, copies, timeout, outcome)
    print(f"\n{name}: {time.monotonic() - started:.0f} s")
    for spec, result in outcome.survived:
        print(f"SURVIVED {spec.module_path}:{spec.start_pos[0]} {spec.operator_name}")
        print(result.diff)
    return outcome


def _mutants(unit: Unit, equivalents, outcome: Outcome) -> list:
    """The unit's mutants inside its regions, less the listed equivalents (counted on `outcome`)."""
    items = []
    for module, names in unit.modules.items():
        source = ROOT / module
        regions = _regions(source, names)
        source_text = source.read_text()
        listed = {
            (e["mutant"].strip(), e.get("line", "").strip() or None)
            for e in equivalents
            if e["module"] == module
        }
        with tempfile.TemporaryDirectory() as tmp, use_db(Path(tmp) / "s.sqlite") as db:
            init([Path(module)], db, {})
            specs = [m for item in db.pending_work_items for m in item.mutations]
        for spec in specs:
            if not _wanted(spec.operator_name):
                continue
            line = spec.start_pos[0]
            if regions is not None and not any(a <= line <= b for a, b in regions):
                continue
            original = source_text.splitlines()[spec.start_pos[0] - 1].strip()
            mutant = _mutated_line(source_text, spec)
            if (mutant, original) in listed or (mutant, None) in listed:
                outcome.equivalent += 1
                continue
            items.append(spec)
    return items


def _test_mutants(items: list, unit: Unit, copies: list[Path], timeout: float, outcome) -> None:
    """Test the mutants on the copies in parallel (one thread each); tally them on `outcome`."""

    def run_on(worker: int):
        copy = copies[worker]
        results = []
        for spec in items[worker :: len(copies)]:
            mine = attrs.evolve(spec, module_path=copy / spec.module_path)
            result = mutate_and_test([mine], _command(copy, worker, unit), timeout)
            results.append((spec, result))
            mark = "." if result.is_killed else "S"
            print(mark, end="", flush=True)
        return results

    with ThreadPoolExecutor(len(copies)) as pool:
        for results in pool.map(run_on, range(len(copies))):
            for spec, result in results:
                if result.worker_outcome == WorkerOutcome.EXCEPTION:
                    sys.exit(f"mutation: could not apply {spec}:\n{result.output}")
                if result.test_outcome == TestOutcome.SURVIVED:
                    outcome.survived.append((spec, result))
                else:
                    outcome.killed += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("units", nargs="*", help=f"any of {', '.join(UNITS)}")
    parser.add_argument("--all", action="store_true", help="every unit")
    parser.add_argument("--threshold", type=float, default=90.0, help="minimum %% killed")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    names = list(UNITS) if args.all else args.units
    if not names or set(names) - set(UNITS):
        parser.error(f"name units among {', '.join(UNITS)}, or give --all")
    return run(names, workers=args.workers, threshold=args.threshold)


if __name__ == "__main__":
    sys.exit(main())
