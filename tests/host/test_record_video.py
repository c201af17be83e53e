"""RecordVideo on Gymnasium's CartPole (pygame) and on SyncVectorEnv in every autoreset mode."""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np
import pytest
from conftest import assert_same_video, decode, leftovers, video_fps
from gymnasium.vector import AutoresetMode

import fnrec
from fnrec.wrappers.vector import RecordVideo as VectorRecordVideo

pytestmark = pytest.mark.gymnasium_api  # CI runs these again on Gymnasium 1.3

# near-exact frames so that neighbouring CartPole frames are told apart
LOSSLESS = {"settings": fnrec.VideoSettings(crf=0)}


def cartpole(**kwargs) -> gym.Env:
    return gym.make("CartPole-v1", render_mode="rgb_array", **kwargs)


def vector_cartpole(mode: AutoresetMode, num_envs: int = 3) -> gym.vector.VectorEnv:
    return gym.make_vec(
        "CartPole-v1", num_envs=num_envs, vectorization_mode="sync", render_mode="rgb_array",
        vector_kwargs={"autoreset_mode": mode},
    )  # fmt: skip


def replica_episodes(seed: int, actions: list[int], autoreset: AutoresetMode | None):
    """Frames of each episode of one CartPole fed `actions`, reset as a sub-env would be.

    Returns a list of episodes, each [reset frame, frame after each step ..., final frame].
    """
    env = cartpole()
    env.reset(seed=seed)
    episodes, current, pending = [], [env.render()], False
    for action in actions:
        if pending:  # next-step autoreset: this step only resets
            env.reset()
            current, pending = [env.render()], False
            continue
        _, _, terminated, truncated, _ = env.step(action)
        current.append(env.render())
        if terminated or truncated:
            episodes.append(current)
            if autoreset == AutoresetMode.NEXT_STEP:
                pending, current = True, None
            else:
                env.reset()
                current = [env.render()]
    if current is not None:
        episodes.append(current)
    env.close()
    return episodes


def test_cartpole_every_episode_recorded_with_final_frame(tmp_path):
    env = fnrec.RecordVideo(cartpole(), tmp_path, episode_trigger=lambda e: True, **LOSSLESS)
    rng = np.random.default_rng(0)
    actions = [int(a) for a in rng.integers(0, 2, 120)]
    env.reset(seed=7)
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    env.close()
    episodes = replica_episodes(7, actions, autoreset=AutoresetMode.SAME_STEP)
    assert len(episodes) >= 3
    names = [f"rl-video-episode-{i}.mp4" for i in range(len(episodes))]
    assert env.saved_videos == [tmp_path / name for name in names]
    for path, frames in zip(env.saved_videos, episodes, strict=True):
        assert_same_video(path, frames)  # L steps -> L + 1 frames, the final one included
    assert video_fps(env.saved_videos[0]) == 50  # CartPole's metadata["render_fps"]


def test_whole_episode_video_is_saved_when_the_episode_ends(tmp_path):
    env = fnrec.RecordVideo(cartpole(), tmp_path, episode_trigger=lambda e: True)
    env.reset(seed=1)
    done = False
    while not done:
        _, _, terminated, truncated, _ = env.step(0)
        done = terminated or truncated
    assert not env.recording  # ended at once; it finishes in the background, with no more calls
    deadline = time.monotonic() + 30
    while not (tmp_path / "rl-video-episode-0.mp4").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (tmp_path / "rl-video-episode-0.mp4").exists()
    env.close()
    assert env.saved_videos == [tmp_path / "rl-video-episode-0.mp4"]


@pytest.mark.parametrize("length", [1, 5, 13])
def test_video_length_keeps_exactly_that_many_frames(tmp_path, length):
    env = fnrec.RecordVideo(
        cartpole(), tmp_path, step_trigger=lambda s: s % 40 == 0, video_length=length
    )
    env.reset(seed=3)
    for step in range(145):  # the video started at step 120 is complete before close()
        _, _, terminated, truncated, _ = env.step(step % 2)
        if terminated or truncated:
            env.reset()
    env.close()
    names = [f"rl-video-step-{s}.mp4" for s in (0, 40, 80, 120)]
    assert [p.name for p in env.saved_videos] == names
    for path in env.saved_videos:
        assert len(decode(path)) == length  # Gymnasium keeps length + 1


def test_close_saves_the_open_video_and_closes_the_env(tmp_path):
    env = fnrec.RecordVideo(cartpole(), tmp_path, episode_trigger=lambda e: True)
    env.reset(seed=0)
    for _ in range(4):
        env.step(0)
    assert env.recording
    env.close()
    assert len(decode(tmp_path / "rl-video-episode-0.mp4")) == 5
    assert leftovers(tmp_path) == []


