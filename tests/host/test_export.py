"""fnrec.export_videos / VideoStream / episode_log: real captured runs, real mp4s decoded back."""

from __future__ import annotations

import csv
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from capture_reference import ReferenceCapture
from conftest import assert_same_video, decode, leftovers, route_to_dev_full

import fnrec
from fnrec.host.captured import read_capture

# Rendering and encoding run long: their time is running, not compiling.
pytestmark = pytest.mark.xla_optimized

phys2d = pytest.importorskip("gymnasium.envs.phys2d.cartpole")
NUM_ENVS, NUM_STEPS, LIMIT = 4, 60, 20
render_batch = jax.jit(jax.vmap(fnrec.render.cartpole))


def run(capture, mode="same_step", seed=0):
    """A jitted CartPole rollout with capture; returns the final state and per-step outputs."""
    env = fnrec.adapters.FuncEnvAdapter(
        phys2d.CartPoleFunctional(),
        fnrec.Recording(fnrec.stats.episode_statistics(1000, mode), capture, LIMIT),
        num_envs=NUM_ENVS,
    )
    state = env.initial(jax.random.key(seed))

    def body(state, key):
        action_key, step_key = jax.random.split(key)
        out = env.step(state, jax.random.randint(action_key, (NUM_ENVS,), 0, 2), step_key)
        final = out.info.get("final_state", out.state.env_state)
        return out.state, (out.ended, final, out.state.env_state)

    keys = jax.random.split(jax.random.key(seed + 1), NUM_STEPS)
    first = state.env_state
    state, outputs = jax.jit(lambda s: jax.lax.scan(body, s, keys))(state)
    return first, state, jax.device_get(outputs)


def reference_episodes(first, outputs, trigger, watch=None, mode="same_step"):
    """The episodes a capture must keep, computed from the scan's own outputs."""
    ended, finals, afters = outputs
    reference = ReferenceCapture(NUM_ENVS, LIMIT, 1000, watch, trigger)
    reference.init(list(np.asarray(first)))
    for t in range(NUM_STEPS):
        step_ended = [tuple(np.asarray(f)[t, e].item() for f in ended) for e in range(NUM_ENVS)]
        reference.step(step_ended, list(finals[t]), list(afters[t]), mode)
    return reference.stored


def sent_frames(states) -> list[np.ndarray]:
    return list(np.asarray(render_batch(jnp.asarray(np.stack(states)))))


def test_export_global_ids_rendered_on_device(tmp_path):
    trigger = fnrec.schedules.every(3)
    capture = fnrec.capture.episode_capture(LIMIT, 64, watch=None, trigger=trigger)
    first, state, outputs = run(capture)
    expected = reference_episodes(first, outputs, trigger)
    assert len(expected) >= 3
    result = fnrec.export_videos(state.capture, tmp_path, fnrec.render.cartpole, fps=50)
    assert (result.dropped_full, result.dropped_too_long) == (0, 0)
    assert [v.episode_id for v in result.videos] == [e["episode_id"] for e in expected]
    assert all(v.episode_id % 3 == 0 for v in result.videos)
    for video, want in zip(result.videos, expected, strict=True):
        assert video.path == tmp_path / f"rl-video-episode-{want['episode_id']}.mp4"
        assert (video.env, video.length, video.terminated) == (
            want["env"], want["length"], want["terminated"],
        )  # fmt: skip
        assert video.episode_return == pytest.approx(want["episode_return"])
        assert video.length == want["episode_return"]  # CartPole: reward 1 per step
        assert_same_video(video.path, sent_frames(want["frames"]))
    assert leftovers(tmp_path) == []
    # The ids are those of the shared queue (Gymnasium's vector order): the log agrees.
    log = fnrec.episode_log(outputs[0])
    for video in result.videos:
        assert log.env[video.episode_id] == video.env
        assert log.length[video.episode_id] == video.length


