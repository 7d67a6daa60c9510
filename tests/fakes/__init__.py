"""Stand-ins for the third parties the app talks to, served on 127.0.0.1."""
