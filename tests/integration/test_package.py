"""The service and the Debian package (SPEC §8): the unit verifies and is hardened, the .deb has
the right contents and passes lintian, and on this machine (root, as in CI) it installs, runs
`check` and processes a file as its own user, and purges without leaving anything behind."""
import grp
import os
import pathlib
import pwd
import re
import shutil
import signal
import subprocess
import time

import pytest

from conftest import REPO, SAMPLES, binary

UNIT = REPO / "systemd" / "inferwatch.service"
CROPS = pathlib.Path("/srv/cad-crops")


def run(*args, **kw):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kw)


def unit_copy(tmp_path, exe):
    """The unit with ExecStart pointing at `exe` (verify checks that the program exists)."""
    path = tmp_path / "inferwatch.service"
    path.write_text(UNIT.read_text().replace("/usr/bin/inferwatch", str(exe)))
    return path


def test_unit_verifies_and_is_hardened(tmp_path):
    unit = unit_copy(tmp_path, binary())
    verify = run("systemd-analyze", "verify", "--man=no", unit)
    assert verify.returncode == 0 and verify.stdout + verify.stderr == "", verify.stderr
    text = UNIT.read_text()
    for line in ["Type=notify", "WatchdogSec=30s", "ExecReload=/bin/kill -HUP $MAINPID",
                 "User=inferwatch", "StateDirectory=inferwatch", "ProtectSystem=strict",
                 "ReadWritePaths=/srv/cad-crops", "ProtectHome=yes", "PrivateTmp=yes",
                 "NoNewPrivileges=yes", "CapabilityBoundingSet=\n",
                 "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
                 "SystemCallFilter=@system-service"]:
        assert line in text, line
    security = run("systemd-analyze", "security", "--offline=true", "--no-pager", unit)
    level = re.search(r"Overall exposure level for inferwatch.service: ([\d.]+)", security.stdout)
    assert level, security.stdout + security.stderr
    assert float(level.group(1)) <= 2.5, security.stdout  # systemd rates < 3 "OK"


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    build_dir = pathlib.Path(binary()).parent.parent
    out = tmp_path_factory.mktemp("deb")
    made = run(REPO / "packaging" / "deb" / "build-deb", build_dir, out)
    assert made.returncode == 0, made.stderr
    path = pathlib.Path(made.stdout.strip())
    assert re.fullmatch(r"inferwatch_\d+\.\d+\.\d+_amd64\.deb", path.name), path.name
    return path


def test_deb_contents_control_and_lintian(deb):
    listing = run("dpkg-deb", "-c", deb).stdout
    for path in ["./usr/bin/inferwatch", "./etc/inferwatch/inferwatch.toml",
                 "./lib/systemd/system/inferwatch.service",
                 "./usr/share/inferwatch/models/demo-shapes.pt",
                 "./usr/share/inferwatch/grafana/inferwatch-dashboard.json",
                 "./usr/share/inferwatch/prometheus/inferwatch-alerts.yml",
                 "./usr/share/man/man1/inferwatch.1.gz", "./usr/share/doc/inferwatch/copyright",
                 "./usr/share/doc/inferwatch/changelog.gz"]:
        assert re.search(rf" {re.escape(path)}$", listing, re.M), path
    assert "root/root" in listing and not re.search(r"^\S+ (?!root/root)", listing, re.M)
    control = run("dpkg-deb", "-f", deb).stdout
    depends = re.search(r"^Depends: (.*)$", control, re.M).group(1)
    for lib in ["libtorch1.13", "libuv1", "libsqlite3-0", "libsystemd0", "adduser"]:
        assert lib in depends, depends
    conffiles = run("dpkg-deb", "--info", deb, "conffiles").stdout.split()
    assert conffiles == ["/etc/inferwatch/inferwatch.toml"]
    lint = run("lintian", "--no-tag-display-limit", deb)
    tags = [l for l in lint.stdout.splitlines() if re.match(r"^[EW]: ", l)]
    assert tags == [], lint.stdout