def test_export_watched_env_with_host_renderer(tmp_path):
    capture = fnrec.capture.episode_capture(LIMIT, 8, watch=(2,), trigger=lambda i: i < 2)
    first, state, outputs = run(capture, mode="next_step")
    expected = reference_episodes(first, outputs, lambda i: i < 2, (2,), "next_step")
    assert [e["episode_id"] for e in expected] == [0, 1]
    with fnrec.FuncEnvRenderer(phys2d.CartPoleFunctional()) as renderer:
        result = fnrec.export_videos(
            state.capture, tmp_path, renderer, on_device=False, name_prefix="eval", fps=50
        )
        pygame_frames = [[renderer(s) for s in e["frames"]] for e in expected]
    assert [v.path.name for v in result.videos] == ["eval-episode-0.mp4", "eval-episode-1.mp4"]
    for video, frames in zip(result.videos, pygame_frames, strict=True):
        assert video.env == 2
        assert_same_video(video.path, frames)


def test_captured_frames_need_no_renderer(tmp_path, capsys):
    capture = fnrec.capture.episode_capture(
        LIMIT, 2, watch=(0,), trigger=lambda i: i >= 0, content=fnrec.render.cartpole
    )
    first, state, outputs = run(capture)
    expected = reference_episodes(first, outputs, lambda i: True, (0,))[:2]
    assert (
        read_capture(state.capture).dropped_full
        == len(reference_episodes(first, outputs, lambda i: True, (0,))) - 2
    )
    result = fnrec.export_videos(state.capture, tmp_path, fps=50, progress=True)
    assert len(result.videos) == 2
    err = capsys.readouterr().err  # not a terminal: whole lines, one per video here, no \r
    assert "\r" not in err
    lines = err.splitlines()
    assert [line.split(" (")[0] for line in lines] == [
        "fnrec export_videos: 1/2 videos",
        "fnrec export_videos: 2/2 videos",
    ]
    frames = [v.length + 1 for v in result.videos]
    assert lines[0].split("s, ")[1].startswith(f"{frames[0]} frames (")
    assert lines[1].split("s, ")[1].startswith(f"{sum(frames)} frames (")
    for video, want in zip(result.videos, expected, strict=True):
        assert_same_video(video.path, sent_frames(want["frames"]))


def test_vmapped_capture_exports_every_env(tmp_path):
    """jax.vmap over unbatched adapters: one capture per env, ids are each env's own count."""
    capture = fnrec.capture.episode_capture(LIMIT, 4, trigger=lambda i: i == 1)
    env = fnrec.adapters.FuncEnvAdapter(
        phys2d.CartPoleFunctional(), fnrec.Recording(capture=capture, max_episode_steps=LIMIT)
    )
    state = jax.vmap(env.initial)(jax.random.split(jax.random.key(0), 3))

    def body(state, key):
        out = jax.vmap(env.step)(state, jnp.zeros(3, jnp.int32), jax.random.split(key, 3))
        return out.state, out.ended

    state, ended = jax.jit(
        lambda s: jax.lax.scan(body, s, jax.random.split(jax.random.key(1), 40))
    )(state)
    result = fnrec.export_videos(state.capture, tmp_path, fnrec.render.cartpole)
    assert sorted((v.env, v.episode_id) for v in result.videos) == [(0, 1), (1, 1), (2, 1)]
    assert sorted(v.path.name for v in result.videos) == [
        f"rl-video-env-{e}-episode-1.mp4" for e in range(3)
    ]
    for video in result.videos:
        lengths = np.asarray(ended.length)[:, video.env][np.asarray(ended.mask)[:, video.env]]
        assert video.length == lengths[1]
        assert len(decode(video.path)) == video.length + 1


