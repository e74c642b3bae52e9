"""Your own guests: ``--guest NAME=FOLDER`` and WASMCMP_GUESTS, from the README's example
folder to the hostile fixtures, through the real command and its worker processes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wasmcmp import names
from wasmcmp.cases import Case, all_cases, select
from wasmcmp.errors import GuestNotFound, GuestSpecInvalid, UnknownCase
from wasmcmp.guests import ROLES
from wasmcmp.own_guests import GUESTS_SETTING, guests_from_setting, own_guest, own_guests
from wasmcmp.results import read_pyperf

from .conftest import FIXTURE_GUESTS, REPO

#: seconds a command may take before the test calls it hung: far past any deadline used
BOUND = 120


def wasmcmp(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wasmcmp", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=BOUND,
        check=False,
    )


def readme_guest(folder: Path) -> Path:
    """Write the README's worked example (every ``mine/*.wat`` block) into folder/mine."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("### A guest in WAT, worked through", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"`mine/(\w+\.wat)`:\n\n```wat\n(.*?)```", section, re.DOTALL)
    assert sorted(name for name, _ in blocks) == sorted(f"{role}.wat" for role in ROLES)
    mine = folder / "mine"
    mine.mkdir()
    for name, body in blocks:
        (mine / name).write_text(body)
    return mine


def completed(fixture: str, folder: Path) -> Path:
    """Return a copy of a hostile fixture, its missing modules taken from the WAT twins."""
    target = folder / fixture
    shutil.copytree(FIXTURE_GUESTS / fixture, target)
    for role in ROLES:
        if not (target / f"{role}.wat").exists():
            shutil.copy(REPO / "guests" / "wat" / f"{role}.wat", target)
    return target


# -- the README's example, for real ---------------------------------------------------------


@pytest.fixture(scope="module")
def mine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return readme_guest(tmp_path_factory.mktemp("readme"))


def test_the_readme_example_lists_its_cases(mine: Path) -> None:
    done = wasmcmp("cases", "--guest", f"mine={mine}", "mine/*/add/unchecked", cwd=mine.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "mine/exported/add/unchecked",
        "(default)",
        "mine/imported-inline/add/unchecked",
        "(default)",
        "mine/imported-greenlet/add/unchecked",
        "(default)",
        "mine/imported-thread/add/unchecked",
        "(default)",
    ]


def test_the_readme_example_answers_a_call(mine: Path) -> None:
    done = wasmcmp(
        "call",
        "--guest",
        "mine=mine",
        "mine/imported-greenlet/add/checked",
        "2147483647",
        "1",
        cwd=mine.parent,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "-2147483648"


def test_the_readme_example_runs_and_writes_its_cases(mine: Path) -> None:
    out = mine.parent / "mine.json"
    done = wasmcmp(
        "run",
        "--guest",
        "mine=mine",
        "--cases",
        "mine/*/add/unchecked",
        "--fast",
        "-o",
        str(out),
        cwd=mine.parent,
    )
    assert done.returncode == 0, done.stderr
    assert "[4/4] mine/imported-thread/add/unchecked" in done.stderr
    suite = json.loads(out.read_text())
    measured = [b["metadata"]["name"] for b in suite["benchmarks"]]
    assert measured == [
        "mine/exported/add/unchecked",
        "mine/imported-inline/add/unchecked",
        "mine/imported-greenlet/add/unchecked",
        "mine/imported-thread/add/unchecked",
    ]
    assert all(len(b["runs"]) > 1 for b in suite["benchmarks"])
    ratios = done.stdout.split("imported / exported")[1]
    assert "mine   imported-greenlet" in ratios
    # results, compare and the site take the guest's name from the results as it is
    compared = wasmcmp("compare", str(out), str(out), "--format", "json")
    assert compared.returncode == 0, compared.stderr
    assert "mine/imported-thread/add/unchecked" in compared.stdout
    site = wasmcmp("site", "--pyperf", str(out), "--out", str(mine.parent / "site"))
    assert site.returncode == 0, site.stderr
    assert "mine/exported/add/unchecked" in (mine.parent / "site" / "index.html").read_text()


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="instruction counts need valgrind")
def test_the_instruction_worker_learns_the_guest(mine: Path) -> None:
    out = mine.parent / "counts.json"
    done = wasmcmp(
        "run",
        "--metric",
        "instructions",
        "--repeats",
        "1",
        "--guest",
        "mine=mine",
        "--cases",
        "mine/exported/add/unchecked",
        "-o",
        str(out),
        cwd=mine.parent,
    )
    assert done.returncode == 0, done.stderr
    counted = read_pyperf(out).measurements
    assert list(counted) == ["mine/exported/add/unchecked@instructions"]
    assert all(value > 0 for value in counted["mine/exported/add/unchecked@instructions"].samples)


