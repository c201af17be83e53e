"""Gymnasium's "Recording Agents" guide, its training script, on fnrec: only the imports differ.

10,000 episodes of CartPole-v1 with a video of every 250th
(``cartpole-training/training-episode-<i>.mp4``) and each episode's ``info["episode"]`` logged.
tests/host/test_guide.py runs it and Gymnasium's version and compares them.

Run: ``python examples/guide/training.py`` (about 1.5 minutes on 2 slow CPU cores; Gymnasium's numpy
CartPole is faster per step, see benchmarks/RESULTS.md "Host loop").
"""

import logging

import fnrec as gym
from fnrec import RecordEpisodeStatistics, RecordVideo

training_period = 250
num_training_episodes = 10_000
env_name = "CartPole-v1"

logging.basicConfig(level=logging.INFO, format="%(message)s")

env = gym.make(env_name, render_mode="rgb_array")
env = RecordVideo(
    env,
    video_folder="cartpole-training",
    name_prefix="training",
    episode_trigger=lambda x: x % training_period == 0,
)
env = RecordEpisodeStatistics(env)

for episode_num in range(num_training_episodes):
    obs, info = env.reset()
    episode_over = False
    while not episode_over:
        action = env.action_space.sample()  # your agent here
        obs, reward, terminated, truncated, info = env.step(action)
        episode_over = terminated or truncated

    if "episode" in info:
        episode_data = info["episode"]
        logging.info(
            f"Episode {episode_num}: reward={episode_data['r']:.1f}, "
            f"length={episode_data['l']}, time={episode_data['t']:.2f}s"
        )
        if episode_num % 1000 == 0:
            recent_rewards = list(env.return_queue)[-100:]
            if recent_rewards:
                print(
                    f"  -> Average reward over last 100 episodes: "
                    f"{sum(recent_rewards) / len(recent_rewards):.1f}"
                )

env.close()
