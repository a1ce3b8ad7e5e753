"""What the bot achieves, in numbers: the console's dashboard, its exports and weekly report."""
