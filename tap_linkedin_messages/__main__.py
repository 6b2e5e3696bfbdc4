"""`python -m tap_linkedin_messages`."""

from tap_linkedin_messages.tap import TapLinkedInMessages

TapLinkedInMessages.cli()