def test_same_file_names_as_gymnasium_record_video(tmp_path):
    def run(wrapper, folder):
        env = wrapper(cartpole(), str(folder), step_trigger=lambda s: s % 25 == 0, video_length=7)
        env.reset(seed=5)
        for step in range(80):
            _, _, terminated, truncated, _ = env.step(step % 2)
            if terminated or truncated:
                env.reset()
        env.close()
        return sorted(p.name for p in folder.iterdir())

    names = run(gym.wrappers.RecordVideo, tmp_path / "gym")
    assert names == run(fnrec.RecordVideo, tmp_path / "ours")
    assert names == [f"rl-video-step-{s}.mp4" for s in (0, 25, 50, 75)]


def test_overwrite_warning_and_bad_render_mode(tmp_path):
    fnrec.save_video([np.zeros((8, 8, 3), np.uint8)], tmp_path, episode_trigger=lambda e: True)
    with pytest.warns(UserWarning, match="Overwriting existing videos"):
        fnrec.RecordVideo(cartpole(), tmp_path).close()
    with pytest.raises(
        ValueError, match=r"such as rgb_array \(render_mode='rgb_array'\); got render_mode=None"
    ):
        fnrec.RecordVideo(gym.make("CartPole-v1"), tmp_path / "x")


class InterruptAt(gym.Wrapper):
    """Raises KeyboardInterrupt from env.step at a given step, as Ctrl-C would."""

    def __init__(self, env: gym.Env, step: int):
        super().__init__(env)
        self.at, self.count = step, 0

    def step(self, action):
        self.count += 1
        if self.count == self.at:
            raise KeyboardInterrupt
        return self.env.step(action)


def test_keyboard_interrupt_mid_episode_discards_only_that_video(tmp_path):
    env = fnrec.RecordVideo(InterruptAt(cartpole(), 30), tmp_path, episode_trigger=lambda e: True)
    env.reset(seed=2)
    with pytest.raises(KeyboardInterrupt):
        for _ in range(100):
            _, _, terminated, truncated, _ = env.step(0)
            if terminated or truncated:
                env.reset()
    assert not env.recording
    interrupted = tmp_path / f"rl-video-episode-{env.episode_id}.mp4"
    env.close()  # waits for the earlier videos, still finishing in the background
    saved = list(env.saved_videos)
    assert saved == [tmp_path / f"rl-video-episode-{i}.mp4" for i in range(env.episode_id)]
    assert not interrupted.exists() and leftovers(tmp_path) == []
    for path in saved:
        assert len(decode(path)) > 1


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_vector_counts_episodes_of_the_recorded_env(tmp_path, mode):
    with pytest.raises(TypeError, match=r"use fnrec\.wrappers\.vector\.RecordVideo"):
        fnrec.RecordVideo(vector_cartpole(mode), tmp_path)  # the single-env wrapper
    envs = VectorRecordVideo(
        vector_cartpole(mode), tmp_path, episode_trigger=lambda e: True, env_index=1, **LOSSLESS
    )
    rng = np.random.default_rng(1)
    actions = rng.integers(0, 2, (150, 3))
    envs.reset(seed=10)
    for row in actions:
        envs.step(row)
    envs.close()
    episodes = replica_episodes(11, [int(a) for a in actions[:, 1]], autoreset=mode)
    assert len(episodes) >= 4
    names = [f"rl-video-episode-{i}.mp4" for i in range(len(episodes))]
    assert envs.saved_videos == [tmp_path / name for name in names]
    for path, frames in zip(envs.saved_videos, episodes, strict=True):
        assert_same_video(path, frames)  # includes the final frame, also in same-step mode
    assert envs.env.unwrapped.envs[1].__class__.__name__ != "_FinalFrameTap"  # unwrapped again


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_vector_video_length_is_exact(tmp_path, mode):
    envs = VectorRecordVideo(vector_cartpole(mode), tmp_path, video_length=9,
                             episode_trigger=lambda e: e % 2 == 0)  # fmt: skip
    envs.reset(seed=0)
    for step in range(200):
        envs.step(np.full(3, step % 2))
    envs.close()
    assert len(envs.saved_videos) >= 2
    for path in envs.saved_videos:
        assert len(decode(path)) == 9


def test_vector_tiled_grid(tmp_path):
    envs = VectorRecordVideo(vector_cartpole(AutoresetMode.SAME_STEP, num_envs=2), tmp_path,
                             episode_trigger=lambda e: e == 0, tile=True)  # fmt: skip
    envs.reset(seed=0)
    for _ in range(40):
        envs.step(np.zeros(2, int))
    envs.close()
    frames = decode(tmp_path / "rl-video-episode-0.mp4")
    assert frames[0].shape == (400, 1200, 3)
    assert len(frames) > 1


