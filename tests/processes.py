"""How tests run the bot's worker processes.

Beside the suite's own busy processes at normal priority, workers at serve's default (nice 19, the CPU serving
leaves) get almost none and the tests wait on them; a test runs them a little below normal instead.
"""

TEST_WORKER_NICE = 10
