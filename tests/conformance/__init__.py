"""The conformance kit: an adapter's rollout checked against the plain-Python reference.

A new adapter's statistics test is a fixture that makes a rollout plus one call:
``assert_matches_reference(Rollout(...), mode, buffer_length)``. The reference is stepped with
what the adapter itself reported (rewards and flags), so the check is about the recording:
which episodes ended, their returns, lengths and termination, and the final queue(s).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from stats_reference import ReferenceStats

import fnrec


class Rollout(NamedTuple):
    """What a rollout of T steps over N envs reported (arrays [T, N]; [T] for one env).

    Attributes:
      reward: the rewards the adapter returned.
      terminated: its terminated flags.
      truncated: its truncated flags (time limits included).
      ended: the stacked ``fnrec.EpisodeEnded`` of every step.
      stats: the final ``EpisodeStats``: one shared queue, or vmapped (one per env).
      reset_mask: None, or the envs the caller reset after each step (``"disabled"`` mode).
    """

    reward: Any
    terminated: Any
    truncated: Any
    ended: fnrec.EpisodeEnded
    stats: fnrec.EpisodeStats
    reset_mask: Any = None


def assert_matches_reference(rollout: Rollout, mode: str, buffer_length: int) -> int:
    """Checks every step and the final queues against the reference; returns the episode count.

    Args:
      rollout: the adapter's rollout.
      mode: the statistics' autoreset mode.
      buffer_length: their queue length.

    Returns:
      How many episodes ended (so the caller can insist on enough of them).
    """
    reward = np.asarray(rollout.reward, np.float64)
    terminated, truncated = np.asarray(rollout.terminated), np.asarray(rollout.truncated)
    if reward.ndim == 1:  # one env
        reward, terminated, truncated = reward[:, None], terminated[:, None], truncated[:, None]
    steps, num_envs = reward.shape
    ended = [np.asarray(x).reshape(steps, num_envs) for x in rollout.ended]
    np.testing.assert_array_equal(ended[0], terminated | truncated, err_msg="mask != term | trunc")
    shared = isinstance(fnrec.stats.queues(rollout.stats), dict) and num_envs > 1
    refs = (
        [ReferenceStats(num_envs, buffer_length)]
        if shared
        else [ReferenceStats(1, buffer_length) for _ in range(num_envs)]
    )
    for t in range(steps):
        if shared:
            expected = refs[0].step(
                [float(np.float32(r)) for r in reward[t]],
                list(terminated[t]),
                list(truncated[t]),
                mode,
            )
        else:
            expected = [
                ref.step(
                    [float(np.float32(reward[t, i]))], [terminated[t, i]], [truncated[t, i]], mode
                )[0]
                for i, ref in enumerate(refs)
            ]
        for i, (mask, ret, length, term, trunc) in enumerate(expected):
            where = f"step {t}, env {i}"
            assert ended[0][t, i] == mask, where
            np.testing.assert_allclose(ended[1][t, i], ret, rtol=1e-6, atol=1e-4, err_msg=where)
            assert ended[2][t, i] == length, where
            assert (ended[3][t, i], ended[4][t, i]) == (term, trunc), where
        if rollout.reset_mask is not None:
            mask = np.asarray(rollout.reset_mask).reshape(steps, num_envs)[t]
            if shared:
                refs[0].reset(list(mask))
            else:
                for i, ref in enumerate(refs):
                    ref.reset([mask[i]])
    queues = fnrec.stats.queues(rollout.stats)
    queues = [queues] if isinstance(queues, dict) else queues
    counts = np.atleast_1d(fnrec.stats.episode_count(rollout.stats))
    assert len(queues) == len(refs)
    for queue, count, ref in zip(queues, counts, refs, strict=True):
        want = list(ref.queue)
        np.testing.assert_allclose(
            queue["return_queue"], [e[0] for e in want], rtol=1e-6, atol=1e-4
        )
        np.testing.assert_array_equal(queue["length_queue"], [e[1] for e in want])
        np.testing.assert_array_equal(queue["terminated_queue"], [e[2] for e in want])
        assert int(count) == ref.episode_count
    return sum(ref.episode_count for ref in refs)
