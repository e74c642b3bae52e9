"""The composite action really runs: its steps executed in order, the way GitHub's runner does.

``run_steps`` is a small runner for composite steps: it substitutes ``${{ }}`` expressions in
``env:`` and ``with:`` (inputs, github, steps, runner), runs every ``run:`` script with
``bash --noprofile --norc -eo pipefail {0}`` in the workspace, and collects ``GITHUB_OUTPUT``,
``GITHUB_ENV``, ``GITHUB_PATH`` and ``GITHUB_STEP_SUMMARY`` per step. A ``uses:`` step is replaced
by a local equivalent the test supplies. It is tried on a tiny action first, then on
``action.yml`` end to end with asv, two commits and a real slowdown.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import REPO, clone_project, commit_slowdown, git


class UnsupportedByRunner(Exception):
    """The workflow uses something this stand-in for GitHub's runner does not do."""


ACTION = REPO / "action.yml"

#: GitHub's command line for ``shell: bash`` (the script's path replaces {0}).
BASH = ("bash", "--noprofile", "--norc", "-eo", "pipefail")

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
PATH_EXPR = re.compile(r"[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*")


# -- the runner -----------------------------------------------------------------------------------


def evaluate(expression: str, contexts: Mapping[str, Any]) -> str:
    """Return the string value of a ``${{ }}`` expression made of context paths, '' and ||."""
    for alternative in (part.strip() for part in expression.split("||")):
        if alternative.startswith("'") and alternative.endswith("'"):
            value: Any = alternative[1:-1].replace("''", "'")
        elif PATH_EXPR.fullmatch(alternative):
            value = contexts
            for key in alternative.split("."):
                value = value.get(key) if isinstance(value, Mapping) else None
        else:
            raise UnsupportedByRunner(f"expression not supported by this runner: {expression!r}")
        if value:
            return value if isinstance(value, str) else str(value)
    return ""


def substitute(text: str, contexts: Mapping[str, Any]) -> str:
    """Return text with every ``${{ }}`` replaced by its value, as GitHub does in env/with."""
    return EXPRESSION.sub(lambda m: evaluate(m.group(1), contexts), text)


def scalar(value: Any) -> str:
    """Return a YAML scalar of ``env:`` or ``with:`` as the string GitHub passes: true, 3.11."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def read_commands_file(path: Path) -> dict[str, str]:
    """Return the name=value and name<<DELIMITER pairs of a GITHUB_OUTPUT/GITHUB_ENV file."""
    values: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body: list[str] = []
            while lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            i += 1
            values[name] = "\n".join(body)
        else:
            name, value = line.split("=", 1)
            values[name] = value
    return values


@dataclass
class Step:
    """What one step did."""

    name: str
    returncode: int
    outputs: dict[str, str]
    stdout: str
    stderr: str


@dataclass
class Job:
    """What a list of steps did, as a job's log, summary and the action's outputs show it."""

    steps: list[Step] = field(default_factory=list)
    summary: str = ""
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> Step | None:
        """Return the step that failed the job, if one did."""
        return next((s for s in self.steps if s.returncode != 0), None)

    def log(self) -> str:
        """Return every step's output, for assertion messages."""
        return "\n".join(
            f"== {s.name} ({s.returncode})\n{s.stdout}\n{s.stderr}" for s in self.steps
        )


#: A local stand-in for a ``uses:`` action: gets ``with:`` and the environment, returns outputs.
Uses = Callable[[Mapping[str, str], dict[str, str]], Mapping[str, str]]


