"""Events API listeners (thread messages, mentions): each module exposes `register(app, deps)`."""
