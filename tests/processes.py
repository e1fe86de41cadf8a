"""How tests run the bot's worker processes.

Serve's default puts workers at nice 19 (the CPU serving leaves). Beside the suite's own busy processes, at
normal priority, any nice starves them: at nice 10 a worker got a few percent of the CPU, and probes timed out
on a loaded machine. Tests run them at normal priority, as busy as the rest.
"""

TEST_WORKER_NICE = 0
