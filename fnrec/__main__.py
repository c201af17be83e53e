"""Command line: ``python -m fnrec demo``."""

from __future__ import annotations

import argparse


def _at_least(minimum: int):
    """An argparse type: an int >= `minimum`, with an error that names the bound."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {value}")
        return value

    return parse


def main(argv: list[str] | None = None) -> None:
    """Parses the command line and runs the chosen command.

    Args:
      argv: the arguments (default: sys.argv[1:]).
    """
    parser = argparse.ArgumentParser(prog="python -m fnrec", description="fnrec command line")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the demo rollout, print statistics, write videos")
    demo.add_argument("--envs", type=_at_least(1), default=256, help="parallel environments")
    demo.add_argument("--steps", type=_at_least(1), default=1000, help="steps per environment")
    demo.add_argument("--max-episode-steps", type=_at_least(1), default=500, help="time limit")
    demo.add_argument("--video-folder", default="videos", help="where videos are written")
    demo.add_argument("--videos", type=_at_least(0), default=3, help="at most this many videos")
    demo.add_argument(
        "--watch-env", type=_at_least(0), default=None, help="env to film (default N/4)"
    )
    demo.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.watch_env is not None and args.watch_env >= args.envs:
        demo.error(f"argument --watch-env: expected an env index below --envs={args.envs}, "
                   f"got {args.watch_env}")  # fmt: skip
    if args.command == "demo":
        from fnrec.host.demo import run_demo

        run_demo(
            num_envs=args.envs,
            num_steps=args.steps,
            max_episode_steps=args.max_episode_steps,
            video_folder=args.video_folder,
            max_videos=args.videos,
            watch_env=args.watch_env,
            seed=args.seed,
        )


if __name__ == "__main__":
    main()