def wait_ready(proc, log, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        text = log.read_text()
        ready = re.search(r"ready: .* listening on [^ ]+:(\d+)", text)
        if ready:
            return int(ready.group(1))
        assert proc.poll() is None, text
        time.sleep(0.1)
    raise AssertionError(log.read_text())


@pytest.mark.skipif(os.geteuid() != 0, reason="installs a package: needs root (CI runs as root)")
def test_install_run_as_the_service_user_and_purge(deb, tmp_path):
    if run("dpkg-query", "-W", "inferwatch").returncode == 0:
        pytest.skip("inferwatch is installed on this machine already; not touching it")
    if CROPS.exists():
        pytest.skip(f"{CROPS} exists already; the test needs it to itself")
    try:
        install = run("dpkg", "-i", deb)
        assert install.returncode == 0, install.stdout + install.stderr

        user = pwd.getpwnam("inferwatch")
        assert user.pw_uid < 1000 and user.pw_shell in ("/usr/sbin/nologin", "/bin/false")
        state = os.stat("/var/lib/inferwatch")
        assert state.st_uid == user.pw_uid and oct(state.st_mode & 0o777) == "0o750"
        crops = os.stat(CROPS)
        assert crops.st_uid == user.pw_uid and crops.st_mode & 0o2000  # setgid share
        verify = run("systemd-analyze", "verify", "/lib/systemd/system/inferwatch.service",
                     *([] if shutil.which("man") else ["--man=no"]))
        assert verify.returncode == 0, verify.stderr

        as_service = dict(user="inferwatch", group="inferwatch", extra_groups=[], cwd="/var/lib/inferwatch")
        check = run("/usr/bin/inferwatch", "check", "-c", "/etc/inferwatch/inferwatch.toml", **as_service)
        assert check.returncode == 0, check.stderr
        assert "ok: config /etc/inferwatch/inferwatch.toml; model demo-shapes@" in check.stderr

        # The packaged binary and config, as the packaged user, on a real file.
        log = tmp_path / "serve.log"
        with open(log, "w") as out:
            proc = subprocess.Popen(["/usr/bin/inferwatch", "serve", "-c",
                                     "/etc/inferwatch/inferwatch.toml", "--listen", "127.0.0.1:0"],
                                    stdout=out, stderr=subprocess.STDOUT, **as_service)
        try:
            wait_ready(proc, log)
            sample = next(p for p in sorted(SAMPLES.iterdir()) if p.name.startswith("circle"))
            shutil.copyfile(sample, CROPS / ".incoming")
            os.rename(CROPS / ".incoming", CROPS / sample.name)
            sidecar = CROPS / (sample.name + ".result.json")
            deadline = time.time() + 60
            while not sidecar.exists() and time.time() < deadline:
                time.sleep(0.1)
            assert sidecar.exists(), log.read_text()
            assert os.stat(sidecar).st_uid == user.pw_uid
            assert '"label":"circle"' in sidecar.read_text().replace(" ", "")
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0, log.read_text()
        assert (pathlib.Path("/var/lib/inferwatch/inferwatch.db")).exists()

        purge = run("dpkg", "--purge", "inferwatch")
        assert purge.returncode == 0, purge.stdout + purge.stderr
        for gone in ["/usr/bin/inferwatch", "/etc/inferwatch", "/var/lib/inferwatch",
                     "/lib/systemd/system/inferwatch.service", "/usr/share/inferwatch",
                     "/usr/share/doc/inferwatch", "/usr/share/man/man1/inferwatch.1.gz"]:
            assert not os.path.lexists(gone), gone
        with pytest.raises(KeyError):
            pwd.getpwnam("inferwatch")
        with pytest.raises(KeyError):
            grp.getgrnam("inferwatch")
        assert not list(pathlib.Path("/var/lib/dpkg/info").glob("inferwatch.*"))
        # The users' images and results stay; the share goes once it is empty.
        assert sorted(p.name for p in CROPS.iterdir()) == [sample.name, sidecar.name]
    finally:
        run("dpkg", "--purge", "inferwatch")
        shutil.rmtree(CROPS, ignore_errors=True)
