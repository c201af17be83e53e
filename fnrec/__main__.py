"""Command line: ``fnrec demo`` (also ``python -m fnrec demo``)."""

from __future__ import annotations

import argparse
import importlib.metadata

from fnrec._cli import at_least

_DEMO_DESCRIPTION = """\
Trains PPO (pure JAX) on a batch of CartPoles inside ONE jitted program, with fnrec recording
inside it: episode statistics, every episode's return and length, and chosen episodes by
global id (Gymnasium's numbering: the order episodes end). Live progress (env-steps, steps per
second, episodes, rolling return) is reported from inside the program. Afterwards it prints a
summary and writes to OUT/:

  episodes.csv         one row per episode (episode,env,return,length,terminated)
  learning_curve.png   return and length over episodes, recorded ones marked (needs
                       matplotlib: pip install 'fnrec[plots]'; skipped with a note otherwise)
  videos/*.mp4         the recorded episodes: failing early, balancing late

Deterministic for a seed; about 7 s on a 2-core CPU with the defaults (2026-12-07), up to a
minute on slower machines."""


def _seed(text: str) -> int:
    """An argparse type: a PRNG seed in [0, 2**32) (with 64-bit JAX off, jax.random.key keeps
    32 bits: a larger seed would silently repeat a smaller one's run)."""
    value = at_least(0)(text)
    if value >= 2**32:
        raise argparse.ArgumentTypeError(
            f"expected an integer below 2**32 (JAX keeps 32 bits of a seed), got {value}"
        )
    return value


def _version() -> str:
    """The installed fnrec's version, read without importing JAX."""
    try:
        return importlib.metadata.version("fnrec")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout, not installed
        return "unknown (not installed)"


def _parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    parser = argparse.ArgumentParser(
        prog="fnrec", description="fnrec: episode statistics and videos for functional JAX envs"
    )
    parser.add_argument("--version", action="version", version=f"fnrec {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="train PPO on CartPole in one jitted program; write videos, CSV and a plot",
        description=_DEMO_DESCRIPTION,
        formatter_class=lambda prog: argparse.RawDescriptionHelpFormatter(prog, width=100),
    )
    add = demo.add_argument
    add("--out", default="fnrec-demo", help="output folder (default: %(default)s)")
    add("--envs", type=at_least(1), default=32, help="CartPoles in parallel (default: %(default)s)")
    add("--updates", type=at_least(1), default=60, help="PPO updates (default: %(default)s)")
    add("--steps-per-update", type=at_least(1), default=64,
        help="rollout steps of every env per update (default: %(default)s)")  # fmt: skip
    add("--every", type=at_least(1), default=None, metavar="K",
        help="record episodes 0, K, 2K, ... (default: the capped cubic schedule "
             "0, 1, 8, 27, ..., 1000, then every 1000th)")  # fmt: skip
    add("--videos", type=at_least(1), default=12,
        help="at most this many recorded episodes (default: %(default)s)")  # fmt: skip
    add("--max-episode-steps", type=at_least(1), default=500,
        help="time limit, in steps (default: %(default)s)")  # fmt: skip
    add("--seed", type=_seed, default=0, help="PRNG seed (default: %(default)s)")
    add("--quiet", action="store_true", help="print nothing")
    add("--overwrite", action="store_true", help="replace an earlier run in --out")
    return parser, demo


def main(argv: list[str] | None = None) -> None:
    """Parses the command line and runs the chosen command.

    Args:
      argv: the arguments (default: sys.argv[1:]).
    """
    parser, demo = _parser()
    args, unknown = parser.parse_known_args(argv)
    if args.command is None:  # a bare `fnrec`: what it can do
        if unknown:
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        parser.print_help()
        return
    if unknown:  # the subcommand's own usage, not the top level's
        demo.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command == "demo":
        from fnrec.host.demo import check_out, run_demo

        if (args.envs * args.steps_per_update) % 4:
            demo.error(
                f"--envs {args.envs} x --steps-per-update {args.steps_per_update} = "
                f"{args.envs * args.steps_per_update} must be a multiple of 4 (PPO's minibatches)"
            )
        try:
            check_out(args.out, args.overwrite)
        except OSError as error:
            demo.error(f"argument --out: {error}")
        run_demo(
            out=args.out,
            num_envs=args.envs,
            num_updates=args.updates,
            steps_per_update=args.steps_per_update,
            every=args.every,
            max_videos=args.videos,
            max_episode_steps=args.max_episode_steps,
            seed=args.seed,
            quiet=args.quiet,
            overwrite=args.overwrite,
        )


if __name__ == "__main__":
    main()
