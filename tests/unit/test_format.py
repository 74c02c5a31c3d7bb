"""`make format-check` inside `make test`: every C file is formatted as
.clang-format says (tools/format.sh --check, the same file set as
`make format`). The other tests show that the check reads our style and
catches a file that breaks it."""
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FORMAT = ROOT / "tools" / "format.sh"
SCRATCH = ROOT / "build" / "format-test"

# Our style: the function brace on its own line, tabs, `*` to the name, case
# labels at the switch's level, 100 columns.
GOOD = """\
static int pick(const char *name, int kind)
{
	switch (kind) {
	case 1:
		return name[0];
	default:
		return 0;
	}
}
"""
BAD = {
    "brace": GOOD.replace("int kind)\n{", "int kind) {"),
    "spaces": GOOD.replace("\tswitch", "    switch"),
    "pointer": GOOD.replace("const char *name", "const char* name"),
    "case": GOOD.replace("\tcase 1:", "\t\tcase 1:"),
}


def check(*files):
    return subprocess.run([str(FORMAT), "--check", *map(str, files)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_tree_is_formatted():
    proc = check()
    if proc.returncode != 0:
        pytest.fail(proc.stdout + proc.stderr, pytrace=False)


@pytest.fixture()
def scratch():
    """A directory inside the repository, so that clang-format finds
    .clang-format the way it does for the real files."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    yield SCRATCH
    shutil.rmtree(SCRATCH, ignore_errors=True)


def test_the_style_is_ours(scratch):
    good = scratch / "good.c"
    good.write_text(GOOD)
    proc = check(good)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("what", sorted(BAD))
def test_a_misformatted_file_is_named(scratch, what):
    bad = scratch / f"bad_{what}.c"
    bad.write_text(BAD[what])
    proc = check(bad)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert str(bad) in proc.stderr
    assert "make format" in proc.stderr
