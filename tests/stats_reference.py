"""A plain-Python reference of episode statistics, written from Gymnasium's documented rules.

Deliberately simple: Python floats (exact-enough float64 sums with math.fsum), lists and deques.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


@dataclass
class ReferenceStats:
    num_envs: int
    buffer_length: int
    rewards: list[list[float]] = field(init=False)
    prev_done: list[bool] = field(init=False)
    queue: deque = field(init=False)
    episode_count: int = 0
    steps: int = 0
    metrics: tuple = ()  # (name, reduce, discount) of each metric

    def __post_init__(self) -> None:
        self.rewards = [[] for _ in range(self.num_envs)]
        self.prev_done = [False] * self.num_envs
        self.queue = deque(maxlen=self.buffer_length)
        self.values = [{name: [] for name, _, _ in self.metrics} for _ in range(self.num_envs)]

    def step(self, reward, terminated, truncated, mode, values=None):
        """Returns per-env (ended, return, length, terminated, truncated), and the episode's
        metrics ({name: value}) as a sixth item when the reference has metrics.

        `values` gives each metric's per-env values of the step ({name: list}). Queued entries
        are (return, length, terminated, step, env, metrics): `step` counts this reference's
        steps (1 for the first), `env` is the env index, `metrics` the episode's {name: value}.
        """
        self.steps += 1
        out = []
        for i in range(self.num_envs):
            if mode == "same_step" or not self.prev_done[i]:
                self.rewards[i].append(reward[i])
                for name, _, _ in self.metrics:
                    self.values[i][name].append(values[name][i])
            elif self.prev_done[i]:
                self.rewards[i] = []
            done = bool(terminated[i] or truncated[i])
            if done:
                ret, length = math.fsum(self.rewards[i]), len(self.rewards[i])
                if any(math.isnan(r) for r in self.rewards[i]):
                    ret = math.nan
                finals = {
                    name: reduce_episode(self.values[i][name], reduce, discount)
                    for name, reduce, discount in self.metrics
                }
                self.queue.append((ret, length, bool(terminated[i]), self.steps, i, finals))
                self.episode_count += 1
                self.rewards[i] = []
                self.values[i] = {name: [] for name in self.values[i]}
                out.append((True, ret, length, bool(terminated[i]), bool(truncated[i]), finals))
            else:
                zeros = {name: 0.0 for name, _, _ in self.metrics}
                out.append((False, 0.0, 0, False, False, zeros))
            if not self.metrics:
                out[-1] = out[-1][:5]
            self.prev_done[i] = done
        return out

    def reset(self, mask=None):
        for i in range(self.num_envs):
            if mask is None or mask[i]:
                self.rewards[i] = []
                self.values[i] = {name: [] for name in self.values[i]}
                self.prev_done[i] = False


def reduce_episode(values, reduce, discount=None):
    """One episode's metric from its counted steps' values, written from the definitions."""
    if reduce == "sum":
        weights = [1.0 if discount is None else discount**t for t in range(len(values))]
        return math.fsum(w * v for w, v in zip(weights, values, strict=True))
    if reduce == "mean":
        return math.fsum(values) / len(values) if values else 0.0
    if reduce == "last":
        return values[-1] if values else 0.0
    if reduce == "max":
        return max(values, default=-math.inf)
    if reduce == "min":
        return min(values, default=math.inf)
    if reduce == "any":
        return float(any(values))
    if reduce == "first":
        return next((t + 1.0 for t, v in enumerate(values) if v), math.nan)
    raise ValueError(reduce)


def percentile(values, q):
    """numpy's default (linear) percentile of a non-empty list, in plain Python."""
    ordered = sorted(values)
    position = q / 100 * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    fraction = position - below
    if fraction == 0:
        return ordered[below]
    return ordered[below] + (ordered[above] - ordered[below]) * fraction


def summary(episodes, last=None, percentiles=()):
    """The summary of queued episodes (return, length, terminated, step, env, ...), pooled.

    `last` keeps the episodes that ended last: latest step, then highest env index (a shared
    queue fills in env-index order within a step).
    """
    episodes = sorted(episodes, key=lambda e: (e[3], e[4]))
    if last is not None:
        episodes = episodes[-last:] if last else []
    out = {"count": len(episodes)}
    if not episodes:
        return out
    fields = {"return": [e[0] for e in episodes], "length": [float(e[1]) for e in episodes]}
    for name, values in fields.items():
        out[f"{name}_mean"] = math.fsum(values) / len(values)
        out[f"{name}_min"] = min(values)
        out[f"{name}_max"] = max(values)
        for q in percentiles:
            out[f"{name}_p{q:g}"] = percentile(values, q)
    out["terminated_fraction"] = sum(e[2] for e in episodes) / len(episodes)
    for name in episodes[0][5] if len(episodes[0]) > 5 else ():
        values = [e[5][name] for e in episodes if not math.isnan(e[5][name])]
        if values:
            out[f"{name}_mean"] = math.fsum(values) / len(values)
            out[f"{name}_min"] = min(values)
            out[f"{name}_max"] = max(values)
            for q in percentiles:
                out[f"{name}_p{q:g}"] = percentile(values, q)
    return out
