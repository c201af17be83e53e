"""RecordVideo when videos fail or finish in the background: no step result and no other video lost.

Every fault is real where it can be: a renderer changing its frame size, the ffmpeg encoder
killed, writes to /dev/full; the exact step results are compared with an unrecorded twin env.
"""

from __future__ import annotations

import signal
import time
import warnings

import gymnasium as gym
import numpy as np
import psutil
import pytest
from conftest import decode, leftovers, route_to_dev_full

import fnrec

ENCODERS = ["ffmpeg", "pyav"]


@pytest.fixture(params=ENCODERS)
def encoder(request) -> str:
    if request.param == "pyav":
        pytest.importorskip("av")
    return request.param


def cartpole() -> gym.Env:
    return gym.make("CartPole-v1", render_mode="rgb_array")


class ShrinksAt(gym.Wrapper):
    """Renders a smaller frame at one step (a renderer bug): that frame fits no open video."""

    def __init__(self, env: gym.Env, step: int):
        super().__init__(env)
        self.at, self.count = step, 0

    def step(self, action):
        self.count += 1
        return self.env.step(action)

    def render(self):
        frame = self.env.render()
        return frame[:200] if self.count == self.at else frame


def run_both(recorded: gym.Env, steps: int, seed: int = 3):
    """Steps `recorded` and an unrecorded CartPole with the same actions; returns both results."""
    twin = cartpole()
    got, expected = [], []
    got.append(recorded.reset(seed=seed)[0])
    expected.append(twin.reset(seed=seed)[0])
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        action = int(rng.integers(0, 2))
        out, ref = recorded.step(action), twin.step(action)
        got.append(out[:4])
        expected.append(ref[:4])
        if out[2] or out[3]:
            got.append(recorded.reset()[0])
            expected.append(twin.reset()[0])
    return got, expected


def assert_same_results(got, expected) -> None:
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        if isinstance(a, tuple):
            np.testing.assert_array_equal(a[0], b[0])
            assert a[1:] == b[1:]
        else:
            np.testing.assert_array_equal(a, b)


@pytest.mark.fault
def test_a_bad_frame_mid_video_keeps_the_step_and_the_other_videos(tmp_path, encoder):
    env = fnrec.RecordVideo(
        ShrinksAt(cartpole(), 25),
        tmp_path,
        episode_trigger=lambda e: True,
        settings=fnrec.VideoSettings(encoder=encoder),
    )
    with pytest.warns(fnrec.VideoWriteWarning, match="frame .* expected shape") as record:
        got, expected = run_both(env, 60)
    assert_same_results(got, expected)  # the failing step's transition came back intact
    env.close()
    assert record[0].filename == __file__  # the warning points at the caller's line
    (failed,) = env.failed_videos
    assert isinstance(failed, fnrec.VideoWriteError) and not failed.path.exists()
    episodes = env.episode_id + 1
    assert len(env.saved_videos) == episodes - 1 and failed.path not in env.saved_videos
    for path in env.saved_videos:
        assert len(decode(path)) >= 2
    assert leftovers(tmp_path) == []


def ffmpeg_children() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True) if "ffmpeg" in p.name()]


@pytest.mark.fault
def test_encoder_killed_mid_video_keeps_the_step_and_later_videos(tmp_path):
    env = fnrec.RecordVideo(
        cartpole(),
        tmp_path,
        episode_trigger=lambda e: e == 0 or e >= 2,
        settings=fnrec.VideoSettings(encoder="ffmpeg"),
    )
    env.reset(seed=0)
    env.step(0)
    for child in ffmpeg_children():
        child.send_signal(signal.SIGKILL)
    with pytest.warns(fnrec.VideoWriteWarning, match="killed by SIGKILL"):
        got, expected = [], []
        twin = cartpole()
        twin.reset(seed=0)
        twin.step(0)
        for _ in range(80):
            out, ref = env.step(1), twin.step(1)
            got.append(out[:4])
            expected.append(ref[:4])
            if out[2] or out[3]:
                env.reset()
                twin.reset()
    assert_same_results(got, expected)
    env.close()
    assert [e.path.name for e in env.failed_videos] == ["rl-video-episode-0.mp4"]
    assert env.saved_videos and all(len(decode(p)) >= 2 for p in env.saved_videos)
    assert not (tmp_path / "rl-video-episode-0.mp4").exists() and leftovers(tmp_path) == []


