"""Episode statistics over brax environments (and MuJoCo Playground's, same State protocol).

``BraxRecordEpisodeStatistics(env)`` has brax's ``reset(rng) -> State`` and
``step(state, action) -> State``; it keeps the statistics in ``state.info["episode_stats"]``
and the episodes that finished on the step in ``state.info["episode"]`` / ``["_episode"]``.
Truncation is read from ``state.info["truncation"]`` (set by brax's ``EpisodeWrapper``);
termination is ``done`` without truncation. Wrap it outermost, over ``AutoResetWrapper`` (the
done step's reward counts and the next step starts a new episode, i.e. same-step autoreset).
A batched env (``VmapWrapper``, reward of shape [N]) gets one queue for all N envs, filled in
env-index order. brax is not imported: the wrapper duck-types ``State.replace`` and ``info``.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from jax import Array

from fnrec import stats as fnrec_stats
from fnrec.adapters import core
from fnrec.stats import EpisodeEnded, EpisodeStats

STATS_KEY = "episode_stats"


class BraxRecordEpisodeStatistics(core.Wrapper):
    """Records episode statistics of a brax (or MuJoCo Playground) env in ``state.info``.

    Args:
      env: a ``brax.envs.Env`` (usually ``EpisodeWrapper`` + ``AutoResetWrapper``, vmapped or
        not) or a MuJoCo Playground env with the same ``reset``/``step``/``State``.
      buffer_length: how many finished episodes the statistics keep.
    """

    kind = "brax Env"

    def reset(self, rng: Array) -> Any:
        """The env's reset, with fresh statistics in ``state.info``."""
        state = self.env.reset(rng)
        shape = jnp.shape(state.reward)
        if len(shape) > 1:
            raise ValueError(f"`state.reward` must be a scalar or [N], got shape {shape}")
        stats = fnrec_stats.init(shape[0] if shape else None, self.buffer_length)
        return _with_info(state, stats, core.no_episode(shape))

    def step(self, state: Any, action: Array) -> Any:
        """The env's step, recorded; the finished episodes are in ``state.info["episode"]``."""
        info = getattr(state, "info", None)
        if not isinstance(info, dict) or STATS_KEY not in info:
            raise ValueError(
                f"`state` must come from this wrapper's reset (no state.info[{STATS_KEY!r}] found)"
            )
        stats = info[STATS_KEY]
        # The inner wrappers must not see our entries (VmapWrapper would map the shared queue).
        inner = {k: v for k, v in info.items() if k not in (STATS_KEY, "episode", "_episode")}
        state = self.env.step(state.replace(info=inner), action)
        terminated, truncated = core.split_done(state.done, state.info.get("truncation", 0.0))
        stats, _, _, _, ended = core.record(stats, state.reward, terminated, truncated)
        return _with_info(state, stats, ended)


def _with_info(state: Any, stats: EpisodeStats, ended: EpisodeEnded) -> Any:
    info = {**state.info, STATS_KEY: stats, **ended.to_info()}
    return state.replace(info=info)