def run_steps(
    steps: list[dict[str, Any]],
    *,
    workspace: Path,
    temp: Path,
    inputs: Mapping[str, str] | None = None,
    github: Mapping[str, Any] | None = None,
    uses: Mapping[str, Uses] | None = None,
    env: Mapping[str, str] | None = None,
    action_path: Path | None = None,
    default_shell: str | None = None,
) -> Job:
    """Return what happened when these steps ran in order, stopping at the first failure.

    ``default_shell`` is a workflow's ``defaults.run.shell``; composite steps must name one.
    """
    job = Job()
    env = env or {}
    uses = uses or {}
    contexts: dict[str, Any] = {
        "inputs": dict(inputs or {}),
        "github": dict(github or {}, workspace=str(workspace)),
        "steps": {},
        "runner": {"temp": str(temp), "os": "Linux"},
        "env": dict(env),
    }
    if action_path is not None:
        contexts["github"]["action_path"] = str(action_path)
    base_env = {
        **env,
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "RUNNER_TEMP": str(temp),
        "RUNNER_OS": "Linux",
    }
    if action_path is not None:
        base_env["GITHUB_ACTION_PATH"] = str(action_path)
    for number, step in enumerate(steps):
        name = step.get("name") or step.get("id") or f"step {number}"
        unknown = set(step) - {"name", "id", "run", "shell", "env", "uses", "with"}
        if unknown:
            raise UnsupportedByRunner(f"{name}: keys not supported by this runner: {unknown}")
        if job.failed:
            break
        step_env = {k: substitute(scalar(v), contexts) for k, v in (step.get("env") or {}).items()}
        files = {kind: temp / f"{kind}-{number}" for kind in ("output", "env", "path", "summary")}
        for path in files.values():
            path.write_text("")
        full_env = {
            **base_env,
            **step_env,
            "GITHUB_OUTPUT": str(files["output"]),
            "GITHUB_ENV": str(files["env"]),
            "GITHUB_PATH": str(files["path"]),
            "GITHUB_STEP_SUMMARY": str(files["summary"]),
        }
        if "uses" in step:
            action = str(step["uses"]).split("@", 1)[0]
            with_ = {
                k: substitute(scalar(v), contexts) for k, v in (step.get("with") or {}).items()
            }
            outputs = dict(uses[action](with_, full_env))
            job.steps.append(Step(name, 0, outputs, "", ""))
        else:
            if step.get("shell", default_shell) != "bash":
                raise UnsupportedByRunner(f"{name}: only shell: bash is supported")
            script = temp / f"step-{number}.sh"
            script.write_text(str(step["run"]))
            done = subprocess.run(
                [*BASH, str(script)],
                cwd=workspace,
                env=full_env,
                capture_output=True,
                text=True,
                check=False,
            )
            outputs = read_commands_file(files["output"])
            job.steps.append(Step(name, done.returncode, outputs, done.stdout, done.stderr))
        if "id" in step:
            contexts["steps"][step["id"]] = {"outputs": outputs}
        base_env.update(read_commands_file(files["env"]))
        added = [p for p in files["path"].read_text().splitlines() if p]
        if added:
            base_env["PATH"] = os.pathsep.join([*reversed(added), base_env.get("PATH", "")])
        job.summary += files["summary"].read_text()
    return job


def run_action(
    action_file: Path,
    *,
    workspace: Path,
    temp: Path,
    inputs: Mapping[str, str] | None = None,
    github: Mapping[str, Any] | None = None,
    uses: Mapping[str, Uses] | None = None,
    env: Mapping[str, str] | None = None,
) -> Job:
    """Return what happened when a composite action ran: its steps, summary and outputs."""
    action = yaml.safe_load(action_file.read_text())
    assert action["runs"]["using"] == "composite"
    inputs = inputs or {}
    github = github or {}
    contexts = {"github": github}
    resolved = {}
    for name, spec in (action.get("inputs") or {}).items():
        default = substitute(str(spec.get("default", "")), contexts)
        resolved[name] = inputs.get(name, default)
    unknown = set(inputs) - set(resolved)
    assert not unknown, f"inputs the action does not declare: {unknown}"
    job = run_steps(
        action["runs"]["steps"],
        workspace=workspace,
        temp=temp,
        inputs=resolved,
        github=github,
        uses=uses,
        env=env,
        action_path=action_file.parent,
    )
    steps = {"steps": {}}
    for spec, step in zip(action["runs"]["steps"], job.steps, strict=False):
        if "id" in spec:
            steps["steps"][spec["id"]] = {"outputs": step.outputs}
    for name, spec in (action.get("outputs") or {}).items():
        job.outputs[name] = substitute(str(spec["value"]), steps)
    return job


# -- the runner, tried on a tiny action -----------------------------------------------------------

TINY = """
name: tiny
description: exercises what the runner must do
inputs:
  greeting:
    description: what to say
    default: hello
  ref:
    description: a default from the github context
    default: ${{ github.event.pull_request.base.sha || 'no-base' }}
outputs:
  said:
    description: the greeting said
    value: ${{ steps.say.outputs.said }}
  lines:
    description: a multi-line output
    value: ${{ steps.say.outputs.lines }}
  tool:
    description: what the uses step set up
    value: ${{ steps.setup.outputs.tool }}
runs:
  using: composite
  steps:
    - id: setup
      uses: example/setup-tool@0123456789abcdef0123456789abcdef01234567 # v1
      with:
        version: ${{ inputs.greeting }}-1
    - id: say
      shell: bash
      env:
        GREETING: ${{ inputs.greeting }}
        REF: ${{ inputs.ref }}
        WHERE: ${{ github.action_path }}
      run: |
        echo "said=$GREETING from $(basename "$WHERE") at $REF" >> "$GITHUB_OUTPUT"
        {
          echo "lines<<EOF"
          printf 'one\\ntwo\\n'
          echo "EOF"
        } >> "$GITHUB_OUTPUT"
        echo "CARRIED=over" >> "$GITHUB_ENV"
        echo "## $GREETING" >> "$GITHUB_STEP_SUMMARY"
        tool --version
    - shell: bash
      env:
        GREETING: ${{ inputs.greeting }}
        UNDECLARED: ${{ inputs.undeclared }}
      run: |
        echo "carried: $CARRIED" >> "$GITHUB_STEP_SUMMARY"
        test -z "$UNDECLARED"
        # with pipefail, a pipe fails when any of its commands does
        test "$GREETING" != "stop" | cat
        echo "not reached when stopping" >> "$GITHUB_STEP_SUMMARY"
    - shell: bash
      run: echo "last step ran" >> "$GITHUB_STEP_SUMMARY"
"""


