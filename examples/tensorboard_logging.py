"""Episode statistics from inside a jitted training run, written to TensorBoard (tensorboardX).

PPO (``fnrec.demo.ppo``, pure JAX) learns fnrec's functional CartPole (``fnrec.envs.CartPole``)
through ``fnrec.adapters.funcenv.recorder`` in ONE jitted program. After every update, inside the
program, ``fnrec.stats.summary`` reads the statistics queue (the last 100 episodes: mean, min and
max return, mean length, terminated fraction) and the history counts the episodes so far; a
``jax.debug.callback`` hands these scalars to the host, which writes them to TensorBoard while
training runs (``stats/*``, x axis: env-steps). After the run, every episode's return and length
(``fnrec.history``) are written too (``episode/*``, x axis: episode id)::

    LOGDIR/events.out.tfevents.*    view with: pip install tensorboard; tensorboard --logdir LOGDIR

The scan also stacks the same scalars per update (``TrainResult.metrics``); ``main`` returns
them, with the episode log, so that they can be checked against what the event file holds.
Updates in which no episode has ended yet have no statistics (the summary is NaN there): only
their ``stats/count`` and ``stats/episodes`` are written.

Live progress shows on stderr (``fnrec.LiveProgress``, fed by the same callback). This is the
by-hand version; ``examples/trackers.py`` does the same (and videos) with ``fnrec.trackers``.

Needs tensorboardX: ``pip install 'fnrec[tensorboard]'``.
Run: ``python examples/tensorboard_logging.py --updates 60 --logdir runs/ppo-cartpole``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import jax
import numpy as np

import fnrec
from fnrec._cli import at_least
from fnrec._optional import MissingDependency, require
from fnrec.demo.ppo import PPOConfig, make_train
from fnrec.envs import CartPole

# Written after every update; "count" is how many episodes the queue holds (at most 100).
SUMMARY_TAGS = ("return_mean", "return_min", "return_max", "length_mean", "terminated_fraction")
# CartPole's shortest episode is 8 steps: a history of S env-steps // 8 + N slots keeps them all.
_SHORTEST_EPISODE = 8


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--updates", type=at_least(1), default=60, help="PPO updates")
    parser.add_argument("--envs", type=at_least(1), default=32, help="envs stepped in parallel")
    parser.add_argument(
        "--steps-per-update", type=at_least(1), default=64, help="rollout length per update"
    )
    parser.add_argument("--max-episode-steps", type=at_least(1), default=500, help="time limit")
    parser.add_argument(
        "--logdir", type=Path, default=Path("runs/ppo-cartpole"), help="TensorBoard log folder"
    )
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


class TensorBoardLogger:
    """The host side of ``jax.debug.callback``: one update's scalars to a SummaryWriter."""

    def __init__(self, writer: Any, env_steps_per_update: int) -> None:
        self.writer = writer
        self.env_steps_per_update = env_steps_per_update
        self.updates = 0

    def __call__(self, index: Any, metrics: dict[str, Any]) -> None:
        step = (int(index) + 1) * self.env_steps_per_update  # callbacks may come in any order
        self.writer.add_scalar("stats/count", int(metrics["count"]), step)
        self.writer.add_scalar("stats/episodes", int(metrics["episodes"]), step)
        if int(metrics["count"]) > 0:  # else the summary is NaN: nothing has ended yet
            for tag in SUMMARY_TAGS:
                self.writer.add_scalar(f"stats/{tag}", float(metrics[tag]), step)
        self.updates += 1


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    tensorboardX = require("tensorboardX", "TensorBoard logging")
    num_envs, num_updates = args.envs, args.updates
    env_steps_per_update = num_envs * args.steps_per_update
    total_steps = env_steps_per_update * num_updates
    recording = fnrec.Recording(
        statistics=fnrec.stats.episode_statistics(buffer_length=100),
        history=fnrec.history.episode_history(total_steps // _SHORTEST_EPISODE + num_envs),
        max_episode_steps=args.max_episode_steps,
    )
    rec = fnrec.adapters.funcenv.recorder(CartPole(), recording, num_envs)

    def metrics(state: Any) -> dict[str, Any]:  # traced: runs inside the jitted program
        return {**fnrec.stats.summary(state.stats), "episodes": state.history.count}

    args.logdir.mkdir(parents=True, exist_ok=True)
    earlier = set(args.logdir.glob("events.out.tfevents.*"))  # of earlier runs, kept
    writer = tensorboardX.SummaryWriter(logdir=str(args.logdir))
    logger = TensorBoardLogger(writer, env_steps_per_update)
    # Live progress on stderr from the same callback (at most two updates a second).
    live = fnrec.LiveProgress(total_steps, "fnrec tensorboard_logging")
    show = live.on_update(env_steps_per_update)

    def on_update(index: Any, values: dict[str, Any]) -> None:  # host, after every update
        logger(index, values)
        show(index, values)

    config = PPOConfig(num_envs=num_envs, num_steps=args.steps_per_update, num_updates=num_updates)
    train = make_train(config, rec.init, rec.step, 4, 2, metrics_fn=metrics, on_update=on_update)

    start = time.perf_counter()
    with live:  # leaving it waits for every callback (jax.effects_barrier)
        result = jax.block_until_ready(jax.jit(train)(jax.random.key(args.seed)))
    elapsed = time.perf_counter() - start

    state = result.env_state
    log = fnrec.episode_log(state.history)
    for episode, episode_return, length in zip(
        log.episode_id.tolist(), log.episode_return.tolist(), log.length.tolist(), strict=True
    ):
        writer.add_scalar("episode/return", episode_return, episode)
        writer.add_scalar("episode/length", length, episode)
    writer.close()
    # This run's file (a run started in the same second as an earlier one reuses its name).
    files = sorted(args.logdir.glob("events.out.tfevents.*"), key=lambda p: p.stat().st_mtime)
    event_file = ([p for p in files if p not in earlier] or files)[-1]

    stacked = {k: np.asarray(v) for k, v in jax.device_get(result.metrics).items()}
    final = {k: v[-1].item() for k, v in stacked.items()}
    print(
        f"PPO on {num_envs} CartPoles, {num_updates} updates ({total_steps:,} env-steps) in one "
        f"jitted program: {elapsed:.1f} s (compile included); {len(log.episode_id):,} episodes"
    )
    print(
        f"  fnrec.stats.summary after the last update (last {final['count']} episodes): "
        f"return mean {final['return_mean']:.1f} (min {final['return_min']:.0f}, max "
        f"{final['return_max']:.0f}), length mean {final['length_mean']:.1f}, terminated "
        f"{final['terminated_fraction']:.0%}"
    )
    print(
        f"  TensorBoard: {logger.updates} updates of stats/* (written from inside the run) and "
        f"{len(log.episode_id):,} episodes of episode/* in {event_file}"
    )
    print(f"  view: tensorboard --logdir {args.logdir}")
    return {
        "logdir": args.logdir,
        "event_file": event_file,
        "metrics": stacked,
        "env_steps_per_update": env_steps_per_update,
        "log": log,
        "stats": state.stats,
    }


if __name__ == "__main__":
    try:
        main()
    except MissingDependency as error:  # one line naming the extra, not a traceback
        raise SystemExit(str(error)) from None
