"""Runs build/tools/hvconf on every tests/configs/*.conf and compares its
output and exit status with the NAME.expect beside it (format: README.md
there)."""
import pathlib
import shlex
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
HVCONF = ROOT / "build" / "tools" / "hvconf"
CONFIGS = ROOT / "tests" / "configs"
CASES = sorted(CONFIGS.glob("*.conf"))
DEFAULT_FILE_SIZE = 16
EXIT_PROBLEMS = 1
EXIT_USAGE = 2


@pytest.fixture(scope="module")
def hvconf():
    """The tool, rebuilt if its sources changed (never a stale binary)."""
    proc = subprocess.run(["make", "--no-print-directory", "-s", "build/tools/hvconf"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert HVCONF.exists()
    return HVCONF


def read_expect(conf):
    expect = conf.with_suffix(".expect")
    assert expect.exists(), f"{expect.name} is missing"
    args, files, lines = [], {}, []
    for raw in expect.read_text(encoding="utf-8").splitlines():
        if raw.startswith("# args:"):
            args = shlex.split(raw[len("# args:"):])
        elif raw.startswith("# files:"):
            for word in raw[len("# files:"):].split():
                name, _, size = word.partition(":")
                files[name] = int(size) if size else DEFAULT_FILE_SIZE
        elif raw.startswith("#") or not raw.strip():
            continue
        else:
            lines.append(raw)
    return args, files, lines


def run(hvconf, path, *args):
    return subprocess.run([str(hvconf), "check", str(path), *args], capture_output=True,
                          timeout=60)


@pytest.mark.parametrize("conf", CASES, ids=[c.stem for c in CASES])
def test_config_case(hvconf, conf, tmp_path):
    args, files, expected = read_expect(conf)
    target = tmp_path / "hv.conf"
    shutil.copyfile(conf, target)
    for name, size in files.items():
        (tmp_path / name).write_bytes(b"\x90" * size)
    good = conf.stem.startswith("good-")
    assert good or conf.stem.startswith("bad-"), "name cases good-* or bad-*"
    proc = run(hvconf, target, *args, *(["--plan"] if good else []))
    out = proc.stdout.decode("utf-8").splitlines()
    transcript = f"stdout:\n{proc.stdout.decode()}\nstderr:\n{proc.stderr.decode()}"
    if good:
        assert proc.returncode == 0, transcript
        prefix = f"{target}: "
        assert out and out[0].startswith(prefix), transcript
        assert [out[0][len(prefix):]] + out[1:] == expected, transcript
    else:
        assert expected, f"{conf.name}: a bad case needs expected lines"
        assert all(e.startswith("hv.conf:") for e in expected)
        assert proc.returncode == EXIT_PROBLEMS, transcript
        assert out == expected, transcript
    assert proc.stderr == b"", transcript


def test_enough_cases():
    bad = [c for c in CASES if c.stem.startswith("bad-")]
    good = [c for c in CASES if c.stem.startswith("good-")]
    assert len(bad) >= 25 and len(good) >= 3


def test_messages_name_hv_conf_whatever_the_file(hvconf, tmp_path):
    """The lines are the console's: always "hv.conf:LINE:", whatever the name."""
    conf = tmp_path / "my-machine.cfg"
    conf.write_text("[partition a]\ncpus = 0\nmemory = 3M\nkernel = k\n")
    proc = run(hvconf, conf, "--no-files")
    assert proc.returncode == EXIT_PROBLEMS
    assert proc.stdout.decode() == "hv.conf:3: memory: 3M is not a multiple of 2M\n"


def test_images_are_looked_for_next_to_the_file(hvconf, tmp_path):
    (tmp_path / "boot").mkdir()
    conf = tmp_path / "boot" / "hv.conf"
    conf.write_text("[partition a]\ncpus = 0\nmemory = 2M\nkernel = bzImage\n")
    (tmp_path / "bzImage").write_bytes(b"x")  # in the wrong directory
    proc = run(hvconf, conf)
    assert proc.returncode == EXIT_PROBLEMS
    assert proc.stdout.decode() == 'hv.conf:4: kernel: no module or file named "bzImage"\n'
    (tmp_path / "boot" / "bzImage").write_bytes(b"x")
    assert run(hvconf, conf).returncode == 0
    assert run(hvconf, conf, "--no-files").returncode == 0


@pytest.mark.parametrize("args", [
    [],
    ["check"],
    ["frobnicate", "x"],
    ["check", "a.conf", "b.conf"],
    ["check", "a.conf", "--cpus"],
    ["check", "a.conf", "--cpus", "four"],
    ["check", "a.conf", "--memory", "2"],
    ["check", "a.conf", "--iommu", "maybe"],
    ["check", "a.conf", "--verbose"],
], ids=lambda a: " ".join(a) or "nothing")
def test_usage_errors(hvconf, args):
    proc = subprocess.run([str(hvconf), *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == EXIT_USAGE
    assert "usage: hvconf check FILE" in proc.stderr
    assert proc.stdout == ""


def test_unreadable_file(hvconf, tmp_path):
    proc = run(hvconf, tmp_path / "absent.conf")
    assert proc.returncode == EXIT_PROBLEMS
    assert b"absent.conf" in proc.stderr
