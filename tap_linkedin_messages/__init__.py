"""Singer tap for LinkedIn inbox conversations and messages."""