@pytest.mark.fault
def test_a_failure_in_the_background_is_reported_and_loses_nothing_else(
    tmp_path, encoder, monkeypatch
):
    """Episode 1's video goes to /dev/full: its encoder fails while it finishes in the
    background, after the step that ended it returned; later steps or close() report it."""
    route_to_dev_full(monkeypatch, "episode-1-")
    env = fnrec.RecordVideo(
        cartpole(),
        tmp_path,
        episode_trigger=lambda e: True,
        settings=fnrec.VideoSettings(encoder=encoder),
    )
    with pytest.warns(fnrec.VideoWriteWarning, match="episode-1.mp4 was not written") as record:
        got, expected = run_both(env, 100)
        env.close()
    assert_same_results(got, expected)
    assert len([w for w in record if "episode-1.mp4" in str(w.message)]) == 1  # reported once
    assert "No space left on device" in str(env.failed_videos[0])
    names = [p.name for p in env.saved_videos]
    assert names == [f"rl-video-episode-{i}.mp4" for i in range(env.episode_id + 1) if i != 1]
    for path in env.saved_videos:
        assert len(decode(path)) >= 2
    assert leftovers(tmp_path) == []


def test_videos_finish_in_the_background_a_bounded_number_at_once(tmp_path, encoder):
    env = fnrec.RecordVideo(
        cartpole(),
        tmp_path,
        episode_trigger=lambda e: True,
        settings=fnrec.VideoSettings(encoder=encoder),
    )
    recorder = env.video_recorder
    env.reset(seed=0)
    most = 0
    for _ in range(300):
        _, _, terminated, truncated, _ = env.step(0)
        most = max(most, len(recorder._in_flight))
        if terminated or truncated:
            env.reset()
    assert 1 <= most <= 2
    env.close()  # waits for all of them
    assert len(recorder._in_flight) == 0
    episodes = env.episode_id + 1
    assert [p.name for p in env.saved_videos] == [
        f"rl-video-episode-{i}.mp4" for i in range(episodes)
    ]
    assert all(p.exists() for p in env.saved_videos) and leftovers(tmp_path) == []


def test_an_ended_video_completes_with_no_further_call(tmp_path, encoder):
    env = fnrec.RecordVideo(
        cartpole(),
        tmp_path,
        episode_trigger=lambda e: e == 0,
        settings=fnrec.VideoSettings(encoder=encoder),
    )
    env.reset(seed=0)
    while not any(env.step(0)[2:4]):
        pass
    path = tmp_path / "rl-video-episode-0.mp4"
    deadline = time.monotonic() + 30
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert path.exists() and len(decode(path)) >= 2
    env.close()


@pytest.mark.fault
def test_vector_video_failure_keeps_the_step(tmp_path, encoder):
    """The vector wrapper follows the same rule: the vector step result is never lost."""
    envs = gym.make_vec(
        "CartPole-v1", num_envs=2, vectorization_mode="sync", render_mode="rgb_array"
    )
    env = fnrec.wrappers.vector.RecordVideo(
        envs,
        tmp_path,
        episode_trigger=lambda e: True,
        settings=fnrec.VideoSettings(encoder=encoder),
    )
    env.reset(seed=0)
    recorder = env.video_recorder
    calls = {"n": 0}
    real = env._frame

    def shrinking(final=None):
        calls["n"] += 1
        frame = real(final)
        return frame[:100] if calls["n"] == 5 else frame

    env._frame = shrinking
    with pytest.warns(fnrec.VideoWriteWarning):
        for _ in range(40):
            obs, rewards, *_ = env.step(np.zeros(2, int))
            assert obs.shape == (2, 4) and rewards.shape == (2,)
    env.close()
    assert len(recorder.failed) == 1 and env.saved_videos
    assert leftovers(tmp_path) == []