# -- names, folders and modules ---------------------------------------------------------------


def test_a_spec_names_an_absolute_folder(mine: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(mine.parent)
    guest = own_guest("mine=mine")
    assert (guest.name, guest.folder) == ("mine", mine.resolve())
    assert guest.folder.is_absolute()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("mine", "expected NAME=FOLDER"),
        ("=folder", "expected NAME=FOLDER"),
        ("mine=", "expected NAME=FOLDER"),
        ("a/b=folder", "guest name 'a/b'"),
        ("x@instructions=folder", "guest name 'x@instructions'"),
        ("1st=folder", "guest name '1st'"),
        ("go=folder", "guest name 'go' is a bundled guest's"),
        ("WAT=folder", "guest name 'WAT' is a bundled guest's"),
    ],
)
def test_a_bad_spec_is_refused_naming_it(spec: str, message: str) -> None:
    with pytest.raises(GuestSpecInvalid, match=re.escape(message)):
        own_guest(spec)


@given(st.text(alphabet="ab/@. -_9", min_size=1, max_size=12))
def test_a_name_is_accepted_exactly_when_it_is_a_word(name: str) -> None:
    word = re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", name) is not None and name not in names.GUESTS
    try:
        guest = own_guest(f"{name}={REPO / 'guests' / 'wat'}")
    except GuestSpecInvalid:
        assert not word
    else:
        assert word
        assert guest.name == name
        assert names.parse(f"{name}/exported/add/checked") == names.CaseName(
            name, "exported", "add", "checked"
        )


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(GuestNotFound, match=r"guest 'mine': .*nothing is not a folder"):
        own_guest(f"mine={tmp_path / 'nothing'}")


def test_missing_modules_are_named_with_their_folder() -> None:
    folder = FIXTURE_GUESTS / "unaligned"
    with pytest.raises(GuestNotFound) as caught:
        own_guest(f"mine={folder}")
    message = str(caught.value)
    assert str(folder) in message
    assert "no exported.wasm or exported.wat, imported_cube.wasm or imported_cube.wat" in message
    assert "imported_add" not in message.split("(")[0]


def test_a_name_given_twice_is_refused(mine: Path) -> None:
    with pytest.raises(GuestSpecInvalid, match="guest 'mine' is given twice"):
        own_guests([f"mine={mine}", f"mine={REPO / 'guests' / 'wat'}"])


def test_the_setting_splits_like_path_and_wants_absolute_folders(mine: Path) -> None:
    wat = REPO / "guests" / "wat"
    found = guests_from_setting(os.pathsep.join([f"mine={mine}", "", f"twin={wat}"]))
    assert [(g.name, g.folder) for g in found] == [("mine", mine), ("twin", wat)]
    assert guests_from_setting("") == ()
    with pytest.raises(GuestSpecInvalid, match=f"{GUESTS_SETTING} entry 'mine=mine'.*absolute"):
        guests_from_setting("mine=mine")


# -- cases: matrix, patterns, order -----------------------------------------------------------


def test_own_guests_follow_the_bundled_ones_in_the_order_given(mine: Path) -> None:
    guests = own_guests([f"zeta={mine}", f"alpha={REPO / 'guests' / 'wat'}"])
    order = list(dict.fromkeys(case.guest for case in all_cases(guests)))
    assert order == [*names.GUESTS, "zeta", "alpha"]
    assert len(all_cases(guests)) == len(all_cases()) + 2 * len(all_cases()) // len(names.GUESTS)
    assert sorted(["zeta", "alpha", "wat", "go"], key=names.guest_rank) == [
        "go",
        "wat",
        "alpha",
        "zeta",
    ]


