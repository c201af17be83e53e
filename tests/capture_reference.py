"""A plain-Python reference of episode capture, written from the documented rules.

Frames are lists; ids, triggers and the store are Python ints and lists. Used by the capture
tests (bare loop and adapters) to check what fnrec.capture kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ReferenceCapture:
    num_envs: int
    max_episode_steps: int
    max_episodes: int
    watch: tuple[int, ...] | None
    trigger: object
    stored: list[dict] = field(default_factory=list)
    dropped_full: int = 0
    dropped_too_long: int = 0
    episodes_ended: int = 0
    frames: list = field(init=False)
    own: list = field(init=False)
    prev_done: list = field(init=False)

    def __post_init__(self) -> None:
        self.frames = [None] * self.num_envs
        self.own = [0] * self.num_envs
        self.prev_done = [False] * self.num_envs

    def tracked(self) -> list[int]:
        return list(range(self.num_envs)) if self.watch is None else list(self.watch)

    def init(self, states) -> None:
        for e in range(self.num_envs):
            self.frames[e] = [states[e]]

    def reset(self, states, mask=None) -> None:
        for e in range(self.num_envs):
            if mask is None or mask[e]:
                self.frames[e] = [states[e]]
                self.prev_done[e] = False

    def step(self, ended, final_states, states, mode) -> None:
        """`ended`: per env (mask, return, length, terminated, truncated)."""
        rank = 0
        for e in range(self.num_envs):
            mask, ret, _, term, trunc = ended[e]
            global_id = self.episodes_ended + rank
            rank += bool(mask)
            resetting = mode == "next_step" and self.prev_done[e]
            if resetting:
                self.frames[e] = [states[e]]
                self.prev_done[e] = False
                continue
            if self.frames[e] is None:
                self.frames[e] = []
            self.frames[e].append(final_states[e])
            if mask:
                episode_id = global_id if self.watch is None else self.own[e]
                self.own[e] += 1
                if e in self.tracked() and self.trigger(episode_id):
                    if len(self.frames[e]) > self.max_episode_steps + 1:
                        self.dropped_too_long += 1
                    elif len(self.stored) >= self.max_episodes:
                        self.dropped_full += 1
                    else:
                        self.stored.append(
                            {
                                "episode_id": episode_id,
                                "env": e,
                                "length": len(self.frames[e]) - 1,
                                "frames": list(self.frames[e]),
                                "episode_return": ret,
                                "terminated": term,
                                "truncated": trunc,
                            }
                        )
                self.frames[e] = [states[e]] if mode == "same_step" else None
            self.prev_done[e] = bool(mask)
        self.episodes_ended += rank

    def clear(self) -> None:
        self.stored = []
        self.dropped_full = self.dropped_too_long = 0
