"""Gymnasium's ``RecordEpisodeStatistics``, stacking over fnrec's envs without counting twice.

Host side. Over a Gymnasium env these are Gymnasium's wrappers. Over an fnrec host env (anything
whose ``unwrapped`` is a ``fnrec.FunctionalEnv`` or ``FunctionalVectorEnv``) the episodes are
already counted in-graph and reported in ``info["episode"]``: the wrapper keeps Gymnasium's queues
of its own `buffer_length` from that info, and its running attributes (``episode_returns``, ...)
are the in-graph ones. Stacked in the guide's order (``RecordVideo`` inside, statistics outside)
or the other way round, the numbers are the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import wrappers
from gymnasium.wrappers import vector as vector_wrappers


def _in_graph_statistics(env: Any) -> bool:
    """Whether `env` is an fnrec host env (possibly wrapped): it reports ``info["episode"]``."""
    from fnrec.host.gym_env import FunctionalEnv, FunctionalVectorEnv

    return isinstance(getattr(env, "unwrapped", None), (FunctionalEnv, FunctionalVectorEnv))


def _running(name: str) -> property:
    """Gymnasium's running attribute `name`: the fnrec env's own when it counts in-graph (then
    the assignments of Gymnasium's ``__init__`` and ``reset`` are ignored), else stored here."""

    def get(self: Any) -> Any:
        if self._in_graph:
            return getattr(self.env.unwrapped, name)
        return self.__dict__[name]

    def set(self: Any, value: Any) -> None:
        if not self._in_graph:
            self.__dict__[name] = value

    return property(get, set, doc=f"Gymnasium's ``{name}`` (the fnrec env's, in-graph).")


class _Running:
    """What the single and vector wrappers share: the running attributes and the queues."""

    _in_graph = False
    episode_returns = _running("episode_returns")
    episode_lengths = _running("episode_lengths")
    episode_start_time = _running("episode_start_time")
    episode_start_times = _running("episode_start_times")

    def _take(self, info: dict[str, Any], mask: np.ndarray | None) -> dict[str, Any]:
        """Queues the episodes that `info` reports finished; moves them to `stats_key`."""
        episode = info.get("episode")
        if episode is None:
            return info
        if self._stats_key != "episode":
            info[self._stats_key] = info.pop("episode")
            if "_episode" in info:
                info[f"_{self._stats_key}"] = info.pop("_episode")
        if mask is None:
            self.return_queue.append(episode["r"])
            self.length_queue.append(episode["l"])
            self.time_queue.append(episode["t"])
            self.episode_count += 1
            return info
        for index in np.flatnonzero(mask):
            self.return_queue.append(episode["r"][index])
            self.length_queue.append(episode["l"][index])
            self.time_queue.append(episode["t"][index])
        self.episode_count += int(np.count_nonzero(mask))
        return info


class RecordEpisodeStatistics(_Running, wrappers.RecordEpisodeStatistics):
    """Gymnasium's ``RecordEpisodeStatistics`` (same arguments, attributes and info) for any env.

    Over an fnrec env it counts nothing itself: the episodes come from the env's in-graph
    statistics (``info["episode"]``: return, length and time), kept in queues of `buffer_length`.

    Args:
      env: a ``gymnasium.Env`` (fnrec's or Gymnasium's, wrapped or not).
      buffer_length: the length of ``return_queue``, ``length_queue`` and ``time_queue``.
      stats_key: the info key of the statistics.

    Example:
      >>> import fnrec
      >>> env = fnrec.RecordEpisodeStatistics(fnrec.make("CartPole-v1"), buffer_length=4)
      >>> _ = env.reset(seed=0)
      >>> done = False
      >>> while not done:
      ...     _, _, terminated, truncated, info = env.step(env.action_space.sample())
      ...     done = terminated or truncated
      >>> episode = info["episode"]
      >>> env.episode_count, env.length_queue[-1] == episode["l"]
      (1, True)
    """

    def __init__(self, env: Any, buffer_length: int = 100, stats_key: str = "episode") -> None:
        self._in_graph = _in_graph_statistics(env)
        super().__init__(env, buffer_length, stats_key)

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        """One step; ``info[stats_key]`` when the episode ends."""
        if not self._in_graph:
            return super().step(action)
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, reward, terminated, truncated, self._take(info, None)


class VectorRecordEpisodeStatistics(_Running, vector_wrappers.RecordEpisodeStatistics):
    """Gymnasium's vector ``RecordEpisodeStatistics`` for any vector env (``info["_episode"]``
    masks the finished envs); over an fnrec vector env it counts nothing itself.

    Args:
      env: a ``gymnasium.vector.VectorEnv``.
      buffer_length: the length of the queues.
      stats_key: the info key of the statistics.
    """

    def __init__(self, env: Any, buffer_length: int = 100, stats_key: str = "episode") -> None:
        self._in_graph = _in_graph_statistics(env)
        super().__init__(env, buffer_length, stats_key)

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        """One step of every env; ``info[stats_key]`` and its mask where episodes end."""
        if not self._in_graph:
            return super().step(actions)
        obs, rewards, terminations, truncations, info = self.env.step(actions)
        return obs, rewards, terminations, truncations, self._take(info, info.get("_episode"))
