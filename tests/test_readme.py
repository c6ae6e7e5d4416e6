"""README.md is tested: its code blocks and commands run here, on small inputs, so they stay true.

The fenced blocks are read from README.md when the tests are collected, so a new snippet
is tested without a change here. Each snippet or command is one test, named by its README
line:

- ```python blocks run in README order in one namespace (later blocks use ``seg``, ``km``,
  ``curve``, ... from earlier ones), in a folder of the files they name and with the
  variables they assume (``readme_fixtures``);
- ```bash lines that run kmseg (or an example script) must exit 0, or the status their
  comment names ("exit status 99, nothing written, if not met": then nothing is written);
- console blocks (``$ `` lines) must exit 0 and print output of the shape shown, or, where
  the output shown is an error, exit non-zero with that error on standard error.

Figures shown come from the README author's photos and are not compared.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from readme_fixtures import snippet_variables, write_fixtures

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
TIMEOUT = 180  # seconds a command may take (each takes one or two on these small files)

# Substitutions, old text -> new text, for what a test cannot reach. Each old text must be
# in README.md (checked), so a changed README fails here rather than going untested.
PYTHON_SUBSTITUTIONS = {
    # no Dask scheduler at this address: an in-process LocalCluster instead
    "from dask.distributed import Client": "from dask.distributed import Client, LocalCluster",
    'Client("tcp://10.0.0.5:8786")':
        'Client(LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"))',
}

# Command lines (a bash line, or the command of a ``$`` line) not run, and why.
SKIPPED_COMMANDS = [
    (lambda cmd: cmd.startswith("pip install"), "installs packages: CI's own install step"),
    (lambda cmd: cmd.startswith("python -m pytest"), "the whole test suite: CI runs it"),
    (lambda cmd: cmd.startswith("kmseg serve"), "a long-running server: tests/test_web_*.py test it"),
    (lambda cmd: "tcp://" in cmd, "needs a Dask scheduler at that address (--cluster local is run)"),
    (lambda cmd: "..." in cmd, "a placeholder (...), not a command"),
]

# Console blocks not run, by a phrase of their first command's comment, and why.
SKIPPED_BLOCKS = {
    "after kill -9": "needs a run killed mid-write; tests/test_batch.py tests kill -9 and --resume",
}

# README lines that fail because kmseg has a bug: line text -> the bug (xfail, strict).
KNOWN_BUGS = {}


# ---------------------------------------------------------------- reading README.md

def _blocks():
    """(language, first line number, lines) of every fenced block of README.md."""
    with open(README, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    blocks, i = [], 0
    while i < len(lines):
        fence = re.match(r"^```(\w*)\s*$", lines[i])
        if not fence:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        blocks.append((fence.group(1), i + 2, lines[i + 1:end]))
        i = end + 1
    return blocks


def _strip_comment(line):
    """``line`` without its trailing ``# comment`` (a ``#`` after a space, outside quotes),
    and the comment."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip(), line[i + 1:].strip()
    return line.rstrip(), ""


def _is_console(lang, lines):
    return lang == "console" or (lang == "" and any(line.startswith("$ ") for line in lines))


def _console_commands(lines):
    """(index in block, command, comment, shown output lines) of each ``$`` line."""
    commands = []
    for i, line in enumerate(lines):
        if line.startswith("$ "):
            cmd, comment = _strip_comment(line[2:])
            commands.append([i, cmd, comment, []])
        elif commands:
            commands[-1][3].append(line)
    return commands


def _marks(text, reason=None):
    if reason:
        return [pytest.mark.skip(reason=reason)]
    if text in KNOWN_BUGS:
        return [pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[text])]
    return []


def _skip_reason(cmd):
    return next((reason for test, reason in SKIPPED_COMMANDS if test(cmd)), None)


def _test_id(lineno, text):
    return f"L{lineno}: {text[:70]}"


BLOCKS = _blocks()
PYTHON_BLOCKS = [(start, "\n".join(lines)) for lang, start, lines in BLOCKS if lang == "python"]
BASH_LINES = [(start + i, line) for lang, start, lines in BLOCKS if lang == "bash"
              for i, line in enumerate(lines) if line.strip()]
CONSOLE_BLOCKS = {start: lines for lang, start, lines in BLOCKS if _is_console(lang, lines)}
CONSOLE_COMMANDS = [(start, start + i, cmd, comment, shown) for start, lines in CONSOLE_BLOCKS.items()
                    for i, cmd, comment, shown in _console_commands(lines)]


def test_readme_has_the_blocks_tested_here():
    """The parser finds the README's blocks, and every substitution still applies."""
    assert len(PYTHON_BLOCKS) >= 15 and len(BASH_LINES) >= 30 and len(CONSOLE_COMMANDS) >= 8
    with open(README, encoding="utf-8") as fh:
        text = fh.read()
    for old in PYTHON_SUBSTITUTIONS:
        assert old in text, f"substitution no longer applies: {old!r} is not in README.md"
    for phrase in SKIPPED_BLOCKS:
        assert phrase in text, f"skipped block no longer in README.md: {phrase!r}"
    unknown = [(n, line) for n, line in BASH_LINES if _bash_kind(_strip_comment(line)[0]) is None]
    assert not unknown, f"bash lines with no rule here (run them or list a skip): {unknown}"


