"""GET /v1/results/{id}/image (issue #15): a result's image as a small PNG for the review page,
read through the same hardened access as the pipeline. A share user who swaps the file for a
symlink, a FIFO or another version after its result must get nothing they could not read
anyway, and the daemon must never block or follow the link."""
import os
import shutil
import struct
import urllib.error
import urllib.request

from daemon import Daemon

TOKEN = "th-t0ken"


def start(tmp_path):
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    return Daemon(tmp_path, server_config=f'[server]\nlisten = "127.0.0.1:0"\ntoken_file = "{token}"\n').start()


def get(d, path, token=TOKEN):
    """(status, content type, body bytes)."""
    request = urllib.request.Request(d.url + path)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers.get("Content-Type"), response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read()


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    return struct.unpack(">II", data[16:24])


def result_id(d, name):
    d.wait_for(lambda: name in d.current(), what=f"the result of {name}")
    return d.current()[name]["id"]


def test_thumbnail_is_a_downscaled_png_of_the_results_file(tmp_path, samples):
    from PIL import Image

    d = start(tmp_path)
    try:
        shutil.copyfile(samples[0], d.share / "a.png")
        rid = result_id(d, "a.png")
        width, height = Image.open(samples[0]).size
        status, kind, body = get(d, f"/v1/results/{rid}/image?size=32")
        assert status == 200 and kind == "image/png"
        w, h = png_size(body)
        assert max(w, h) == 32 and abs(w / h - width / height) < 0.1, (w, h, width, height)
        # Default: the longer side at most 256; a small image keeps its size.
        status, _, body = get(d, f"/v1/results/{rid}/image")
        assert status == 200 and png_size(body) == (width, height) if max(width, height) <= 256 else True

        assert get(d, f"/v1/results/{rid}/image", token=None)[0] == 401
        for bad in ("size=8", "size=2000", "size=abc"):
            status, _, body = get(d, f"/v1/results/{rid}/image?{bad}")
            assert status == 400 and b"invalid_parameter" in body, bad
        assert get(d, "/v1/results/0/image")[0] == 400
        assert get(d, f"/v1/results/{rid + 1000}/image")[0] == 404
    finally:
        d.kill()


def test_thumbnail_refuses_a_changed_swapped_or_hostile_file(tmp_path, samples):
    d = start(tmp_path)
    try:
        outside = tmp_path / "outside.png"  # readable by the daemon, not on the share
        shutil.copyfile(samples[1], outside)
        for name in ("changed.png", "link.png", "fifo.png", "gone.png"):
            shutil.copyfile(samples[0], d.share / name)
        ids = {name: result_id(d, name) for name in ("changed.png", "link.png", "fifo.png", "gone.png")}
        (d.share / "text.png").write_bytes(b"not an image")
        ids["text.png"] = result_id(d, "text.png")

        # Swap each file after its result, in ways the watcher may or may not have seen yet:
        # the thumbnail must not show what is there now.
        os.truncate(d.share / "changed.png", 100)
        os.unlink(d.share / "link.png")
        os.symlink(outside, d.share / "link.png")
        os.unlink(d.share / "fifo.png")
        os.mkfifo(d.share / "fifo.png")
        os.unlink(d.share / "gone.png")

        status, _, body = get(d, f"/v1/results/{ids['changed.png']}/image")
        assert status == 409 and b"file_changed" in body, (status, body)
        for name in ("link.png", "fifo.png", "gone.png"):
            status, _, body = get(d, f"/v1/results/{ids[name]}/image")
            assert status == 404, (name, status, body)
            assert not body.startswith(b"\x89PNG"), name
        status, _, body = get(d, f"/v1/results/{ids['text.png']}/image")
        assert status == 422, (status, body)
        assert d.alive() and get(d, "/healthz", token=None)[0] == 200
    finally:
        d.kill()