@pytest.mark.parametrize(
    "convert, size",
    [
        (lambda frame: frame, (400, 600)),  # converted to yuv420p on the device
        (lambda frame: frame[:399, :597], (399, 597)),  # odd: the writer pads it
        (lambda frame: frame.astype(jnp.float32) / 255, (400, 600)),  # float: the writer scales
    ],
    ids=["uint8", "odd-size", "float"],
)
def test_every_kind_of_rendered_frame_exports_exactly(tmp_path, convert, size):
    """Frames of any kind the writer takes come out right, converted on the device or not."""
    capture = fnrec.capture.episode_capture(LIMIT, 2, watch=None, trigger=lambda i: i < 2)
    first, state, outputs = run(capture)
    expected = reference_episodes(first, outputs, lambda i: i < 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fnrec.export_videos(
            state.capture, tmp_path, lambda s: convert(fnrec.render.cartpole(s)), chunk=8
        )
    padded = [w for w in caught if "padded" in str(w.message)]
    assert len(padded) == (2 if size == (399, 597) else 0)
    for video, want in zip(result.videos, expected, strict=True):
        sent = [frame[: size[0], : size[1]] for frame in sent_frames(want["frames"])]
        assert decode(video.path)[0].shape[:2] == (400, 600 if size[1] == 600 else 598)
        assert_same_video(video.path, sent)


def test_streaming_writes_the_same_videos(tmp_path):
    trigger = fnrec.schedules.every(2)
    stored = fnrec.capture.episode_capture(LIMIT, 64, watch=None, trigger=trigger)
    _, state, _ = run(stored)
    result = fnrec.export_videos(state.capture, tmp_path / "stored", fnrec.render.cartpole)
    with fnrec.VideoStream(tmp_path / "streamed", fnrec.render.cartpole) as stream:
        capture = fnrec.capture.episode_capture(LIMIT, watch=None, trigger=trigger, stream=stream)
        run(capture)
    streamed = stream.close()
    assert len(streamed) == len(result.videos) >= 3
    for a, b in zip(sorted(result.videos), sorted(streamed), strict=True):
        assert a._replace(path=None) == b._replace(path=None) and a.path.name == b.path.name
        assert_same_video(b.path, decode(a.path))


@pytest.mark.fault
def test_streaming_failure_warns_and_keeps_the_other_videos(tmp_path):
    """A renderer that fails on one episode: the run goes on, the others are written."""

    def render(state):
        return fnrec.render.cartpole(state)

    calls = []

    def picky(state):
        calls.append(1)
        if len(calls) == 1:
            return np.zeros((3, 3, 7), np.uint8)  # not a frame
        return np.asarray(render(jnp.asarray(state)))

    stream = fnrec.VideoStream(tmp_path, picky, on_device=False)
    capture = fnrec.capture.episode_capture(
        LIMIT, watch=None, trigger=lambda i: i < 3, stream=stream
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run(capture)
        with pytest.raises(ValueError, match=r"rl-video-episode-0\.mp4"):
            stream.close()
    assert any("episode 0" in str(w.message) for w in caught)
    assert sorted(p.name for p in tmp_path.glob("*.mp4")) == [
        "rl-video-episode-1.mp4", "rl-video-episode-2.mp4",
    ]  # fmt: skip
    assert leftovers(tmp_path) == []


def test_export_errors_name_the_argument(tmp_path):
    capture = fnrec.capture.episode_capture(LIMIT, 4, trigger=lambda i: i >= 0)
    _, state, _ = run(capture)
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError, match="video_folder"):
        fnrec.export_videos(state.capture, tmp_path / "file", fnrec.render.cartpole)
    with pytest.raises(ValueError, match="name_prefix must be a non-empty"):
        fnrec.export_videos(state.capture, tmp_path, fnrec.render.cartpole, name_prefix="")
    with pytest.raises(ValueError, match="fps"):
        fnrec.export_videos(state.capture, tmp_path, fnrec.render.cartpole, fps=0)
    with pytest.raises(TypeError, match="`state` must be a CaptureState"):
        fnrec.export_videos(state.stats, tmp_path, fnrec.render.cartpole)
    with pytest.raises(ValueError, match="captured items must be frames"):
        fnrec.export_videos(
            fnrec.capture.episode_capture(3, trigger=lambda i: i >= 0)
            .init({"a": jnp.zeros(2), "b": jnp.zeros(2)}, 2)
            ._replace(num_stored=jnp.int32(1)),
            tmp_path,
        )
    with pytest.raises(ValueError, match="needs a ranked store"):
        fnrec.export_videos(state.capture, tmp_path, fnrec.render.cartpole, rank_in_name=True)
    assert list(tmp_path.glob("*.mp4")) == []


def test_a_ranked_store_names_each_video_with_its_rank(tmp_path):
    capture = fnrec.capture.episode_capture(
        LIMIT, 3, watch=None, keep=fnrec.capture.worst("length")
    )
    _, state, _ = run(capture)
    kept = sorted(read_capture(state.capture).episodes, key=lambda e: (e.length, e.episode_id))
    result = fnrec.export_videos(
        state.capture, tmp_path, fnrec.render.cartpole, fps=50, rank_in_name=True
    )
    names = {v.path.name for v in result.videos}
    assert names == {f"rl-video-rank-{k}-episode-{e.episode_id}.mp4" for k, e in enumerate(kept, 1)}
    assert sorted(p.name for p in tmp_path.glob("*.mp4")) == sorted(names)


@pytest.mark.fault
def test_an_earlier_runs_videos_are_never_replaced_unless_asked(tmp_path):
    capture = fnrec.capture.episode_capture(LIMIT, 4, trigger=lambda i: i < 2)
    _, state, _ = run(capture)
    (tmp_path / "rl-video-episode-1.mp4").write_bytes(b"earlier run")
    with pytest.raises(FileExistsError, match=r"holds 1 video\(s\) .*rl-video-episode-1.mp4"):
        fnrec.export_videos(state.capture, tmp_path, fnrec.render.cartpole)
    with pytest.raises(FileExistsError, match="pass overwrite=True to replace them"):
        fnrec.VideoStream(tmp_path, fnrec.render.cartpole)
    assert (tmp_path / "rl-video-episode-1.mp4").read_bytes() == b"earlier run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rl-video-episode-1.mp4"]
    result = fnrec.export_videos(state.capture, tmp_path, fnrec.render.cartpole, overwrite=True)
    assert [v.path.name for v in result.videos] == [
        "rl-video-episode-0.mp4",
        "rl-video-episode-1.mp4",
    ]
    assert len(decode(tmp_path / "rl-video-episode-1.mp4")) == result.videos[1].length + 1


