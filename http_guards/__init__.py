"""Guards of the bot's HTTP app against abuse: body size, echoed input, browser headers."""