# ---------------------------------------------------------------- running commands

def _shell_env():
    """The environment of the commands: this interpreter's kmseg and python first on PATH,
    no colours, no bytecode written into the repository."""
    env = dict(os.environ, NO_COLOR="1", PYTHONDONTWRITEBYTECODE="1")
    bindir = os.path.dirname(sys.executable)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    return env


def _prelude():
    """Bash lines run before each command: stop at the first failure, and, where this
    environment has no ``kmseg`` script beside its Python, run ``python -m kmseg``."""
    lines = ["set -e -o pipefail"]
    if not os.path.exists(os.path.join(os.path.dirname(sys.executable), "kmseg")):
        lines.append(f'kmseg() {{ "{sys.executable}" -m kmseg "$@"; }}')
    return "\n".join(lines) + "\n"


def _run(cmd, cwd):
    proc = subprocess.run(["bash", "-c", _prelude() + cmd], cwd=cwd, env=_shell_env(), capture_output=True,
                          text=True, timeout=TIMEOUT)
    assert "Traceback" not in proc.stderr, f"{cmd!r} printed a traceback:\n{proc.stderr}"
    return proc


def _snapshot(folder):
    """Every file under ``folder`` with its size and modification time."""
    found = {}
    for root, _, files in os.walk(folder):
        for name in files:
            st = os.stat(os.path.join(root, name))
            found[os.path.relpath(os.path.join(root, name), folder)] = (st.st_size, st.st_mtime_ns)
    return found


@pytest.fixture(scope="module")
def fixture_folder(tmp_path_factory):
    """The README's files, written once; each command runs in a copy of it."""
    folder = tmp_path_factory.mktemp("readme-files")
    write_fixtures(folder)
    return folder