def test_patterns_and_names_reach_the_guests_folder(mine: Path) -> None:
    guests = own_guests([f"mine={mine}"])
    chosen = select(["mine/*/cube/checked"], guests)
    assert [c.name for c in chosen] == [
        f"mine/{approach}/cube/checked" for approach in names.APPROACHES
    ]
    assert {c.folder for c in chosen} == {mine}
    case = Case.parse("mine/exported/add/checked", guests)
    assert case.find_guest().module_file("exported") == mine / "exported.wat"
    with pytest.raises(UnknownCase, match="unknown guest 'mine', expected one of go, rust, wat"):
        Case.parse("mine/exported/add/checked")
    with pytest.raises(UnknownCase, match="no case matches 'mine/\\*'"):
        select(["mine/*"])


def test_the_asv_suite_reads_its_guests_from_the_setting(mine: Path) -> None:
    script = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); "
        "from benchmarks import call_paths as c; "
        "case = c._case('mine', 'exported', 'add', 'checked'); "
        "print(json.dumps([c.CallPaths.params[0], c.CallPaths.version, str(case.folder)]))"
    )

    def suite(setting: str | None) -> list[str]:
        env = {k: v for k, v in os.environ.items() if k != GUESTS_SETTING}
        if setting is not None:
            env[GUESTS_SETTING] = setting
        done = subprocess.run(
            [sys.executable, "-c", script, str(REPO)],
            env=env,
            capture_output=True,
            text=True,
            timeout=BOUND,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        found: list[str] = json.loads(done.stdout)
        return found

    guests, version, folder = suite(f"mine={mine}")
    assert guests == [*names.GUESTS, "mine"]
    assert folder == str(mine)
    bundled, bundled_version, _ = suite(None)
    assert bundled == list(names.GUESTS)
    assert version != bundled_version
    (mine / "exported.wat").write_text((mine / "exported.wat").read_text() + ";; changed\n")
    assert suite(f"mine={mine}")[1] != version


# -- hostile guests through --guest -------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "case", "args", "error"),
    [
        ("badabi", "exported/add/checked", ["1", "2"], "guest 'bad' (exported.wat): missing "),
        (
            "badabi",
            "imported-thread/add/unchecked",
            ["1", "2"],
            "guest 'bad' (imported_add.wat): import conduit.add_request is (i32) -> (), "
            "expected (i32, i32) -> ()",
        ),
        (
            "badabi",
            "imported-greenlet/cube/checked",
            ["3"],
            "guest 'bad' (imported_cube.wat): imports conduit.cube_log, which the host does "
            "not provide",
        ),
        (
            "startcall",
            "imported-thread/add/checked",
            ["1", "2"],
            "bad/imported-thread/add/checked: imported_add.wat calls conduit.add_request from "
            "its start function",
        ),
        ("trap", "exported/cube/unchecked", ["13"], "bad/exported/cube/unchecked: cube(13) trap"),
        ("spin", "imported-greenlet/add/checked", ["13", "1"], "did not answer within 0.5 s"),
        ("initspin", "exported/add/checked", ["1", "2"], "_initialize() did not finish within"),
        ("sleep", "imported-thread/cube/checked", ["13"], "did not answer within 0.5 s"),
    ],
)
def test_a_hostile_guest_fails_naming_itself_and_what_was_wrong(
    tmp_path: Path, fixture: str, case: str, args: list[str], error: str
) -> None:
    folder = completed(fixture, tmp_path)
    done = wasmcmp("call", "--guest", f"bad={folder}", "--timeout", "0.5", f"bad/{case}", *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("wasmcmp: error: ")
    assert error in done.stderr
    assert "Traceback" not in done.stderr


def test_a_hostile_guest_stops_a_run_before_anything_is_written(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    folder = completed("startspin", tmp_path)
    done = wasmcmp(
        *("run", "--guest", f"slow={folder}", "--timeout", "0.5", "--fast"),
        *("--cases", "slow/exported/add/*", "-o", str(out)),
    )
    assert done.returncode == 2, done.stderr
    assert (
        "slow/exported/add/checked: instantiating startspin/exported.wat did not finish within "
        "0.5 s" in done.stderr
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["startspin"]
