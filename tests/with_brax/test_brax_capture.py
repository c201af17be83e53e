"""Capture over brax and MuJoCo Playground: final frames, export, streaming in ppo.train."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

brax_envs = pytest.importorskip("brax.envs")
from brax.envs.wrappers import training  # noqa: E402
from capture_reference import ReferenceCapture  # noqa: E402
from conftest import assert_same_video, decode  # noqa: E402
from readme_blocks import python_blocks  # noqa: E402

import fnrec  # noqa: E402
from fnrec.adapters import BraxAdapter  # noqa: E402
from fnrec.host.captured import read_capture  # noqa: E402

LENGTH = 20


def cart_pole(pipeline_state):
    """brax's inverted_pendulum as fnrec.render.cartpole's [x, x_dot, theta, theta_dot]."""
    q, qd = pipeline_state.q, pipeline_state.qd
    return jnp.stack([q[0], qd[0], q[1], qd[1]])


def pendulum_env():
    return brax_envs.get_environment("inverted_pendulum", backend="generalized")


def reference_rollout(wrapped, rng, actions):
    """brax's own autoreset, re-done by hand over the inner env: the frames before each reset."""
    inner = wrapped.env
    inner_step = jax.jit(inner.step)
    state = jax.jit(inner.reset)(rng)
    first = state.pipeline_state
    first_frames = jax.vmap(cart_pole)(first)
    finals, afters = [], []
    for action in actions:
        steps = jnp.where(state.done, 0, state.info["steps"])
        state = state.replace(done=jnp.zeros_like(state.done), info={**state.info, "steps": steps})
        state = inner_step(state, action)
        final = jax.vmap(cart_pole)(state.pipeline_state)
        done = state.done.astype(bool)
        after = jnp.where(done[:, None], first_frames, final)
        state = state.replace(
            pipeline_state=jax.tree.map(
                lambda f, s, done=done: jnp.where(done.reshape((-1,) + (1,) * (s.ndim - 1)), f, s),
                first,
                state.pipeline_state,
            )
        )
        finals.append(np.asarray(final))
        afters.append(np.asarray(after))
    return np.asarray(first_frames), finals, afters


def test_capture_keeps_the_final_frame_and_exports(tmp_path):
    wrapped = training.wrap(pendulum_env(), episode_length=LENGTH)
    trigger = fnrec.schedules.every(2)
    capture = fnrec.capture.episode_capture(
        LENGTH, 16, watch=None, trigger=trigger, content=cart_pole
    )
    env = BraxAdapter(wrapped, fnrec.Recording(capture=capture))
    num_envs, num_steps = 4, 70
    rng = jax.random.split(jax.random.PRNGKey(0), num_envs)
    actions = jax.random.uniform(
        jax.random.PRNGKey(1), (num_steps, num_envs, 1), minval=-1, maxval=1
    )

    def body(state, action):
        state = env.step(state, action)
        info = state.info
        ended = fnrec.stats.EpisodeEnded(
            info["_episode"], info["episode"]["r"], info["episode"]["l"],
            info["_episode"] & (info["truncation"] == 0),
            info["_episode"] & (info["truncation"] != 0),
        )  # fmt: skip
        return state, ended

    state, ended = jax.jit(lambda s: jax.lax.scan(body, s, actions))(jax.jit(env.reset)(rng))
    assert set(wrapped.__dict__) == set(training.wrap(pendulum_env(), LENGTH).__dict__)
    assert type(wrapped.env).__name__ == "EpisodeWrapper"  # the user's wrapper is not changed

    first, finals, afters = reference_rollout(wrapped, rng, actions)
    reference = ReferenceCapture(num_envs, LENGTH, 16, None, trigger)
    reference.init(list(first))
    host_ended = jax.device_get(ended)
    for t in range(num_steps):
        step_ended = [
            tuple(np.asarray(f)[t, e].item() for f in host_ended) for e in range(num_envs)
        ]
        reference.step(step_ended, list(finals[t]), list(afters[t]), "same_step")
    episodes = read_capture(state.info["episode_capture"]).episodes
    assert len(episodes) == len(reference.stored) >= 4
    for got, want in zip(episodes, reference.stored, strict=True):
        assert (got.episode_id, got.env, got.length) == (
            want["episode_id"], want["env"], want["length"],
        )  # fmt: skip
        np.testing.assert_allclose(got.items, np.stack(want["frames"]), rtol=1e-5, atol=1e-6)
        assert not np.allclose(got.items[-1], got.items[0])  # the final frame, not the reset one

    result = fnrec.export_videos(state.info["episode_capture"], tmp_path, fnrec.render.cartpole)
    render = jax.jit(jax.vmap(fnrec.render.cartpole))
    for video, want in zip(result.videos, reference.stored, strict=True):
        assert_same_video(video.path, list(np.asarray(render(np.stack(want["frames"])))))


def test_an_autoreset_wrapper_outermost_is_needed():
    env = training.VmapWrapper(training.EpisodeWrapper(pendulum_env(), LENGTH, 1))
    with pytest.raises(ValueError, match=r"must reset itself: .*autoreset wrapper outermost"):
        BraxAdapter(env, fnrec.Recording(capture=fnrec.capture.episode_capture(LENGTH)))