def test_vector_disabled_autoreset_with_reset_mask(tmp_path):
    envs = VectorRecordVideo(vector_cartpole(AutoresetMode.DISABLED, num_envs=2), tmp_path,
                             episode_trigger=lambda e: True, env_index=1)  # fmt: skip
    envs.reset(seed=0)
    lengths, length = [], 0
    for _ in range(120):
        _, _, terminated, truncated, _ = envs.step(np.zeros(2, int))
        length += 1
        done = terminated | truncated
        if done[1]:
            lengths.append(length)
            length = 0
        if done.any():
            envs.reset(options={"reset_mask": done})
    envs.close()
    assert len(lengths) >= 3
    decoded = [len(decode(p)) for p in envs.saved_videos[: len(lengths)]]
    assert decoded == [n + 1 for n in lengths]
    assert envs.episode_id == len(lengths)


def test_vector_env_index_must_exist(tmp_path):
    with pytest.raises(ValueError, match=r"env_index must be in \[0, 3\), got 3"):
        VectorRecordVideo(vector_cartpole(AutoresetMode.NEXT_STEP), tmp_path, env_index=3)
    for index in (1.5, True, "1"):
        with pytest.raises(TypeError, match=r"env_index must be an int in \[0, 3\), got"):
            VectorRecordVideo(vector_cartpole(AutoresetMode.NEXT_STEP), tmp_path, env_index=index)


def cartpole_renderer():
    """CartPoleFunctional's own renderer: 4-float state -> image (the reference renderer)."""
    from gymnasium.envs.phys2d.cartpole import CartPoleFunctional

    func_env = CartPoleFunctional()
    render_state = [func_env.render_init()]

    def image(state) -> np.ndarray:
        render_state[0], frame = func_env.render_image(
            np.asarray(state), render_state[0], func_env.default_params
        )
        return np.array(frame)

    return image


def functional_vector_run(mode: str, steps: int, seed: int, wrap):
    """Steps a FunctionalVectorEnv(CartPole, 4) wrapped by `wrap`, keeping obs and infos.

    CartPole's observation is its state, so frames rendered from observations (and from
    `info["final_obs"]`) are an independent reference for what the video must show.
    """
    from gymnasium.envs.phys2d.cartpole import CartPoleFunctional

    base = fnrec.FunctionalVectorEnv(
        CartPoleFunctional(),
        4,
        fnrec.Recording(fnrec.stats.episode_statistics(autoreset_mode=mode)),
        render_mode="rgb_array",
    )
    envs = wrap(base)
    obs, _ = envs.reset(seed=seed)
    history = [(obs, None, {})]
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        obs, _, terminated, truncated, info = envs.step(rng.integers(0, 2, 4))
        history.append((obs, terminated | truncated, info))
    envs.close()
    return envs, history


def reference_episodes(history, mode: str, view):
    """Per episode of env 1: (length, frames), each frame `view(states of all envs, done)`.

    `view(states, done)` renders the recorded view of one capture; `done` marks the envs whose
    final state replaces their current one (same-step autoreset).
    """
    obs0 = history[0][0]
    episodes, current, pending = [], [view(obs0, np.zeros(4, bool))], False
    for obs, done, info in history[1:]:
        if pending:  # next-step: env 1 resets on this step
            current, pending = [view(obs, np.zeros(4, bool))], False
            continue
        if mode == "same_step" and done.any():
            finals = np.where(done[:, None], np.stack(list(info["final_obs"])), obs)
            current.append(view(finals, done))
            if done[1]:
                episodes.append((len(current) - 1, current))
                current = [view(obs, np.zeros(4, bool))]
            continue
        current.append(view(obs, done))
        if done[1]:
            episodes.append((len(current) - 1, current))
            pending, current = mode == "next_step", [] if mode == "next_step" else current
    return episodes