def test_a_host_renderer_on_the_device_is_named(tmp_path):
    capture = fnrec.capture.episode_capture(LIMIT, 4, trigger=lambda i: i < 1)
    _, state, _ = run(capture)
    with (
        fnrec.FuncEnvRenderer(phys2d.CartPoleFunctional()) as renderer,
        pytest.raises(
            ValueError, match=r"FuncEnvRenderer, which draws on the host.*on_device=False"
        ),
    ):
        fnrec.export_videos(state.capture, tmp_path, renderer)
    with pytest.raises(TypeError, match=r"`render` is not jittable.*pass on_device=False"):
        fnrec.export_videos(state.capture, tmp_path, lambda s: np.asarray(s))
    assert list(tmp_path.glob("*.mp4")) == []


def test_episode_log_matches_the_shared_queue_and_writes_csv(tmp_path):
    _, state, (ended, _, _) = run(None)
    log = fnrec.episode_log(ended)
    queues = fnrec.stats.queues(state.stats)
    assert len(log.episode_id) == fnrec.stats.episode_count(state.stats) > 5
    np.testing.assert_array_equal(log.episode_id, np.arange(len(log.episode_id)))
    np.testing.assert_array_equal(log.length, queues["length_queue"])
    np.testing.assert_array_equal(log.episode_return, queues["return_queue"])
    np.testing.assert_array_equal(log.terminated, queues["terminated_queue"])
    assert (np.diff(log.step) >= 0).all()
    path = log.write_csv(tmp_path / "episodes.csv")
    with path.open() as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["episode", "env", "return", "length", "terminated"]
    assert len(rows) == len(log.episode_id) + 1
    assert [int(r[1]) for r in rows[1:]] == log.env.tolist()
    assert [float(r[2]) for r in rows[1:]] == log.episode_return.tolist()
    assert {r[4] for r in rows[1:]} <= {"0", "1"}
    offset = fnrec.episode_log(ended, first_episode=100)
    assert offset.episode_id[0] == 100
    with pytest.raises(TypeError, match="`ended` must be the EpisodeEnded"):
        fnrec.episode_log(state.stats)
    with pytest.raises(ValueError, match="`first_episode` must be an int >= 0"):
        fnrec.episode_log(ended, first_episode=-1)


