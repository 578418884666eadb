"""Decompression bombs and headers that disagree with the decoder (SPEC §4 (e)): each gets an
error result from the header alone, the daemon stays up, and memory stays bounded.

Every file is made here, small on disk: pixel data is zlib-compressed zeros, and TIFF strips all
point at one compressed strip.
"""
import functools
import io
import json
import os
import struct
import subprocess
import zlib

import pytest
from PIL import Image

from conftest import binary

# Peak RSS `inferwatch infer` may reach on any of these files (the demo model and LibTorch take
# about 300 MB; decoding one of these bombs would take 1 to 4 GB).
RSS_BOUND = 700 * 1024 * 1024


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_of_zeros(width, height, bit_depth, colour_type, samples):
    """A valid PNG of all-zero pixels, compressed as it streams (kilobytes for gigabytes)."""
    row = b"\0" * (1 + width * samples * bit_depth // 8)
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


def tiff(pages):
    """A little-endian TIFF of 8-bit gray pages of zeros, deflate-compressed; each page is
    (entries before, (width, height), entries after), where the extra entries are (tag, value)
    pairs written as LONGs, so a test can add duplicate size tags on either side."""
    out = bytearray(b"II*\0\0\0\0\0")
    ifd_offsets = []
    for before, (width, height), after in pages:
        rows = 16
        strip_at = len(out)
        strip = zlib.compress(b"\0" * (width * rows), 9)
        out += strip
        strips = -(-height // rows)
        arrays_at = len(out)
        out += struct.pack(f"<{strips}I", *[strip_at] * strips)
        out += struct.pack(f"<{strips}I", *[len(strip)] * strips)
        entries = [(tag, 4, 1, v) for tag, v in before]
        entries += [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 8),
                    (262, 3, 1, 1), (273, 4, strips, arrays_at if strips > 1 else strip_at),
                    (277, 3, 1, 1), (278, 4, 1, rows),
                    (279, 4, strips, arrays_at + 4 * strips if strips > 1 else len(strip))]
        entries += [(tag, 4, 1, v) for tag, v in after]
        if len(out) % 2:
            out += b"\0"
        ifd_offsets.append(len(out))
        out += struct.pack("<H", len(entries))
        for tag, kind, count, value in entries:
            value_bytes = struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
            out += struct.pack("<HHI", tag, kind, count) + value_bytes
        out += b"\0\0\0\0"  # next IFD, patched below
    struct.pack_into("<I", out, 4, ifd_offsets[0])
    for this, following in zip(ifd_offsets, ifd_offsets[1:]):
        count = struct.unpack_from("<H", out, this)[0]
        struct.pack_into("<I", out, this + 2 + 12 * count, following)
    return bytes(out)


def webp_canvas(canvas_w, canvas_h, frame_image):
    """An extended WebP whose VP8X canvas says canvas_w×canvas_h around `frame_image`'s frame."""
    buf = io.BytesIO()
    frame_image.save(buf, "WEBP", lossless=True)
    frame = buf.getvalue()[12:]  # the VP8L chunk, header included
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\0\0\0\0" + (canvas_w - 1).to_bytes(3, "little") \
        + (canvas_h - 1).to_bytes(3, "little")
    body = b"WEBP" + vp8x + frame
    return b"RIFF" + struct.pack("<I", len(body)) + body


def animated_webp():
    buf = io.BytesIO()
    frames = [Image.new("RGB", (32, 32), c) for c in ("red", "blue")]
    frames[0].save(buf, "WEBP", save_all=True, append_images=frames[1:], duration=100)
    return buf.getvalue()


def jpeg_with_two_frame_headers():
    """A JPEG with a forged 30000×30000 frame header in front of its real one."""
    buf = io.BytesIO()
    Image.new("RGB", (40, 24), "white").save(buf, "JPEG")
    data = buf.getvalue()
    sof = data.index(b"\xff\xc0")
    length = struct.unpack(">H", data[sof + 2:sof + 4])[0]
    real = data[sof:sof + 2 + length]
    forged = real[:5] + struct.pack(">HH", 30000, 30000) + real[9:]
    return data[:sof] + forged + data[sof:]


# name -> (bytes, error code, a part of the message)
@functools.lru_cache(maxsize=None)
def bombs():
    return {
        # Our check used to keep the last ImageWidth/ImageLength (10×10), libtiff the first.
        "duplicate-size.tif": (tiff([([], (12000, 12000), [(256, 10), (257, 10)])]),
                               "decode_failed", "duplicate ImageWidth tag"),
        # 56 Mpx is within max_pixels, but 16-bit RGBA costs 8 bytes decoded + 12 as float each.
        "deep-rgba.png": (png_of_zeros(7500, 7500, 16, 6, 4), "too_large",
                          "(preprocess.max_decode_bytes)"),
        # OpenCV decodes the first page; a later page may not be larger than the limits either.
        "huge-second-page.tif": (tiff([([], (16, 16), []), ([], (12000, 12000), [])]),
                                 "too_large", "the largest of 2 TIFF pages"),
        "canvas-larger.webp": (webp_canvas(9000, 9000, Image.new("RGB", (16, 16))),
                               "decode_failed", "the canvas is 9000×9000 but the image is 16×16"),
        "canvas-smaller.webp": (webp_canvas(1, 1, Image.new("RGB", (300, 200))),
                                "decode_failed", "the canvas is 1×1 but the image is 300×200"),
        "animated.webp": (animated_webp(), "unsupported_format", "animated WebP"),
        "two-frames.jpg": (jpeg_with_two_frame_headers(), "decode_failed",
                           "several frame headers"),
    }


def run_measured(args):
    """(stdout, exit code, peak RSS in bytes) of one inferwatch run."""
    proc = subprocess.Popen([binary(), *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    stdout = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return stdout, proc.returncode, usage.ru_maxrss * 1024


@pytest.mark.parametrize("name", sorted(bombs()))
def test_infer_refuses_the_bomb_from_its_header(tmp_path, name):
    data, code, message = bombs()[name]
    path = tmp_path / name
    path.write_bytes(data)
    assert len(data) < 2 * 1024 * 1024, "bombs stay small on disk"
    stdout, exit_code, rss = run_measured(["infer", path])
    [result] = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    assert exit_code == 1
    assert result["status"] == "error"
    assert result["error"]["code"] == code, result["error"]
    assert message in result["error"]["message"], result["error"]
    assert rss < RSS_BOUND, f"peak RSS {rss / 2**20:.0f} MiB"


def test_the_budget_still_admits_ordinary_deep_images(inferwatch, tmp_path):
    """A 2000×2000 16-bit RGBA PNG (80 MB to decode) and a 10-page TIFF are fine."""
    (tmp_path / "deep.png").write_bytes(png_of_zeros(2000, 2000, 16, 6, 4))
    (tmp_path / "pages.tif").write_bytes(tiff([([], (64, 48), [])] * 10))
    run = inferwatch("infer", tmp_path / "deep.png", tmp_path / "pages.tif")
    assert run.code == 0, run.stderr
    results = run.results()
    assert [r["status"] for r in results] == ["ok", "ok"]
    assert results[0]["image"] == {"width": 2000, "height": 2000}
    assert results[1]["image"] == {"width": 64, "height": 48}


def test_a_smaller_budget_in_the_config_refuses_more(inferwatch, tmp_path):
    config = tmp_path / "small.toml"
    config.write_text("[preprocess]\nmax_decode_bytes = 50000000\n")
    (tmp_path / "deep.png").write_bytes(png_of_zeros(2000, 2000, 16, 6, 4))
    run = inferwatch("infer", "-c", config, tmp_path / "deep.png")
    [r] = run.results()
    assert r["error"]["code"] == "too_large"
    assert "over the limit of 50000000 bytes (preprocess.max_decode_bytes)" in r["error"]["message"]


def test_shorter_side_crop_of_a_sliver_is_refused(inferwatch, tmp_path):
    """Resizing the shorter side of a 4×1,000,000 image to 64 makes a 64×16,000,000 tensor."""
    config = tmp_path / "crop.toml"
    config.write_text('[preprocess]\nresize = "shorter-side+center-crop"\n')
    (tmp_path / "sliver.png").write_bytes(png_of_zeros(4, 1_000_000, 8, 0, 1))
    stdout, exit_code, rss = run_measured(["infer", "-c", config, tmp_path / "sliver.png"])
    [r] = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    assert r["error"]["code"] == "too_large", r
    assert rss < RSS_BOUND, f"peak RSS {rss / 2**20:.0f} MiB"


def _peak_rss(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def test_the_daemon_answers_every_bomb_and_keeps_serving(daemon, samples):
    daemon.start()
    for name, (data, _, _) in bombs().items():
        (daemon.share / name).write_bytes(data)
    good = samples[0]
    (daemon.share / good.name).write_bytes(good.read_bytes())
    results = daemon.wait_for_paths([*bombs(), good.name])
    for name, (_, code, message) in bombs().items():
        r = results[name]
        assert r["status"] == "error", name
        assert r["error"]["code"] == code, (name, r["error"])
        assert message in r["error"]["message"], (name, r["error"])
    assert results[good.name]["status"] == "ok"
    assert daemon.alive()
    status, health = daemon.http("GET", "/healthz")
    assert status == 200, health
    assert _peak_rss(daemon.proc.pid) < RSS_BOUND
    assert daemon.stop() == 0