def fake_setup_tool(root: Path) -> Uses:
    """Return a stand-in for a setup action: puts a `tool` command on the PATH."""

    def setup(with_: Mapping[str, str], env: dict[str, str]) -> Mapping[str, str]:
        bin_dir = root / "tool-bin"
        bin_dir.mkdir(exist_ok=True)
        tool = bin_dir / "tool"
        tool.write_text(f"#!/bin/sh\necho tool {with_['version']}\n")
        tool.chmod(0o755)
        Path(env["GITHUB_PATH"]).write_text(f"{bin_dir}\n")
        return {"tool": with_["version"]}

    return setup


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny-action"
    folder.mkdir()
    (folder / "action.yml").write_text(TINY)
    return folder / "action.yml"


def run_tiny(tiny: Path, tmp_path: Path, **kwargs: Any) -> Job:
    temp = tmp_path / "runner-temp"
    temp.mkdir(exist_ok=True)
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)
    return run_action(
        tiny,
        workspace=workspace,
        temp=temp,
        uses={"example/setup-tool": fake_setup_tool(tmp_path)},
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
        **kwargs,
    )


def test_the_runner_passes_inputs_outputs_env_path_and_summary(tiny: Path, tmp_path: Path) -> None:
    job = run_tiny(tiny, tmp_path, github={"event": {"pull_request": {"base": {"sha": "abc"}}}})
    assert job.failed is None, job.log()
    assert job.outputs == {
        "said": "hello from tiny-action at abc",
        "lines": "one\ntwo",
        "tool": "hello-1",
    }
    assert job.steps[1].stdout == "tool hello-1\n"
    assert job.summary.splitlines() == [
        "## hello",
        "carried: over",
        "not reached when stopping",
        "last step ran",
    ]


def test_the_runner_uses_input_defaults_and_the_alternative_of_an_empty_context(
    tiny: Path, tmp_path: Path
) -> None:
    job = run_tiny(tiny, tmp_path, inputs={"greeting": "hi"})
    assert job.outputs["said"] == "hi from tiny-action at no-base"


def test_the_runner_stops_a_step_at_a_failing_command_and_skips_the_rest(
    tiny: Path, tmp_path: Path
) -> None:
    job = run_tiny(tiny, tmp_path, inputs={"greeting": "stop"})
    failed = job.failed
    assert failed is not None
    assert failed.name == "step 2"
    assert "not reached when stopping" not in job.summary
    assert "last step ran" not in job.summary
    assert len(job.steps) == 3


def test_the_runner_refuses_what_it_cannot_do_like_github(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedByRunner, match="not supported"):
        evaluate("contains(github.ref, 'main')", {})
    with pytest.raises(UnsupportedByRunner, match="only shell: bash"):
        run_steps([{"run": "true"}], workspace=tmp_path, temp=tmp_path)
    with pytest.raises(UnsupportedByRunner, match="keys not supported"):
        run_steps(
            [{"run": "true", "shell": "bash", "if": "always()"}], workspace=tmp_path, temp=tmp_path
        )


def test_the_runner_does_not_evaluate_expressions_inside_values(tmp_path: Path) -> None:
    # GitHub substitutes once: a value that itself looks like an expression stays text.
    job = run_steps(
        [
            {
                "id": "echo",
                "shell": "bash",
                "env": {"VALUE": "${{ inputs.text }}"},
                "run": 'echo "value=$VALUE" >> "$GITHUB_OUTPUT"',
            }
        ],
        workspace=tmp_path,
        temp=tmp_path,
        inputs={"text": "${{ github.token }}; $(touch pwned)"},
        env={"PATH": os.environ["PATH"]},
    )
    assert job.steps[0].outputs["value"] == "${{ github.token }}; $(touch pwned)"
    assert not (tmp_path / "pwned").exists()


# -- action.yml, measured end to end --------------------------------------------------------------