@pytest.mark.fault
def test_exceptions_from_the_env_still_propagate_and_discard_only_its_video(tmp_path, encoder):
    class Boom(gym.Wrapper):
        def step(self, action):
            raise RuntimeError("the env broke")

    env = fnrec.RecordVideo(Boom(cartpole()), tmp_path, episode_trigger=lambda e: True)
    env.reset(seed=0)
    with pytest.raises(RuntimeError, match="the env broke"):
        env.step(0)
    env.close()
    assert env.saved_videos == [] and leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"preset": "fastest"}, ValueError, "preset must be one of ultrafast, .*got 'fastest'"),
        ({"preset": 3}, TypeError, "preset must be a str"),
        ({"crf": 99}, ValueError, r"crf must be an int from 0 \(lossless\) to 51, got 99"),
        ({"crf": 23.5}, TypeError, "crf must be an int .* got float: 23.5"),
        ({"encoder": "x264"}, ValueError, "encoder must be one of 'auto', 'pyav', 'ffmpeg'"),
        (
            {"encoder": "pyav", "fps": 5000},
            ValueError,
            'encoder="pyav" writes at most 1000 fps',
        ),
    ],
)
def test_writer_settings_are_checked_at_construction(tmp_path, kwargs, error, message):
    with pytest.raises(error, match=message):
        fnrec.RecordVideo(cartpole(), tmp_path / "v", settings=fnrec.VideoSettings(**kwargs))
    with pytest.raises(error, match=message):
        fnrec.VideoWriter(tmp_path / "a.mp4", **kwargs)
    assert not (tmp_path / "a.mp4").exists()


@pytest.mark.fault
def test_encoder_killed_while_the_video_finishes_in_the_background(tmp_path):
    """The episode has ended and its video is finishing when ffmpeg dies: reported at a later
    call or at close(), no file, and the episodes after it are recorded."""
    env = fnrec.RecordVideo(
        cartpole(),
        tmp_path,
        episode_trigger=lambda e: e in (0, 1),
        settings=fnrec.VideoSettings(encoder="ffmpeg"),
    )
    env.reset(seed=0)
    while not any(env.step(0)[2:4]):
        pass
    in_flight = env.video_recorder._in_flight
    if len(in_flight) == 1:  # still finishing (it nearly always is): kill its encoder now
        (writer,) = in_flight._writers
        writer._encoder.process.kill()
    with warnings.catch_warnings(record=True) as caught:  # at a later step or at close()
        warnings.simplefilter("always")
        env.reset()
        while not any(env.step(1)[2:4]):
            pass
        env.close()
    failed = [e.path.name for e in env.failed_videos]
    if failed:
        assert failed == ["rl-video-episode-0.mp4"]
        assert "killed by SIGKILL" in str(env.failed_videos[0])
        assert any(issubclass(w.category, fnrec.VideoWriteWarning) for w in caught)
        assert not (tmp_path / "rl-video-episode-0.mp4").exists()
    assert (tmp_path / "rl-video-episode-1.mp4") in env.saved_videos
    assert leftovers(tmp_path) == []


@pytest.mark.fault
def test_interrupt_while_videos_finish_in_the_background_keeps_them(tmp_path, encoder):
    class InterruptAfterEpisodes(gym.Wrapper):
        def __init__(self, env):
            super().__init__(env)
            self.resets = 0

        def reset(self, **kwargs):
            self.resets += 1
            if self.resets == 4:
                raise KeyboardInterrupt
            return self.env.reset(**kwargs)

    env = fnrec.RecordVideo(
        InterruptAfterEpisodes(cartpole()), tmp_path, episode_trigger=lambda e: True,
        settings=fnrec.VideoSettings(encoder=encoder),
    )  # fmt: skip
    env.reset(seed=0)
    with pytest.raises(KeyboardInterrupt):
        while True:
            if any(env.step(0)[2:4]):
                env.reset()
    env.close()
    assert [p.name for p in env.saved_videos] == [f"rl-video-episode-{i}.mp4" for i in range(3)]
    for path in env.saved_videos:
        assert len(decode(path)) >= 2
    assert leftovers(tmp_path) == []
