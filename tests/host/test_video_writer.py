"""VideoWriter: exact frames decoded back, input conversion, and atomic files on every failure."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import numpy as np
import psutil
import pytest
from conftest import (
    assert_same_video,
    decode,
    leftovers,
    mae,
    numbered_frame,
    route_to_dev_full,
    video_fps,
)

import fnrec.host.video_writer as video_writer
from fnrec import VideoWriteError, VideoWriter
from fnrec.host.frames import Yuv420Frame, rgb_to_yuv420

ENCODERS = ["ffmpeg", "pyav"]


@pytest.fixture(autouse=True, params=ENCODERS)
def encoder(request, monkeypatch) -> str:
    """Every test runs with each encoder, chosen the way users get it: encoder="auto"."""
    if request.param == "pyav":
        pytest.importorskip("av")
    monkeypatch.setattr(video_writer, "pyav_available", lambda: request.param == "pyav")
    return request.param


def write(path: Path, frames, **kwargs) -> Path | None:
    with VideoWriter(path, **kwargs) as writer:
        for frame in frames:
            writer.append(frame)
        return writer.close()


@pytest.mark.parametrize("count", [1, 2, 3, 17, 120])
@pytest.mark.parametrize("fps", [50, 30, 7.5])
def test_decodes_to_exactly_the_frames_sent(tmp_path, count, fps):
    sent = [numbered_frame(i) for i in range(count)]
    path = write(tmp_path / "v.mp4", sent, fps=fps)
    assert path == tmp_path / "v.mp4"
    assert_same_video(path, sent)
    assert video_fps(path) == pytest.approx(fps)
    assert leftovers(tmp_path) == []


def test_other_presets_still_exact(tmp_path):
    sent = [numbered_frame(i) for i in range(30)]
    assert_same_video(write(tmp_path / "slow.mp4", sent, preset="medium", crf=18), sent)


def test_jax_float_and_grayscale_frames_are_converted(tmp_path):
    import jax.numpy as jnp

    base = [numbered_frame(i) for i in range(6)]
    gray = [f[..., 1] for f in base]
    sent = [
        jnp.asarray(base[0]),  # jax uint8
        base[1].astype(np.float32) / 255.0,  # float in [0, 1]
        gray[2],  # HxW
        gray[3][..., None],  # HxWx1
        (gray[4] / 255.0).astype(np.float64),  # float grayscale
        base[5],
    ]
    expected = [base[0], base[1], *[np.repeat(g[..., None], 3, -1) for g in gray[2:5]], base[5]]
    assert_same_video(write(tmp_path / "mixed.mp4", sent), expected)


def test_odd_sizes_are_padded_not_resized_with_one_warning(tmp_path):
    sent = [numbered_frame(i, height=63, width=95) for i in range(5)]
    with pytest.warns(UserWarning, match="63x95 .*padded to 64x96") as record:
        path = write(tmp_path / "odd.mp4", sent)
    assert len([w for w in record if "padded" in str(w.message)]) == 1
    decoded = decode(path)
    assert [d.shape for d in decoded] == [(64, 96, 3)] * 5
    for frame, original in zip(decoded, sent, strict=True):
        assert mae(frame[:63, :95], original) < 4  # the picture itself is not scaled
        assert mae(frame[63, :95], original[62]) < 8  # the added row repeats the edge


def test_writer_does_not_keep_a_reference_to_the_callers_buffer(tmp_path):
    buffer = numbered_frame(0)
    sent = []
    with VideoWriter(tmp_path / "reuse.mp4") as writer:
        for i in range(10):
            buffer[...] = numbered_frame(i)  # a renderer reusing one array
            writer.append(buffer)
            sent.append(buffer.copy())
    assert_same_video(tmp_path / "reuse.mp4", sent)


def test_no_frames_writes_nothing_and_warns(tmp_path):
    with pytest.warns(UserWarning, match="no frames; nothing was written"):
        assert write(tmp_path / "empty.mp4", []) is None
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "bad, expected",
    [
        (np.zeros((64, 96, 4), np.uint8), r"received \(64, 96, 4\) uint8"),
        (np.zeros((64, 96, 3), np.int64), r"received \(64, 96, 3\) int64"),
        (np.full((64, 96, 3), 1.5, np.float32), r"values in \[1.5, 1.5\]"),
        (np.full((64, 96, 3), np.nan, np.float32), r"values in \[nan, nan\]"),
        (np.zeros((2, 64, 96, 3), np.uint8), r"received \(2, 64, 96, 3\)"),
    ],
)
def test_unsupported_frames_are_rejected_with_what_was_expected(tmp_path, bad, expected):
    with pytest.raises(ValueError, match=expected) as info:
        write(tmp_path / "bad.mp4", [bad])
    assert str(tmp_path / "bad.mp4") in str(info.value)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def earlier_video(tmp_path) -> tuple[Path, list[np.ndarray]]:
    """A video written successfully before the failing one; it must stay intact."""
    sent = [numbered_frame(i) for i in range(12)]
    return write(tmp_path / "earlier.mp4", sent), sent


def assert_failed_cleanly(folder: Path, name: str, earlier) -> None:
    assert not (folder / name).exists(), "a file with the final name was created"
    assert leftovers(folder) == [], "the temporary file was left behind"
    assert_same_video(*earlier)


@pytest.mark.fault
def test_bad_frame_size_mid_video(tmp_path, earlier_video):
    path = tmp_path / "resized.mp4"
    writer = VideoWriter(path)
    for i in range(20):
        writer.append(numbered_frame(i))
    with pytest.raises(ValueError) as info:
        writer.append(numbered_frame(20, height=32))
    message = str(info.value)
    assert str(path) in message and "frame 20" in message
    assert "expected shape (64, 96, 3)" in message and "received (32, 96, 3) uint8" in message
    assert writer.closed
    assert_failed_cleanly(tmp_path, "resized.mp4", earlier_video)
    with pytest.raises(RuntimeError, match="already closed"):
        writer.append(numbered_frame(21))


def ffmpeg_children() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True) if "ffmpeg" in p.name()]


@pytest.mark.fault
@pytest.mark.parametrize("encoder", ["ffmpeg"], indirect=True)
def test_encoder_killed_mid_video(tmp_path, earlier_video):
    path = tmp_path / "killed.mp4"
    writer = VideoWriter(path)
    for i in range(10):
        writer.append(numbered_frame(i))
    (encoder,) = ffmpeg_children()
    encoder.send_signal(signal.SIGKILL)  # not reaped here: the writer must see the exit status
    with pytest.raises(VideoWriteError) as info:
        for i in range(10, 1000):  # the failure shows at the next append or at close
            writer.append(numbered_frame(i))
        writer.close()
    assert info.value.path == path
    assert str(path) in str(info.value) and "killed by SIGKILL" in str(info.value)
    assert_failed_cleanly(tmp_path, "killed.mp4", earlier_video)
    assert ffmpeg_children() == []


@pytest.mark.fault
@pytest.mark.parametrize("encoder", ["pyav"], indirect=True)
def test_in_process_encoder_failing_mid_video(tmp_path, earlier_video, monkeypatch):
    """PyAV raising while encoding (as it does for a codec or I/O error) discards the video."""
    real_write = video_writer._PyAVEncoder._write

    def failing_write(self, frame):
        if self._count == 5:
            raise OSError(28, "No space left on device (simulated in the encoder)")
        real_write(self, frame)

    monkeypatch.setattr(video_writer._PyAVEncoder, "_write", failing_write)
    path = tmp_path / "failing.mp4"
    with pytest.raises(VideoWriteError) as info:
        write(path, [numbered_frame(i) for i in range(40)])
    assert info.value.path == path
    assert "the pyav encoder failed" in str(info.value) and "No space left" in str(info.value)
    assert_failed_cleanly(tmp_path, "failing.mp4", earlier_video)


@pytest.mark.fault
def test_keyboard_interrupt_from_the_frame_source(tmp_path, earlier_video):
    def frames():
        for i in range(30):
            if i == 20:
                raise KeyboardInterrupt
            yield numbered_frame(i)

    with pytest.raises(KeyboardInterrupt):
        write(tmp_path / "interrupted.mp4", frames())
    assert_failed_cleanly(tmp_path, "interrupted.mp4", earlier_video)
    assert ffmpeg_children() == []


@pytest.mark.fault
def test_exception_inside_with_block_discards_the_video(tmp_path, earlier_video):
    with pytest.raises(ZeroDivisionError), VideoWriter(tmp_path / "boom.mp4") as writer:
        writer.append(numbered_frame(0))
        _ = 1 / 0
    assert_failed_cleanly(tmp_path, "boom.mp4", earlier_video)


@pytest.mark.fault
def test_disk_full_simulated_with_dev_full(tmp_path, earlier_video, monkeypatch):
    """Simulated: the temporary file is a symlink to /dev/full, so ffmpeg's own writes fail with
    ENOSPC from the kernel. The rest (ffmpeg's exit status, cleanup, message) is the real path."""
    route_to_dev_full(monkeypatch)
    with pytest.raises(VideoWriteError) as info:
        write(tmp_path / "full.mp4", [numbered_frame(i) for i in range(60)])
    assert "No space left on device" in str(info.value)
    assert str(tmp_path / "full.mp4") in str(info.value)
    assert_failed_cleanly(tmp_path, "full.mp4", earlier_video)


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 256 KiB tmpfs; needs root and permission to mount, else the test is skipped."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)],
        capture_output=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=True)