#: Two cases: the one the head commit slows down and an untouched one.
CASES = r"track_call\(.wat., .(exported|imported-thread)., .add., .unchecked.\)"
SLOWED = "wat/imported-thread/add/unchecked"
UNTOUCHED = "wat/exported/add/unchecked"


def commit_harmless_change(repo: Path, base: str) -> str:
    """Commit, on a branch from base, a change that does not touch what is measured."""
    git(repo, "switch", "-q", "-c", "harmless", base)
    (repo / "NOTES.txt").write_text("a change that measures nothing\n")
    git(repo, "add", "NOTES.txt")
    git(repo, "commit", "-qm", "harmless")
    return git(repo, "rev-parse", "HEAD")


def local_setup_python(root: Path) -> Uses:
    """Return a stand-in for actions/setup-python: a fresh venv of this Python, on the PATH."""

    def setup(with_: Mapping[str, str], env: dict[str, str]) -> Mapping[str, str]:
        have = f"{sys.version_info.major}.{sys.version_info.minor}"
        assert with_["python-version"] == have, "the test passes its own Python's version"
        folder = root / f"python-{have}"
        if not folder.exists():
            venv.create(folder, with_pip=True)
        Path(env["GITHUB_PATH"]).write_text(f"{folder / 'bin'}\n")
        return {"python-version": have, "python-path": str(folder / "bin" / "python")}

    return setup


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("action")
    repo = clone_project(root / "repo")
    base = git(repo, "rev-parse", "HEAD")
    slow = commit_slowdown(repo)
    harmless = commit_harmless_change(repo, base)
    home = root / "home"
    home.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        # asv keeps its machine file in $HOME: give it one of its own; keep pip's cache
        "HOME": str(home),
        "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")),
    }
    return {
        "root": root,
        "repo": repo,
        "base": base,
        "slow": slow,
        "harmless": harmless,
        "env": env,
    }


def run_the_action(project: dict[str, Any], head: str, name: str) -> Job:
    root: Path = project["root"]
    temp = root / f"temp-{name}"
    temp.mkdir()
    repo: Path = project["repo"]
    return run_action(
        repo / "action.yml",
        workspace=repo,
        temp=temp,
        inputs={
            "base-ref": project["base"],
            "head-ref": head,
            "python-version": f"{sys.version_info.major}.{sys.version_info.minor}",
            "cases": CASES,
            "effort": "fast",
            # The thread conduit is the noisiest case: a looser factor keeps the no-change
            # run from failing on noise, and the slowed run is far beyond it anyway.
            "factor": f"1.10\n{SLOWED}=1.5",
            "machine": "e2e",
            "fail-on-regression": "true",
            "comment-path": f".wasmcmp/{name}/comment.md",
            "site-dir": f".wasmcmp/{name}/site",
        },
        github={"sha": head, "event": {}},
        uses={"actions/setup-python": local_setup_python(root)},
        env=project["env"],
    )


@pytest.mark.slow
def test_the_action_blocks_a_real_slowdown_and_explains_it(project: dict[str, Any]) -> None:
    job = run_the_action(project, project["slow"], "slow")
    failed = job.failed
    assert failed is not None, job.log()
    assert failed.name == "Fail on regression", job.log()
    assert job.outputs["verdict"] == "regressed"
    assert int(job.outputs["regressions"]) >= 1
    above_the_fold = job.summary.partition("<details>")[0]
    (row,) = [line for line in above_the_fold.splitlines() if f"<code>{SLOWED}</code>" in line]
    assert "regressed" in row
    # fast effort: 2 rounds x 4 pyperf processes are 8 independent units a side, enough for
    # Mann-Whitney U to reach the family level
    assert "| p&lt;" in row or "| p=" in row, "asv's Mann-Whitney U test should have decided"
    assert f"<code>{UNTOUCHED}</code>" not in above_the_fold
    measure = next(s for s in job.steps if s.name == "Measure base and head, interleaved")
    assert "(round 2/2)" in measure.stdout, "base and head should alternate round by round"
    comment = project["repo"] / job.outputs["comment-path"]
    assert comment.read_text().startswith("<!-- wasmcmp:compare -->\n")
    site = project["repo"] / job.outputs["site-path"]
    assert (site / "index.html").is_file()


@pytest.mark.slow
def test_the_action_passes_a_change_that_costs_nothing(project: dict[str, Any]) -> None:
    job = run_the_action(project, project["harmless"], "harmless")
    assert job.failed is None, job.log()
    assert job.outputs["verdict"] in ("unchanged", "improved"), job.summary
    assert job.outputs["regressions"] == "0"
    assert "no significant change" in job.summary or "improved" in job.summary
