"""The engine room: a thin layer over SpiffWorkflow 3.2.0 — versions, steps, persistence, timers."""

from workflows import task_walk

task_walk.install()  # before any workflow runs, in the platform and in the benchmark alike
