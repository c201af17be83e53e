"""Command line: ``python -m fnrec demo``."""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> None:
    """Parses the command line and runs the chosen command."""
    parser = argparse.ArgumentParser(prog="python -m fnrec", description="fnrec command line")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the demo rollout and print its statistics")
    demo.add_argument("--envs", type=int, default=256, help="parallel environments")
    demo.add_argument("--steps", type=int, default=1000, help="steps per environment")
    demo.add_argument("--max-episode-steps", type=int, default=500, help="time limit")
    demo.add_argument("--video-folder", default="videos", help="where videos are written")
    demo.add_argument("--videos", type=int, default=3, help="at most this many videos")
    demo.add_argument("--watch-env", type=int, default=None, help="env to film (default N/4)")
    demo.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
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
