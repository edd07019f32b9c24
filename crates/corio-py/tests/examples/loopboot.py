"""Run a program as __main__ on a chosen event loop: `python loopboot.py
TARGET PROGRAM.py`. The docs examples call asyncio.run() (or
asyncio.new_event_loop()) themselves, so the loop comes in through the
policy: corio.install() for corio, the target's policy otherwise. Every loop
the policy makes is counted and, at exit, its class names are written to the
file named by $LOOPBOOT_REPORT, so the runner can check the example really
ran on the target's loop."""

import asyncio
import atexit
import json
import os
import runpy
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir, os.pardir, "scripts"))
import looptarget  # noqa: E402

sys.path.pop(0)

made = []


def install(target):
    if target.name == "corio" and hasattr(target.module, "install"):
        target.module.install()
    else:
        asyncio.set_event_loop_policy(target.policy_class())
    policy = asyncio.get_event_loop_policy()
    inner = policy.new_event_loop

    def counting_new_event_loop():
        loop = inner()
        made.append(type(loop).__module__ + "." + type(loop).__qualname__)
        return loop

    try:
        policy.new_event_loop = counting_new_event_loop
    except (AttributeError, TypeError):
        # A policy that takes no attributes: ours, making the same loops.
        class Counting(asyncio.DefaultEventLoopPolicy):
            def new_event_loop(self):
                return counting_new_event_loop()

        asyncio.set_event_loop_policy(Counting())


def report():
    path = os.environ.get("LOOPBOOT_REPORT")
    if path:
        with open(path, "w") as f:
            json.dump(made, f)


def main():
    target = looptarget.load(sys.argv[1])
    program = sys.argv[2]
    install(target)
    atexit.register(report)
    sys.argv = [program] + sys.argv[3:]
    runpy.run_path(program, run_name="__main__")


if __name__ == "__main__":
    main()
