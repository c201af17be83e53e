"""Gymnasium's "Recording Agents" guide, its evaluation script, on fnrec: only the imports differ.

Records every one of 4 episodes of CartPole-v1 (``cartpole-agent/eval-episode-<i>.mp4``) and
prints the statistics queues. Gymnasium's version imports ``gymnasium as gym`` and its wrappers
from ``gymnasium.wrappers``; tests/host/test_guide.py runs both and compares them.

Run: ``python examples/guide/evaluate.py`` (about 3 s).
"""

import numpy as np

import fnrec as gym
from fnrec import RecordEpisodeStatistics, RecordVideo

num_eval_episodes = 4
env_name = "CartPole-v1"

env = gym.make(env_name, render_mode="rgb_array")
env = RecordVideo(
    env, video_folder="cartpole-agent", name_prefix="eval", episode_trigger=lambda x: True
)
env = RecordEpisodeStatistics(env, buffer_length=num_eval_episodes)

for episode_num in range(num_eval_episodes):
    obs, info = env.reset()
    episode_reward = 0
    step_count = 0
    episode_over = False
    while not episode_over:
        action = env.action_space.sample()  # your agent here
        obs, reward, terminated, truncated, info = env.step(action)
        episode_reward += reward
        step_count += 1
        episode_over = terminated or truncated
    print(f"Episode {episode_num + 1}: {step_count} steps, reward = {episode_reward}")
env.close()

print(f"Episode durations: {list(env.time_queue)}")
print(f"Episode rewards: {list(env.return_queue)}")
print(f"Episode lengths: {list(env.length_queue)}")
print(f"Average reward: {np.mean(env.return_queue):.2f} ± {np.std(env.return_queue):.2f}")