@pytest.mark.parametrize("encoder", ["ffmpeg", "pyav"])
def test_forty_episodes_exported_in_order_each_exact(tmp_path, encoder):
    """Many videos in a row, each finishing in the background while the next one renders."""
    if encoder == "pyav":
        pytest.importorskip("av")
    trigger = fnrec.schedules.every(1)
    capture = fnrec.capture.episode_capture(LIMIT, 64, watch=None, trigger=trigger)
    first, state, outputs = run(capture)
    expected = reference_episodes(first, outputs, trigger)[:40]
    assert len(expected) >= 10
    result = fnrec.export_videos(
        state.capture,
        tmp_path,
        fnrec.render.cartpole,
        fps=50,
        settings=fnrec.VideoSettings(encoder=encoder),
    )
    assert [v.episode_id for v in result.videos][: len(expected)] == [
        e["episode_id"] for e in expected
    ]
    for video, want in zip(result.videos, expected, strict=False):
        assert_same_video(video.path, sent_frames(want["frames"]))
    assert leftovers(tmp_path) == []


@pytest.mark.fault
def test_export_failure_keeps_the_videos_before_it_and_starts_no_more(tmp_path, monkeypatch):

    trigger = fnrec.schedules.every(1)
    capture = fnrec.capture.episode_capture(LIMIT, 64, watch=None, trigger=trigger)
    _, state, _ = run(capture)
    route_to_dev_full(monkeypatch, "episode-3-")
    with pytest.raises(fnrec.VideoWriteError, match=r"rl-video-episode-3\.mp4.*No space left"):
        fnrec.export_videos(state.capture, tmp_path, fnrec.render.cartpole, fps=50)
    names = sorted(p.name for p in tmp_path.glob("*.mp4"))
    assert {"rl-video-episode-0.mp4", "rl-video-episode-1.mp4", "rl-video-episode-2.mp4"} <= set(
        names
    )
    assert "rl-video-episode-3.mp4" not in names and len(names) <= 6  # at most 2 in flight
    for name in names:
        assert len(decode(tmp_path / name)) >= 2
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("on_device", [True, False], ids=["device", "host"])
def test_captured_states_holding_typed_keys_read_and_export(tmp_path, on_device):
    from fnrec.adapters import core

    def env_step(s, a, k):
        x, key = s
        return core.EnvStep((x + 1, jax.random.split(key)[0]), x + 1.0, 1.0, x + 1 >= 3, False, {})

    fns = core.vmapped(
        core.EnvFns(env_step, lambda k: core.EnvReset((jnp.zeros((), jnp.int32), k), 0.0)), 2
    )
    recording = core.Recording(fnrec.stats.episode_statistics(), fnrec.capture.episode_capture(5))
    state = recording.init(fns.reset(jax.random.key(0)).env_state, 2)
    for t in range(8):
        state = recording.step(fns, state, jnp.zeros(2), jax.random.key(t)).state
    episodes = read_capture(state.capture).episodes
    assert [e.length for e in episodes] == [3, 3]
    assert jnp.issubdtype(episodes[0].items[1].dtype, jax.dtypes.prng_key)  # kept as a key
    np.testing.assert_array_equal(episodes[0].items[0], [0, 1, 2, 3])

    def render(s):
        xp = jnp if on_device else np
        return xp.full((16, 16, 3), s[0] * 60, xp.uint8)

    result = fnrec.export_videos(
        state.capture, tmp_path, render, on_device=on_device, settings=fnrec.VideoSettings(crf=0)
    )
    assert [v.length for v in result.videos] == [3, 3]
    frames = decode(result.videos[0].path)
    assert len(frames) == 4
    np.testing.assert_allclose([f.mean() for f in frames], [0, 60, 120, 180], atol=3)
