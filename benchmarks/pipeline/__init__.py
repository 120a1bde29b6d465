"""The whole pipeline, measured from outside as a load test would: Bot API -> bot -> Bot API.

    python -m benchmarks.pipeline [--users 1000] [--rate 300] [--seconds 20]
                                  [--steady-users 3000] [--memory-users 10000]
                                  [--modes new,returning,steady,memory] [--bots ours,bare]
                                  [--variant NAME=COMMAND] [--quick] [--json PATH]
                                  [--profile DIR [--profile-gil]]

A Bot API sink of its own (benchmarks/sink.py) serves getUpdates by long polling and records,
for every update, when it was made available and when the first reply for that user's chat came
back. Two bots are run against it one after the other, each as its own OS process on the same
machine and under the same load:

* ours   the real ``python bot.py`` (SQLite in a temporary file, polling, every middleware), with
         RATE_LIMIT=0: the per-user throttle would otherwise drop a load test's users;
* bare   benchmarks/bare_bot.py: aiogram's Dispatcher with one /start handler and a fixed text.

Modes (in this order for each bot):

* new        a burst of --users users the bot has never seen, each sending /start at once;
* returning  the same users again (they exist in the bot's database now);
* steady     --rate updates/s for --seconds, over --steady-users users (user i % M), released
             on a schedule; the first --users of them are known by then, the rest are new;
* memory     a fresh process of the bot (earlier modes' high water would hide it), then
             one unmeasured wave of other new users (what the first requests allocate once),
             then --memory-users new users in waves of --wave (each wave sent when the one
             before is answered, so little is in flight): the RSS a client leaves behind.

Burst updates/s = updates / (last first-reply - arrival). Latency = first reply - arrival.
The sink and the load generator run in this process and share the machine's cores with the bot;
the numbers are the pipeline's on this machine, not the bot's alone.

--profile DIR attaches ``py-spy record`` to each bot during the new-users burst (or the modes
given by --profile-modes) and prints where the samples went (benchmarks/stacks.py). A profiled
run's timings are disturbed by the sampling: use an unprofiled run for the numbers.

--variant NAME=COMMAND runs one more bot with ours' environment, e.g. a patched copy
(``--variant fast="python /tmp/patched_bot.py"``): an A/B test of a change before making it.

The package: plan.py (constants, goals, the plan and the result records: the JSON's keys),
process.py (the bots' processes, /proc readings, py-spy), load.py (the modes, one bot's run),
report.py (tables, goals, notes), cli.py (arguments, the run, the JSON).
"""
