"""What every channel shares: addresses' capabilities, the port, outgoing content,
typed answers, marked text, the command table, one message handled the same way everywhere,
the durable inbox, flood control and hidden characters.
"""
