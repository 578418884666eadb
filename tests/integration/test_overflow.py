"""A real IN_Q_OVERFLOW: with the kernel's event queue shrunk for this daemon, a burst overflows it,
the watcher rescans, and no file is missed (SPEC §4). Needs root to change the sysctl."""
import os
import shutil

import pytest

from daemon import Daemon, image_files

SYSCTL = "/proc/sys/fs/inotify/max_queued_events"


@pytest.fixture
def small_event_queue():
    if os.geteuid() != 0 or not os.access(SYSCTL, os.W_OK):
        pytest.skip("needs root to lower fs.inotify.max_queued_events")
    old = open(SYSCTL).read().strip()
    with open(SYSCTL, "w") as f:
        f.write("8")
    try:
        yield
    finally:
        with open(SYSCTL, "w") as f:
            f.write(old)


def test_overflow_triggers_a_rescan_and_nothing_is_missed(tmp_path, samples, small_event_queue):
    # The queue size is fixed when the daemon creates its inotify instance.
    daemon = Daemon(tmp_path).start()
    try:
        with open(SYSCTL, "w") as f:
            f.write("16384")  # only the daemon's instance keeps the tiny queue
        for i in range(300):
            shutil.copyfile(samples[i % len(samples)], daemon.share / f"o{i:04d}.png")
        daemon.wait_for_paths(image_files(daemon.share), timeout=300)
        log = daemon.log_path.read_text()
        assert "inotify queue overflowed" in log
        assert "full scan (overflow)" in log
        assert daemon.stop() == 0
    finally:
        if daemon.alive():
            daemon.kill()
