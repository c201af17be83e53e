"""A plain-Python loop over a real env family, and the checks of a recorder's rollout against it.

The loop steps the library's own env, one env at a time, reading the library's own fields for
termination and truncation (each test passes its reading). It starts new episodes with the keys
fnrec's core documents: env i of a step with key k uses ``jax.random.split(k, N)[i]`` (the
per-env layout is ``jax.vmap`` over the same split), and a reset inside a step uses
``jax.random.split(env_key)[1]``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import numpy as np

import fnrec


class Episode(NamedTuple):
    step: int
    env: int
    episode_return: float
    length: int
    terminated: bool
    truncated: bool


class Reference(NamedTuple):
    """What the loop saw: per-step flags [T, N] and the episodes in the order they ended."""

    terminated: np.ndarray
    truncated: np.ndarray
    episodes: list[Episode]


def env_keys(key: jax.Array, num_envs: int | None) -> list[jax.Array]:
    """The per-env keys of one step's key, as core.vmapped and vmap-over-split give them."""
    return [key] if num_envs is None else list(jax.random.split(key, num_envs))


def run_reference(
    reset: Callable[[jax.Array], Any],
    step: Callable[[Any, Any], tuple[Any, float, bool, bool]],
    reset_key: jax.Array,
    step_keys: jax.Array,
    actions: np.ndarray,
    num_envs: int | None,
    mode: str = "same_step",
    max_episode_steps: int | None = None,
    self_resetting: bool = False,
    keyed_step: bool = False,
) -> Reference:
    """Steps the real env in Python.

    Args:
      reset: key -> env state (the library's reset, one env).
      step: (env state, action) -> (env state, reward, terminated, truncated), read off the
        library's own result by the test.
      reset_key: the key the recorder's init got.
      step_keys: [T] keys, one per recorder step.
      actions: [T, N] (or [T]) actions.
      num_envs: N, or None for one env.
      mode: the autoreset mode (the reference resets by hand, unless `self_resetting`).
      max_episode_steps: fnrec's time limit, or None.
      self_resetting: the env resets itself inside `step` (jumanji's AutoResetWrapper).
      keyed_step: `step` takes the env's key of the step too: (env state, action, key).
    """
    n = 1 if num_envs is None else num_envs
    actions = np.asarray(actions)
    actions = actions[:, None] if num_envs is None else actions
    states = [reset(k) for k in env_keys(reset_key, num_envs)]
    rewards: list[list[float]] = [[] for _ in range(n)]
    prev_done = [False] * n
    term = np.zeros((len(step_keys), n), bool)
    trunc = np.zeros((len(step_keys), n), bool)
    episodes = []
    for t, key in enumerate(step_keys):
        for i, k in enumerate(env_keys(key, num_envs)):
            new_episode_key = jax.random.split(k)[1]
            if mode == "next_step" and prev_done[i]:
                states[i], prev_done[i] = reset(new_episode_key), False
                continue
            args = (states[i], actions[t, i]) + ((k,) if keyed_step else ())
            states[i], reward, te, tr = step(*args)
            rewards[i].append(float(np.float32(reward)))
            if max_episode_steps is not None and len(rewards[i]) >= max_episode_steps:
                tr = True
            term[t, i], trunc[t, i] = te, tr
            if te or tr:
                episodes.append(Episode(t, i, math.fsum(rewards[i]), len(rewards[i]), te, tr))
                rewards[i] = []
                if mode == "same_step" and not self_resetting:
                    states[i] = reset(new_episode_key)
            prev_done[i] = te or tr
    return Reference(term, trunc, episodes)


def assert_matches(
    reference: Reference,
    stats: fnrec.EpisodeStats,
    terminated: Any,
    truncated: Any,
    ended: fnrec.EpisodeEnded | None = None,
) -> int:
    """The recorder's flags, finished episodes and queue(s) equal the reference's.

    Args:
      reference: the plain loop's result.
      stats: the recorder's final statistics (one shared queue, or vmapped per env).
      terminated: the recorder's per-step terminated flags, [T, N] or [T].
      truncated: its truncated flags.
      ended: its stacked EpisodeEnded, or None.

    Returns:
      The number of episodes.
    """
    steps, n = reference.terminated.shape
    np.testing.assert_array_equal(np.asarray(terminated).reshape(steps, n), reference.terminated)
    np.testing.assert_array_equal(np.asarray(truncated).reshape(steps, n), reference.truncated)
    if ended is not None:
        mask = np.asarray(ended.mask).reshape(steps, n)
        want = np.zeros_like(mask)
        for e in reference.episodes:
            want[e.step, e.env] = True
            np.testing.assert_allclose(
                np.asarray(ended.episode_return).reshape(steps, n)[e.step, e.env],
                e.episode_return, rtol=1e-6, atol=1e-5,
            )  # fmt: skip
            assert np.asarray(ended.length).reshape(steps, n)[e.step, e.env] == e.length
        np.testing.assert_array_equal(mask, want)
    queues = fnrec.stats.queues(stats)
    buffer_length = np.shape(jax.device_get(stats).return_queue)[-1]
    per_env = isinstance(queues, list)
    groups = (
        [[e for e in reference.episodes if e.env == i] for i in range(n)]
        if per_env
        else [reference.episodes]
    )
    queues = queues if per_env else [queues]
    assert len(queues) == len(groups)
    for queue, episodes in zip(queues, groups, strict=True):
        want = episodes[-buffer_length:]
        np.testing.assert_allclose(
            queue["return_queue"], [e.episode_return for e in want], rtol=1e-6, atol=1e-5
        )
        np.testing.assert_array_equal(queue["length_queue"], [e.length for e in want])
        np.testing.assert_array_equal(queue["terminated_queue"], [e.terminated for e in want])
    counts = np.atleast_1d(fnrec.stats.episode_count(stats))
    assert [int(c) for c in counts] == [len(g) for g in groups]
    return len(reference.episodes)


def scan_rollout(step: Callable, state: Any, actions: Any, step_keys: jax.Array) -> tuple:
    """``jax.jit(lax.scan)`` of ``step(state, action, key) -> StepResult``.

    Returns:
      ``(final state, terminated [T, ...], truncated [T, ...], ended [T, ...])``.
    """

    def body(state, xs):
        action, key = xs
        out = step(state, action, key)
        return out.state, (out.terminated, out.truncated, out.ended)

    run = jax.jit(lambda s: jax.lax.scan(body, s, (actions, step_keys)))
    state, (terminated, truncated, ended) = run(state)
    return state, terminated, truncated, ended