def test_mujoco_playground_capture():
    pytest.importorskip("mujoco_playground")
    from mujoco_playground import registry, wrapper

    env = wrapper.wrap_for_brax_training(registry.load("CartpoleBalance"), episode_length=LENGTH)
    capture = fnrec.capture.episode_capture(
        LENGTH, 4, watch=(1,), trigger=lambda i: i >= 0, content=lambda data: data.qpos
    )
    env = BraxAdapter(env, fnrec.Recording(capture=capture))
    state = jax.jit(env.reset)(jax.random.split(jax.random.PRNGKey(0), 2))
    first = np.asarray(state.data.qpos[1])

    def body(state, key):
        action = jax.random.uniform(key, (2, env.action_size), minval=-1, maxval=1)
        state = env.step(state, action)
        return state, state.data.qpos[1]

    keys = jax.random.split(jax.random.PRNGKey(1), 45)
    state, qpos = jax.jit(lambda s: jax.lax.scan(body, s, keys))(state)
    episodes = read_capture(state.info["episode_capture"]).episodes
    assert [e.length for e in episodes] == [LENGTH, LENGTH]
    for episode in episodes:
        assert episode.env == 1 and episode.truncated and len(episode.items) == LENGTH + 1
        np.testing.assert_allclose(episode.items[0], first, atol=1e-6)  # the cached first state
    # Frames 1..L-1 are the states after each step; the L-th is the one before the reset,
    # which the env's own output no longer has (it shows the first state again).
    np.testing.assert_allclose(episodes[0].items[1:-1], np.asarray(qpos)[: LENGTH - 1], atol=1e-6)
    np.testing.assert_allclose(np.asarray(qpos)[LENGTH - 1], first, atol=1e-6)
    assert not np.allclose(episodes[0].items[-1], first)


def ppo_train_snippet() -> str:
    """The docs' snippet that streams out of brax's ``ppo.train`` (docs/concepts/capture.md)."""
    found = [code for _, code in python_blocks("brax") if "ppo.train(" in code]
    assert len(found) == 1, "docs/concepts/capture.md should hold one ppo.train snippet"
    return found[0]


@pytest.mark.xla_optimized  # brax's training runs longer than it compiles
def test_streaming_inside_brax_ppo_train(tmp_path, monkeypatch):
    """The docs' snippet, run as written: brax's trainer returns no env state, so videos and
    every episode's statistics leave the program as episodes end; the stream holds every
    episode brax's own logger saw (it is the docs' test too: test_readme_brax leaves it)."""
    from brax.training import logger as brax_logger

    brax_saw = []
    update = brax_logger.EpisodeMetricsLogger.update_episode_metrics

    def counting(self, episode_metrics, dones, train_metrics):
        done = np.asarray(dones).astype(bool)
        for name in ("length", "sum_reward"):
            brax_saw.append((name, np.asarray(episode_metrics[name])[done].tolist()))
        return update(self, episode_metrics, dones, train_metrics)

    monkeypatch.setattr(brax_logger.EpisodeMetricsLogger, "update_episode_metrics", counting)
    monkeypatch.chdir(tmp_path)
    snippet: dict = {}
    exec(compile(ppo_train_snippet(), "docs/concepts/capture.md", "exec"), snippet)
    assert "eval/episode_reward" in snippet["metrics"]
    videos = [snippet["videos"].videos, snippet["eval_videos"].videos]
    written = {p.name for p in (tmp_path / "videos" / "ppo").glob("*.mp4")}
    assert written == {v.path.name for kind_videos in videos for v in kind_videos}
    # num_evals=2: brax evaluates twice, each time from a reset env whose ids start again
    assert any("-repeat-1" in v.path.name for v in videos[1])
    # Every training episode's statistics left the trainer, in id order: the ones brax's own
    # logger saw (flush="ended" leaves nothing staged in the state brax drops at the end).
    log = fnrec.episode_log(snippet["chunks"])
    np.testing.assert_array_equal(log.episode_id, np.arange(len(log.episode_id)))
    lengths = sorted(x for name, seen in brax_saw if name == "length" for x in seen)
    returns = sorted(x for name, seen in brax_saw if name == "sum_reward" for x in seen)
    assert len(lengths) >= 50 and sorted(log.length.tolist()) == lengths
    np.testing.assert_allclose(sorted(log.episode_return.tolist()), returns, rtol=1e-5)
    assert ((log.length >= 1) & (log.length <= 20)).all()
    assert set(log.env.tolist()) <= set(range(8))
    assert [len(v) > 0 for v in videos] == [True, True]
    for kind_videos in videos:
        assert all(v.episode_id % 3 == 0 for v in kind_videos)
        names = [v.path.name for v in kind_videos]
        assert len(set(names)) == len(names)  # restarted ids (each evaluation) get -repeat-<k>
        for video in kind_videos:
            assert video.env == 0 and 1 <= video.length <= 20
            assert len(decode(video.path)) == video.length + 1
