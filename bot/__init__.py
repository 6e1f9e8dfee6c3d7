"""fieldtally's core: the election-day domain, free of any chat-platform code."""
