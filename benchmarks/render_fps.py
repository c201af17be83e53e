"""Frames per second: fnrec's jitted, vmapped CartPole renderer vs Gymnasium's pygame render_image.

Run: SDL_VIDEODRIVER=dummy PYTHONPATH=. python benchmarks/render_fps.py [--repeats 5]
Writes the `render_fps` section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import jax
import jax.numpy as jnp
import numpy as np
from _results import command_line, machine_line, median_time, write_section
from gymnasium.envs.phys2d.cartpole import CartPoleFunctional

import fnrec.render

BATCHES = (1, 16, 64, 256)


def states(n: int) -> np.ndarray:
    """n CartPole states spread over the non-terminal range."""
    rng = np.random.default_rng(0)
    return rng.uniform([-2.4, -2, -0.21, -2], [2.4, 2, 0.21, 2], size=(n, 4)).astype(np.float32)


def pygame_fps(repeats: int, n: int = 256) -> float:
    """Frames/s of CartPoleFunctional.render_image over n states, one after another."""
    env = CartPoleFunctional()
    render_state = env.render_init()
    batch = states(n)

    def run() -> None:
        for s in batch:
            env.render_image(s, render_state)

    seconds = median_time(run, repeats=repeats)
    env.render_close(render_state)
    return n / seconds


def fnrec_fps(batch: int, repeats: int, snap: bool) -> float:
    """Frames/s of jax.jit(jax.vmap(fnrec.render.cartpole)) on a batch, frames left on device."""
    render = jax.jit(jax.vmap(lambda s: fnrec.render.cartpole(s, snap=snap)))
    x = jnp.asarray(states(batch))
    return batch / median_time(lambda: render(x).block_until_ready(), repeats=repeats, warmup=2)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    base = pygame_fps(args.repeats)
    rows = [
        f"| pygame `CartPoleFunctional.render_image` (one by one) | 256 | {base:,.0f} | 1.00x |"
    ]
    for snap in (True, False):
        for b in BATCHES:
            fps = fnrec_fps(b, args.repeats, snap)
            name = f"`jit(vmap(fnrec.render.cartpole))`, snap={snap}"
            rows.append(f"| {name} | {b} | {fps:,.0f} | {fps / base:.2f}x |")
    table = "\n".join(
        ["| renderer | batch | frames/s | vs pygame |", "|---|---:|---:|---:|", *rows]
    )
    body = (
        "## Rendering: CartPole frames per second (400x600x3 uint8)\n\n"
        f"{table}\n\nMedian of {args.repeats} timed runs after warm-up, one process; fnrec frames "
        "stay on the device (block_until_ready, no copy to numpy). Target: at least pygame's "
        f"rate on the CPU.\n\nCommand: `{command_line()}`\n\nMachine: {machine_line()}\n"
    )
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    body += f"\nLoad average (1, 5, 15 min) at the end: {load} on {os.cpu_count()} cores.\n"
    write_section("render_fps", body)
    print(body)


if __name__ == "__main__":
    main()