@pytest.mark.fault
def test_disk_full_on_a_real_tiny_filesystem(tiny_disk):
    rng = np.random.default_rng(0)
    small = [numbered_frame(i) for i in range(5)]
    earlier = (write(tiny_disk / "earlier.mp4", small), small)
    noise = (rng.integers(0, 256, (240, 320, 3), dtype=np.uint8) for _ in range(200))
    with pytest.raises(VideoWriteError) as info:  # ~200 incompressible frames do not fit
        write(tiny_disk / "full.mp4", noise, crf=0)
    assert "No space left on device" in str(info.value)
    assert_failed_cleanly(tiny_disk, "full.mp4", earlier)


@pytest.mark.fault
def test_failed_video_keeps_an_older_file_of_the_same_name(tmp_path):
    old = [numbered_frame(i) for i in range(8)]
    write(tmp_path / "same.mp4", old)
    with pytest.raises(ValueError):
        write(tmp_path / "same.mp4", [numbered_frame(0), np.zeros((3, 3, 3), np.uint8)])
    assert_same_video(tmp_path / "same.mp4", old)
    assert leftovers(tmp_path) == []


BAD_FPS = [
    ("30", TypeError, "fps must be a real number > 0, got str: '30'"),
    (None, TypeError, "got NoneType: None"),
    (True, TypeError, "got bool: True"),
    (0, ValueError, r"fps must be a finite number in \[1/1001, 1000000\].*got 0"),
    (-5.0, ValueError, "got -5.0"),
    (float("inf"), ValueError, "got inf"),
    (float("nan"), ValueError, "got nan"),
    (1e-4, ValueError, "got 0.0001"),  # ffmpeg: 'Unable to parse "framerate" option value "0"'
    (2e6, ValueError, "got 2000000.0"),  # ffmpeg would silently write 1,001,000 fps
]