def _fresh_copy(fixture_folder, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(fixture_folder, work)
    return work


# ---------------------------------------------------------------- ```python blocks

@pytest.fixture(scope="module")
def snippet_session(fixture_folder, tmp_path_factory):
    """One namespace and one working folder for all the Python blocks, in README order."""
    work = tmp_path_factory.mktemp("readme-python") / "work"
    shutil.copytree(fixture_folder, work)
    namespace = {"__name__": "readme"}
    namespace.update(snippet_variables(work))
    yield namespace, work, set()  # the namespace, its folder, the blocks run in it
    client = namespace.get("client")
    if client is not None:  # the LocalCluster of the Dask block
        cluster = client.cluster
        client.close()
        if cluster is not None:
            cluster.close()


def _shape_checks(source):
    """``(line number, expression, shape)`` of lines ``x.shape  # (10, 64)...``: cheap facts."""
    checks = []
    for n, line in enumerate(source.split("\n")):
        code, comment = _strip_comment(line)
        shown = re.match(r"^\((\d+(?:, \d+)*)\)", comment)
        if code.endswith(".shape") and shown:
            checks.append((n, code.strip(), tuple(int(v) for v in shown.group(1).split(", "))))
    return checks


@pytest.mark.parametrize("start, source", [
    pytest.param(start, source, id=_test_id(start, source.split("\n")[0]),
                 marks=_marks(source.split("\n")[0]))
    for start, source in PYTHON_BLOCKS
])
def test_python_block(start, source, snippet_session, monkeypatch):
    namespace, work, done = snippet_session
    if "dask" in source:
        pytest.importorskip("distributed", reason='Dask is not installed (pip install "dask[distributed]")')
    monkeypatch.chdir(work)
    monkeypatch.setenv("NO_COLOR", "1")
    for earlier, earlier_source in PYTHON_BLOCKS:  # run alone (-k): the blocks it builds on first
        if earlier >= start:
            break
        if earlier not in done and not ("dask" in earlier_source and _dask_missing()):
            done.add(earlier)
            _exec_block(earlier, earlier_source, namespace)
    if start not in done:
        done.add(start)
        _exec_block(start, source, namespace)


def _dask_missing():
    try:
        import distributed  # noqa: F401
    except ImportError:
        return True
    return False


def _exec_block(start, source, namespace):
    for old, new in PYTHON_SUBSTITUTIONS.items():
        source = source.replace(old, new)
    # blank lines first, so that a traceback names the README's own line
    exec(compile("\n" * (start - 1) + source, README, "exec"), namespace)
    for n, expr, shape in _shape_checks(source):
        assert eval(expr, namespace) == shape, f"README.md:{start + n}: {expr} is not {shape}"


# ---------------------------------------------------------------- ```bash lines

def _bash_kind(cmd):
    if _skip_reason(cmd):
        return "skip"
    if cmd.startswith("kmseg ") or cmd == "kmseg" or re.match(r"^cat \S+ \| kmseg ", cmd):
        return "kmseg"
    if cmd.startswith("python examples/"):
        return "example"
    return None


@pytest.mark.parametrize("lineno, line", [
    pytest.param(n, line, id=_test_id(n, line), marks=_marks(line, _skip_reason(_strip_comment(line)[0])))
    for n, line in BASH_LINES
])
def test_bash_line(lineno, line, fixture_folder, tmp_path):
    cmd, comment = _strip_comment(line)
    kind = _bash_kind(cmd)
    assert kind is not None, f"README.md:{lineno}: no rule for {cmd!r}"
    if kind == "example":  # from the repository root, its pictures into the temporary folder
        cmd = re.sub(r"-o (\S+)", lambda m: f"-o {tmp_path / m.group(1)}", cmd)
        proc = _run(cmd, ROOT)
        assert proc.returncode == 0, f"{cmd!r} exited {proc.returncode}:\n{proc.stderr}"
        assert any(f.endswith(".png") for f in os.listdir(tmp_path / "pictures"))
        return
    work = _fresh_copy(fixture_folder, tmp_path)
    before = _snapshot(work)
    proc = _run(cmd, work)
    allowed = {0}
    stated = re.search(r"exit status (\d+)", comment)
    if stated:
        allowed.add(int(stated.group(1)))
    assert proc.returncode in allowed, f"{cmd!r} exited {proc.returncode}:\n{proc.stderr}"
    if proc.returncode != 0 and "nothing written" in comment:
        assert _snapshot(work) == before, f"{cmd!r} exited {proc.returncode} but wrote files"


# ---------------------------------------------------------------- console blocks

# a number, with thousands separators ("3,275") only where it stands alone (not in a CSV row)
_NUMBER = re.compile(r"(?<![\d,])\d{1,3}(?:,\d{3})+(?![\d,])|\d+(?:\.\d+)?(?:e[+-]?\d+)?")
_HEX = re.compile(r"#[0-9a-fA-F]{6}\b")


def _shape(line):
    """A line of output without what depends on the photo: numbers and hex colours."""
    return " ".join(_NUMBER.sub("N", _HEX.sub("#HEX", line)).split())


def _keys(obj):
    if isinstance(obj, dict):
        return set(obj) | set().union(*(_keys(v) for v in obj.values()))
    if isinstance(obj, list):
        return set().union(*(_keys(v) for v in obj))
    return set()


@pytest.fixture(scope="module")
def console_runs(fixture_folder, tmp_path_factory):
    """Each console block run once, its commands in order in one folder: ``{block: results}``."""
    runs = {}

    def run_block(start):
        if start not in runs:
            work = tmp_path_factory.mktemp(f"readme-console-{start}") / "work"
            shutil.copytree(fixture_folder, work)
            runs[start] = {start + i: _run(cmd, work) for i, cmd, _, _ in _console_commands(CONSOLE_BLOCKS[start])}
        return runs[start]

    return run_block


def _console_skip(start, cmd):
    first_comment = _console_commands(CONSOLE_BLOCKS[start])[0][2]
    block_reason = next((r for phrase, r in SKIPPED_BLOCKS.items() if phrase in first_comment), None)
    return block_reason or _skip_reason(cmd)


@pytest.mark.parametrize("start, lineno, cmd, shown", [
    pytest.param(start, n, cmd, shown, id=_test_id(n, cmd), marks=_marks(cmd, _console_skip(start, cmd)))
    for start, n, cmd, comment, shown in CONSOLE_COMMANDS
])
def test_console_command(start, lineno, cmd, shown, console_runs):
    proc = console_runs(start)[lineno]
    errors = [line.strip() for line in shown if "error:" in line]
    usage = [line.strip() for line in shown if line.startswith("usage:")]
    if errors or usage:
        assert proc.returncode != 0, f"{cmd!r} exited 0; the README shows an error"
        if usage:
            assert proc.returncode == 2, f"{cmd!r}: a usage error exits with status 2, not {proc.returncode}"
            for line in usage:  # its first words: the wrapping of the rest depends on the terminal
                assert " ".join(line.split()[:3]) in proc.stderr, f"{cmd!r}: no {line!r} in:\n{proc.stderr}"
        err = " ".join(proc.stderr.split())
        for line in errors:
            assert " ".join(line.split()) in err, f"{cmd!r}: no {line!r} in:\n{proc.stderr}"
        assert proc.stdout == ""
        return
    assert proc.returncode == 0, f"{cmd!r} exited {proc.returncode}:\n{proc.stderr}"
    if shown and shown[0].startswith("{"):  # a JSON record, shown in part: its keys are there
        record = json.loads(proc.stdout)
        assert set(re.findall(r'"(\w+)":', shown[0])) <= _keys(record)
        return
    expected = [_shape(line) for line in shown]
    out, err = proc.stdout.splitlines(), proc.stderr.splitlines()
    for candidate in (out, err + out, out + err):  # the shown lines interleave both streams
        got = [_shape(line) for line in candidate]
        if len(got) == len(expected) and all(e == "..." or e == g for e, g in zip(expected, got)):
            return
    pytest.fail(f"{cmd!r} printed\n{proc.stdout}{proc.stderr}\nnot lines of the shape shown:\n"
                + "\n".join(shown))
