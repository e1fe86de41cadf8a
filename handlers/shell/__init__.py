"""`chatops shell` and `chatops demo`: the real Bolt app, fed signed requests, against a local Slack stand-in."""