@pytest.mark.parametrize(("fps", "error", "message"), BAD_FPS)
def test_fps_is_checked_at_construction(tmp_path, fps, error, message):
    with pytest.raises(error, match=message):
        VideoWriter(tmp_path / "a.mp4", fps=fps)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fps", [1 / 1001, 0.5, np.float32(12.5), np.int64(50), 1_000_000])
def test_extreme_valid_fps_round_trip(tmp_path, fps):
    with VideoWriter(tmp_path / "a.mp4", fps=fps) as writer:
        for index in range(3):
            writer.append(numbered_frame(index))
    assert len(decode(tmp_path / "a.mp4")) == 3


def test_invalid_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        VideoWriter(tmp_path / "missing" / "a.mp4")


def test_memory_stays_flat_while_streaming(tmp_path, encoder):
    """1,500 frames of 400x600 (1.08 GB raw) through the writer; peak RSS must grow < 50 MB."""
    script = textwrap.dedent(
        f"""
        import resource, numpy as np
        from fnrec import VideoWriter
        frame = np.zeros((400, 600, 3), np.uint8)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        path = {str(tmp_path / "long.mp4")!r}
        with VideoWriter(path, preset="ultrafast", encoder={encoder!r}) as writer:
            for i in range(1500):
                frame[:, :, 0] = i % 256
                writer.append(frame)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print((after - before) / 1024)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True,
        cwd=Path(__file__).parents[2], env={"PYTHONPATH": str(Path(__file__).parents[2])},
    )  # fmt: skip
    growth_mb = float(out.stdout.strip())
    assert growth_mb < 50, f"peak RSS grew by {growth_mb:.1f} MB"
    assert len(decode(tmp_path / "long.mp4")) == 1500


def test_finished_video_has_the_mode_a_plain_open_would_give(tmp_path):
    mask = os.umask(0o022)
    os.umask(mask)
    path = tmp_path / "mode.mp4"
    with VideoWriter(path, fps=10) as writer:
        writer.append(np.zeros((16, 16, 3), np.uint8))
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


@pytest.mark.parametrize("encoder", ENCODERS, indirect=True)
def test_starting_the_encoder_in_a_jax_process_raises_no_fork_warning(tmp_path, encoder):
    """JAX warns when its (threaded) process forks; starting ffmpeg must not fork it."""
    script = textwrap.dedent(
        f"""
        import warnings
        warnings.simplefilter("error")  # any warning, RuntimeWarning os.fork included, fails
        import jax, jax.numpy as jnp
        import numpy as np
        from fnrec import VideoWriter
        jax.block_until_ready(jax.jit(lambda x: x * 2)(jnp.ones(1000)))  # JAX's threads run
        for i in range(3):
            path = {str(tmp_path)!r} + f"/v{{i}}.mp4"
            with VideoWriter(path, fps=10, encoder={encoder!r}) as writer:
                writer.append(np.zeros((16, 16, 3), np.uint8))
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
    assert "os.fork" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v0.mp4", "v1.mp4", "v2.mp4"]


def test_close_without_waiting_finishes_in_the_background(tmp_path):
    sent = [numbered_frame(i) for i in range(40)]
    writer = VideoWriter(tmp_path / "bg.mp4")
    for frame in sent:
        writer.append(frame)
    assert writer.close(wait=False) is None and writer.closed
    writer.abort()  # a closed video is complete: abort leaves it alone
    assert writer.wait() == tmp_path / "bg.mp4" and writer.done
    assert writer.close() == tmp_path / "bg.mp4"  # closing again gives the same path
    assert_same_video(tmp_path / "bg.mp4", sent)
    assert leftovers(tmp_path) == []
    with pytest.raises(RuntimeError, match="still open"):
        VideoWriter(tmp_path / "open.mp4").wait()


@pytest.mark.fault
def test_a_background_failure_is_raised_by_wait(tmp_path, monkeypatch):
    route_to_dev_full(monkeypatch)
    writer = VideoWriter(tmp_path / "full.mp4")
    writer.append(numbered_frame(0))  # one frame: the encoder's first write comes at the end
    writer.close(wait=False)
    for _ in range(2):  # the same error each time it is asked for
        with pytest.raises(VideoWriteError, match="No space left on device"):
            writer.wait()
    assert writer.error is not None and writer.done
    assert not (tmp_path / "full.mp4").exists() and leftovers(tmp_path) == []


def test_paths_that_cannot_be_videos_are_named(tmp_path):
    (tmp_path / "folder.mp4").mkdir()
    with pytest.raises(IsADirectoryError, match="`path` must be a file name, got a folder"):
        VideoWriter(tmp_path / "folder.mp4")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match=r"must be in a folder, but .*file is a file"):
        VideoWriter(tmp_path / "file" / "a.mp4")


