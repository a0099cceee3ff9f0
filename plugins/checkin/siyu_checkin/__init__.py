"""Daily check-in: streaks, rewards and a renewed contact window (Siyu plugin)."""
