"""Button clicks (block_actions): each module exposes `register(app, deps)`."""