def test_a_folder_that_cannot_be_written_gives_a_video_write_error(tmp_path, monkeypatch):
    """A read-only folder: mkstemp's PermissionError (simulated when running as root, who may
    write anywhere; real otherwise) becomes a VideoWriteError naming the video."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    if os.geteuid() == 0:

        def refuse(**kwargs):
            raise PermissionError(13, "Permission denied", kwargs["dir"])

        monkeypatch.setattr(video_writer.tempfile, "mkstemp", refuse)
    writer = VideoWriter(folder / "a.mp4")
    with pytest.raises(VideoWriteError, match=r"cannot create a file in its folder.*Permission"):
        writer.append(numbered_frame(0))
    folder.chmod(0o700)
    assert list(folder.iterdir()) == []


def test_frames_converted_already_decode_to_the_frames_they_came_from(tmp_path):
    """Yuv420Frame planes (what export converts on the device) go to the encoder as they are."""
    sent = [numbered_frame(i) for i in range(20)]
    planes = np.asarray(jax.jit(jax.vmap(rgb_to_yuv420))(np.stack(sent)))
    path = write(tmp_path / "yuv.mp4", [Yuv420Frame(p) for p in planes], fps=25)
    assert_same_video(path, sent)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "frames, expected",
    [
        (
            [numbered_frame(0), Yuv420Frame(np.zeros((96, 96), np.uint8))],
            r"frame 1: expected a frame like the video's first \(rgb24, \(64, 96, 3\)\); "
            r"received a Yuv420Frame \(96, 96\) uint8",
        ),
        (
            [Yuv420Frame(np.zeros((96, 96), np.uint8)), numbered_frame(0)],
            r"frame 1: expected a Yuv420Frame \(as the video's first frame\); received "
            r"\(64, 96, 3\) uint8",
        ),
        (
            [Yuv420Frame(np.zeros((96, 96), np.uint8)), Yuv420Frame(np.zeros((48, 96), np.uint8))],
            r"frame 1: expected a frame like the video's first \(yuv420p, \(96, 96\)\)",
        ),
        (
            [Yuv420Frame(np.zeros((95, 96), np.uint8))],
            r"frame 0: expected Yuv420Frame planes, uint8 \[H \* 3 // 2, W\] with H and W even; "
            r"received \(95, 96\) uint8",
        ),
        ([Yuv420Frame(np.zeros((96, 95), np.uint8))], r"received \(96, 95\) uint8"),
        ([Yuv420Frame(np.zeros((96, 96), np.int16))], r"received \(96, 96\) int16"),
    ],
)
def test_a_video_takes_one_kind_of_frame(tmp_path, frames, expected):
    with pytest.raises(ValueError, match=expected) as info:
        write(tmp_path / "mixed.mp4", frames)
    assert str(tmp_path / "mixed.mp4") in str(info.value)
    assert list(tmp_path.iterdir()) == []
