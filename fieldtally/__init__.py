"""fieldtally's command line and composition root."""
