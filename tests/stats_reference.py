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

    def __post_init__(self) -> None:
        self.rewards = [[] for _ in range(self.num_envs)]
        self.prev_done = [False] * self.num_envs
        self.queue = deque(maxlen=self.buffer_length)

    def step(self, reward, terminated, truncated, mode):
        """Returns per-env (ended, return, length, terminated, truncated)."""
        out = []
        for i in range(self.num_envs):
            if mode == "same_step" or not self.prev_done[i]:
                self.rewards[i].append(reward[i])
            elif self.prev_done[i]:
                self.rewards[i] = []
            done = bool(terminated[i] or truncated[i])
            if done:
                ret, length = math.fsum(self.rewards[i]), len(self.rewards[i])
                if any(math.isnan(r) for r in self.rewards[i]):
                    ret = math.nan
                self.queue.append((ret, length, bool(terminated[i])))
                self.episode_count += 1
                self.rewards[i] = []
                out.append((True, ret, length, bool(terminated[i]), bool(truncated[i])))
            else:
                out.append((False, 0.0, 0, False, False))
            self.prev_done[i] = done
        return out

    def reset(self, mask=None):
        for i in range(self.num_envs):
            if mask is None or mask[i]:
                self.rewards[i] = []
                self.prev_done[i] = False