@pytest.mark.parametrize("mode", ["next_step", "same_step"])
@pytest.mark.parametrize("tiled", [False, True])
def test_functional_vector_env_is_recorded_with_final_frames(tmp_path, mode, tiled, recwarn):
    """fnrec's own vector env: right frame size, L+1 frames per L-step episode, final included."""
    image = cartpole_renderer()

    def view(states, done):
        if not tiled:
            return image(states[1])
        return fnrec.host.frames.tile([image(s) for s in states])

    def wrap(base):
        return VectorRecordVideo(base, tmp_path, episode_trigger=lambda e: True, env_index=1,
                                 tile=tiled, **LOSSLESS)  # fmt: skip

    envs, history = functional_vector_run(mode, 70, seed=4, wrap=wrap)
    assert not [w for w in recwarn if "final frame" in str(w.message)]
    episodes = reference_episodes(history, mode, view)
    lengths = [int(info["episode"]["l"][1]) for _, d, info in history[1:] if d[1]]
    assert len(episodes) >= 2 and [n for n, _ in episodes] == lengths
    size = (800, 1200, 3) if tiled else (400, 600, 3)
    for (length, frames), path in zip(episodes, envs.saved_videos, strict=False):
        decoded = decode(path)
        assert len(decoded) == length + 1 and decoded[0].shape == size
        assert_same_video(path, frames)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"fps": "30"}, TypeError, "fps must be a real number > 0, got str: '30'"),
        ({"fps": float("inf")}, ValueError, "fps must be a finite number.*got inf"),
        ({"fps": -1}, ValueError, "fps must be a finite number.*got -1"),
        ({"fps": 1e-6}, ValueError, "fps must be a finite number.*got 1e-06"),
        ({"video_length": -1}, ValueError, "video_length must be an int >= 0, got -1"),
        ({"video_length": 2.0}, TypeError, "video_length must be an int >= 0, got float: 2.0"),
        ({"episode_trigger": True}, TypeError, "episode_trigger must be None or a callable"),
        ({"step_trigger": 5}, TypeError, "step_trigger must be None or a callable"),
    ],
)
def test_invalid_arguments_fail_at_construction(tmp_path, kwargs, error, message):
    with pytest.raises(error, match=message):
        fnrec.RecordVideo(cartpole(), tmp_path / "videos", **kwargs)
    assert not (tmp_path / "videos").exists()


def test_video_length_none_records_whole_episodes_and_folder_must_not_be_a_file(tmp_path):
    env = fnrec.RecordVideo(cartpole(), tmp_path, video_length=None, episode_trigger=lambda e: True)
    env.reset(seed=0)
    steps, done = 0, False
    while not done:
        *_, terminated, truncated, _ = env.step(0)
        steps, done = steps + 1, terminated or truncated
    env.close()
    assert len(decode(env.saved_videos[0])) == steps + 1
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError, match="`video_folder` must be a folder"):
        fnrec.RecordVideo(cartpole(), tmp_path / "file")


def test_a_render_collection_env_is_recorded_and_keeps_its_frames(tmp_path):
    """render_mode="rgb_array_list" as Gymnasium's RecordVideo takes it, in both orders."""
    env = fnrec.RecordVideo(gym.wrappers.RenderCollection(cartpole()), tmp_path,
                            episode_trigger=lambda e: e == 0, video_length=6)  # fmt: skip
    env.reset(seed=1)
    for _ in range(8):
        env.step(0)
    frames = env.render()
    assert len(frames) == 9 and all(f.shape == (400, 600, 3) for f in frames)
    assert env.render() == []
    env.close()
    assert len(decode(tmp_path / "rl-video-episode-0.mp4")) == 6
    outer = gym.wrappers.RenderCollection(fnrec.RecordVideo(cartpole(), tmp_path / "b"))
    outer.reset(seed=1)
    for _ in range(4):
        outer.step(0)
    assert len(outer.render()) == 5
    outer.close()


def test_the_statistics_are_read_through_the_video_wrapper(tmp_path):
    """Gymnasium's guide reads return_queue & co. on its outer wrapper: through RecordVideo."""
    from gymnasium.envs.phys2d.cartpole import CartPoleFunctional

    env = fnrec.RecordVideo(
        fnrec.FunctionalEnv(CartPoleFunctional(), render_mode="rgb_array"),
        tmp_path / "single",
        episode_trigger=lambda e: False,
    )
    envs = VectorRecordVideo(
        gym.wrappers.vector.RecordEpisodeStatistics(vector_cartpole(AutoresetMode.NEXT_STEP)),
        tmp_path / "vector",
        episode_trigger=lambda e: False,
    )
    for wrapped in (env, envs):
        wrapped.reset(seed=0)
        while wrapped.episode_count < 2:
            _, _, terminated, truncated, _ = wrapped.step(wrapped.action_space.sample())
            if wrapped is env and (terminated or truncated):
                wrapped.reset()
        assert len(wrapped.return_queue) == len(wrapped.length_queue) == wrapped.episode_count
        assert len(wrapped.time_queue) == wrapped.episode_count
        wrapped.close()
    bare = fnrec.RecordVideo(cartpole(), tmp_path / "bare")
    with pytest.raises(AttributeError, match="no env inside this RecordVideo records episode"):
        print(bare.return_queue)
    bare.close()
